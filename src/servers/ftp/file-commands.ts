import type { Logger } from 'pino';
import type { DirectoryEntry, PhoneRequest, ProvisioningCore, Refusal } from '../../provisioning/core.js';
import type { DataTransfers } from './data-transfers.js';
import { coreTarget, displayPath, resolveFtpPath, ROOT, splitParent, type FtpPath } from './ftp-path.js';
import { formatListing, mlsxFacts, timeVal } from './list-format.js';
import { refusalReply } from './refusal-reply.js';
import { sendOverData } from './send-over-data.js';

/** What the file commands need of their session. */
export interface FileCommandContext {
  core: ProvisioningCore;
  logger: Logger;
  data: DataTransfers;
  reply(code: number, text: string | readonly string[]): void;
  /** A core request from this session: protocol, client address, credentials, listener tenant. */
  request(operation: 'read' | 'write', target: string): PhoneRequest;
  /** Who is asking, for log lines. */
  who(): { protocol: string; ip: string; tenant: string | undefined };
}

/**
 * The commands that name files (CWD, SIZE, MDTM, MLST, REST, RETR, STOR, APPE, LIST, NLST, MLSD),
 * each turned into core calls. Paths resolve against the working directory here; whether a path
 * may be read or written is the core's to say.
 */
export class FileCommands {
  private cwdPath: FtpPath = ROOT;
  private restOffset: number | null = null;

  constructor(private readonly c: FileCommandContext) {}

  /** The working directory, as PWD shows it. */
  get cwdShown(): string {
    return displayPath(this.cwdPath);
  }

  private path(arg: string): FtpPath {
    return resolveFtpPath(this.cwdPath, arg);
  }

  private request(operation: 'read' | 'write', path: FtpPath): PhoneRequest {
    return this.c.request(operation, coreTarget(path));
  }

  private refuse(command: string, path: FtpPath, r: Refusal) {
    const { code, text } = this.logRefusal(command, path, r);
    this.c.reply(code, text);
  }

  /** One log line per refusal (not-found only at debug: phones probe for optional files all the time). */
  private logRefusal(command: string, path: FtpPath, r: Refusal): { code: number; text: string } {
    const who = this.c.who();
    const log = { ...who, command, path: displayPath(path).slice(0, 300), tenant: r.tenant ?? who.tenant, reason: r.message };
    if (r.problem === 'not-found') this.c.logger.debug(log, 'ftp request refused');
    else this.c.logger.info(log, 'ftp request refused');
    return refusalReply(r);
  }

  async cwd(arg: string) {
    const path = this.path(arg);
    const found = await this.c.core.findDirectory(this.request('read', path));
    if (!found.ok) return this.refuse('CWD', path, found);
    this.cwdPath = path;
    this.c.reply(250, `Directory changed to ${displayPath(path)}`);
  }

  async size(arg: string) {
    const path = this.path(arg);
    const answer = await this.c.core.handle(this.request('read', path));
    if (!answer.ok) return this.refuse('SIZE', path, answer);
    const r = answer.resource;
    this.c.reply(213, String(r.kind === 'generated' ? r.body.length : r.size));
  }

  /** An entry as its directory lists it, for facts the read answer does not carry (modification time). */
  private async entryOf(path: FtpPath): Promise<DirectoryEntry | Refusal> {
    const split = splitParent(path);
    if (!split) return { kind: 'dir', name: '/', size: 0, modified: new Date() };
    const listing = await this.c.core.list(this.request('read', split.parent));
    if (!listing.ok) return listing;
    return listing.entries.find((e) => e.name === split.name) ?? { ok: false, problem: 'not-found', message: `${displayPath(path)} does not exist`, tenant: listing.tenant };
  }

  async mdtm(arg: string) {
    const path = this.path(arg);
    const entry = await this.entryOf(path);
    if ('ok' in entry) return this.refuse('MDTM', path, entry);
    if (entry.kind !== 'file') return this.c.reply(550, `${displayPath(path)} is not a file`);
    this.c.reply(213, timeVal(entry.modified));
  }

  async mlst(arg: string) {
    const path = this.path(arg);
    const entry = await this.entryOf(path);
    if ('ok' in entry) return this.refuse('MLST', path, entry);
    this.c.reply(250, [`Listing ${displayPath(path)}`, `${mlsxFacts(entry)} ${displayPath(path)}`, 'End']);
  }

  /**
   * The offset of the last REST, for the transfer that uses it; any transfer clears it. Clients
   * send REST before or after PASV/EPSV, so commands in between leave it alone.
   */
  private takeRest(): number | null {
    const rest = this.restOffset;
    this.restOffset = null;
    return rest;
  }

  rest(arg: string) {
    if (!/^\d{1,15}$/.test(arg.trim())) return this.c.reply(501, 'REST takes a byte offset');
    this.restOffset = Number(arg.trim());
    this.c.reply(350, `Restarting at ${this.restOffset}; send RETR or STOR`);
  }

  async retr(arg: string) {
    const path = this.path(arg);
    const rest = this.takeRest() ?? 0;
    const answer = await this.c.core.handle(this.request('read', path));
    if (!answer.ok) {
      this.c.data.drop();
      return this.refuse('RETR', path, answer);
    }
    const res = answer.resource;
    const size = res.kind === 'generated' ? res.body.length : res.size;
    if (rest > size) {
      this.c.data.drop();
      return this.c.reply(554, `Restart offset ${rest} is beyond the end of the file (${size} bytes)`);
    }
    // A rotated log no longer holds its first bytes: what is held is what can be sent.
    const start = res.kind === 'stream' ? Math.max(rest, Math.min(res.heldFrom ?? 0, size)) : rest;
    await this.c.data.run(`Opening data connection for ${displayPath(path)} (${size - start} bytes)`, async (data, cut) => {
      const body = start >= size ? null : res.kind === 'generated' ? res.body.subarray(start) : { stream: res.open({ start, end: size - 1 }) };
      const outcome = await sendOverData(data, body);
      if (outcome === 'sent') return { code: 226, text: 'Transfer complete' };
      if (cut()) return { code: 426, text: 'Transfer aborted' };
      if (outcome === 'source-failed') {
        this.c.logger.error({ ...this.c.who(), tenant: answer.tenant, path: answer.path }, 'ftp download failed reading its source');
        return { code: 451, text: 'Local error reading the file' };
      }
      return { code: 426, text: 'Data connection closed; transfer aborted' };
    });
  }

  async store(arg: string, append: boolean) {
    const path = this.path(arg);
    // APPE always appends: a REST before it is dropped.
    const rest = this.takeRest();
    const offset = append ? null : rest;
    const command = append ? 'APPE' : 'STOR';
    await this.c.data.run(`Ready to receive ${displayPath(path)}`, async (data, cut) => {
      let broken = false;
      data.once('error', () => (broken = true));
      // Without REST, a log write appends (the core's rule); REST n writes from byte n.
      const req = { ...this.request('write', path), ...(offset !== null ? { offset } : {}) };
      const stored = await this.c.core.upload(req, data);
      // Stored even when malformed (the core logs that): the phone's bytes are never lost.
      if (stored.ok) return { code: 226, text: stored.problem ? `Stored; note: ${stored.problem}` : 'Transfer complete' };
      const interrupted = broken || (data.destroyed && !data.readableEnded);
      // Refused before its end: the rest of the body is not wanted.
      data.destroy();
      if (cut()) return { code: 426, text: 'Transfer aborted; nothing stored' };
      // The core logged the interruption; the phone will send it again.
      if (interrupted) return { code: 426, text: 'Data connection broken; nothing stored' };
      return this.logRefusal(command, path, stored);
    });
  }

  async list(arg: string, style: 'list' | 'nlst' | 'mlsd') {
    this.takeRest();
    const path = this.path(stripListOptions(arg));
    const command = style.toUpperCase();
    let entries: DirectoryEntry[];
    const listing = await this.c.core.list(this.request('read', path));
    if (listing.ok) entries = listing.entries;
    else {
      // LIST/NLST of a file lists that file (as ls does); MLSD is for directories only (RFC 3659).
      const entry = style !== 'mlsd' && listing.problem === 'not-found' ? await this.entryOf(path) : listing;
      if ('ok' in entry || entry.kind !== 'file') {
        this.c.data.drop();
        return this.refuse(command, path, 'ok' in entry ? entry : listing);
      }
      entries = [entry];
    }
    const body = formatListing(entries, style);
    await this.c.data.run(`Here comes the listing of ${displayPath(path)}`, async (data, cut) => {
      const outcome = await sendOverData(data, body);
      if (outcome === 'sent') return { code: 226, text: 'Listing sent' };
      return { code: 426, text: cut() ? 'Transfer aborted' : 'Data connection closed; listing aborted' };
    });
  }
}

/** `LIST -la dir`: options are ls's, and say nothing polyprov would change; only the path counts. */
function stripListOptions(arg: string): string {
  return arg.replace(/^(\s*-[A-Za-z]+)+\s*/, '');
}
