import type net from 'node:net';
import type tls from 'node:tls';
import type { Logger } from 'pino';
import type { Credentials, PhoneRequest, ProvisioningCore } from '../../provisioning/core.js';
import { parseCommand, quotePath, type LineEvent } from './command-line.js';
import { ControlChannel } from './control-channel.js';
import { plainAddress } from '../../domain/ip-subnet.js';
import { DataTransfers } from './data-transfers.js';
import { FileCommands } from './file-commands.js';

export interface SessionSettings {
  core: ProvisioningCore;
  logger: Logger;
  /** Set when TLS is configured: AUTH TLS is offered, and PROT P protects data connections. */
  secureContext: tls.SecureContext | null;
  implicitTls: boolean;
  passivePorts: { min: number; max: number };
  passiveAddress?: string;
  tenant?: string;
  idleTimeoutMs: number;
}

/** Accepted before login: what it takes to secure the channel and log in, and nothing that names a file. */
const BEFORE_LOGIN = new Set(['USER', 'PASS', 'AUTH', 'PBSZ', 'PROT', 'FEAT', 'SYST', 'QUIT', 'NOOP', 'OPTS']);
const MAX_FAILED_LOGINS = 3;
const FAILED_LOGIN_DELAY_MS = 300;
/** Unknown commands, overlong lines and commands refused before login; then the session is closed. */
const MAX_BAD_COMMANDS = 20;
/** Commands read ahead of the one running; beyond it reading pauses, so a flood cannot pile up. */
const MAX_QUEUED = 16;

type Handler = (arg: string) => Promise<void> | void;

/**
 * One FTP control connection: commands in order, one at a time, each turned into core calls. The
 * session only translates: tenant, credentials, paths and what may be written are the core's.
 */
export class FtpSession {
  private readonly channel: ControlChannel;
  private readonly ip: string;
  private user: string | null = null;
  private credentials: Extract<Credentials, { kind: 'password' }> | null = null;
  private tenant: string | undefined;
  private failedLogins = 0;
  private badCommands = 0;
  private prot: 'C' | 'P' = 'C';
  private readonly data: DataTransfers;
  private readonly files: FileCommands;
  private readonly queue: LineEvent[] = [];
  private running = false;
  private ended = false;
  private readonly handlers: Record<string, Handler>;
  readonly done: Promise<void>;
  private finish!: () => void;

  constructor(
    raw: net.Socket,
    private readonly s: SessionSettings,
  ) {
    this.done = new Promise((r) => (this.finish = r));
    this.ip = plainAddress(raw.remoteAddress);
    this.channel = new ControlChannel(raw, s.idleTimeoutMs, {
      onLine: (ev) => this.onLine(ev),
      onIdle: () => this.onIdle(),
      onClose: () => this.end(),
      onError: () => this.end(),
    }, s.implicitTls ? s.secureContext : null);
    this.data = new DataTransfers(s, {
      clientIp: this.ip,
      localAddress: this.channel.localAddress,
      reply: (code, text) => this.channel.reply(code, text),
      dataTls: () => (this.prot === 'P' ? s.secureContext : null),
    });
    this.files = new FileCommands({
      core: s.core,
      logger: s.logger,
      data: this.data,
      reply: (code, text) => this.channel.reply(code, text),
      request: (operation, target) => this.request(operation, target),
      who: () => ({ protocol: this.protocol, ip: this.ip, tenant: this.tenant }),
    });
    this.handlers = this.commandTable();
    this.channel.reply(220, 'polyprov FTP server ready');
  }

  private get protocol(): 'ftp' | 'ftps' {
    return this.channel.secure ? 'ftps' : 'ftp';
  }

  /** Closes the session from outside (server shutdown). */
  shutdown(): void {
    this.channel.reply(421, 'Server shutting down');
    this.channel.close();
    this.end();
  }

  private end() {
    if (this.ended) return;
    this.ended = true;
    this.data.close();
    this.finish();
  }

  private onLine(ev: LineEvent): void {
    // ABOR must reach a running transfer now, not after it: it is the one command read ahead.
    if (ev.kind === 'line' && this.data.busy && /^\s*ABOR\s*$/i.test(ev.text)) this.data.abort();
    this.queue.push(ev);
    // After AUTH the next bytes may be a TLS ClientHello: nothing more is read as text until it is
    // handled (pump starts reading again once the queue is empty).
    const auth = ev.kind === 'line' && parseCommand(ev.text)?.verb === 'AUTH';
    if (auth || this.queue.length >= MAX_QUEUED) this.channel.stopReading();
    void this.pump();
  }

  private async pump() {
    if (this.running) return;
    this.running = true;
    try {
      for (let ev = this.queue.shift(); ev && !this.ended; ev = this.queue.shift()) {
        await this.execute(ev);
        if (this.queue.length === 0 && !this.ended) this.channel.startReading();
      }
    } catch (err) {
      // One session's failure ends that session only.
      this.s.logger.error({ err, protocol: this.protocol, ip: this.ip, tenant: this.tenant }, 'ftp session failed');
      this.channel.reply(421, 'Internal error; closing the connection');
      this.channel.close();
      this.end();
    } finally {
      this.running = false;
    }
  }

  private async execute(ev: LineEvent): Promise<void> {
    if (ev.kind === 'too-long') return this.bad(500, 'Command line too long');
    const cmd = parseCommand(ev.text);
    if (!cmd) return this.bad(500, 'Syntax error, command unrecognized');
    const handler = this.handlers[cmd.verb];
    if (!handler) return this.bad(502, `Command ${cmd.verb} not implemented`);
    if (!this.credentials && !BEFORE_LOGIN.has(cmd.verb)) return this.bad(530, 'Please log in with USER and PASS');
    await handler(cmd.arg);
  }

  private bad(code: number, text: string) {
    this.channel.reply(code, text);
    if (++this.badCommands >= MAX_BAD_COMMANDS) {
      this.s.logger.info({ protocol: this.protocol, ip: this.ip }, 'ftp session closed after too many bad commands');
      this.channel.reply(421, 'Too many bad commands; closing the connection');
      this.channel.close();
      this.end();
    }
  }

  private onIdle() {
    // A long transfer keeps the control connection silent: only the data connection's own timeout counts then.
    if (this.data.busy) return;
    this.channel.reply(421, 'Idle timeout; closing the connection');
    this.channel.close();
    this.end();
  }

  private reply(code: number, text: string | readonly string[]) {
    this.channel.reply(code, text);
  }

  private request(operation: 'read' | 'write', target: string): PhoneRequest {
    return {
      protocol: this.protocol,
      operation,
      target,
      ip: this.ip,
      ...(this.credentials ? { credentials: this.credentials } : {}),
      ...(this.s.tenant ? { listenerTenant: this.s.tenant } : {}),
    };
  }

  private commandTable(): Record<string, Handler> {
    const notForPhones = () => this.reply(550, 'Not available: polyprov serves files, phones never change its tree');
    // Active mode (PORT/EPRT) has the server connect back to the client: phones sit behind NAT and
    // firewalls that drop such connections, and it lets a client aim the server at a third host.
    const noActive = () => this.reply(502, 'Active mode is not offered; use PASV or EPSV');
    const ok = (text: string) => () => this.reply(200, text);
    return {
      USER: (a) => this.userCommand(a),
      PASS: (a) => this.passCommand(a),
      AUTH: (a) => this.authCommand(a),
      PBSZ: (a) => this.pbszCommand(a),
      PROT: (a) => this.protCommand(a),
      FEAT: () => this.featCommand(),
      SYST: () => this.reply(215, 'UNIX Type: L8'),
      OPTS: (a) => this.optsCommand(a),
      NOOP: ok('NOOP ok'),
      QUIT: () => {
        this.reply(221, 'Goodbye');
        this.channel.close();
        this.end();
      },
      PWD: () => this.reply(257, `${quotePath(this.files.cwdShown)} is the current directory`),
      XPWD: () => this.reply(257, `${quotePath(this.files.cwdShown)} is the current directory`),
      CWD: (a) => this.files.cwd(a),
      XCWD: (a) => this.files.cwd(a),
      CDUP: () => this.files.cwd('..'),
      XCUP: () => this.files.cwd('..'),
      TYPE: (a) => (/^(A|A N|I|L 8)$/i.test(a.trim()) ? this.reply(200, `Type set to ${a.trim().toUpperCase()}`) : this.reply(504, 'Only TYPE A and I')),
      MODE: (a) => (a.trim().toUpperCase() === 'S' ? this.reply(200, 'Mode set to S') : this.reply(504, 'Only MODE S')),
      STRU: (a) => (a.trim().toUpperCase() === 'F' ? this.reply(200, 'Structure set to F') : this.reply(504, 'Only STRU F')),
      ALLO: () => this.reply(202, 'No storage allocation necessary'),
      PASV: () => this.data.open(false, ''),
      EPSV: (a) => this.data.open(true, a),
      PORT: noActive,
      EPRT: noActive,
      SIZE: (a) => this.files.size(a),
      MDTM: (a) => this.files.mdtm(a),
      MLST: (a) => this.files.mlst(a),
      REST: (a) => this.files.rest(a),
      RETR: (a) => this.files.retr(a),
      STOR: (a) => this.files.store(a, false),
      APPE: (a) => this.files.store(a, true),
      LIST: (a) => this.files.list(a, 'list'),
      NLST: (a) => this.files.list(a, 'nlst'),
      MLSD: (a) => this.files.list(a, 'mlsd'),
      // Reaches here only when no transfer was running (see onLine) or after it was cut.
      ABOR: () => this.reply(226, 'ABOR done'),
      DELE: notForPhones,
      RNFR: notForPhones,
      RNTO: notForPhones,
      MKD: notForPhones,
      XMKD: notForPhones,
      RMD: notForPhones,
      XRMD: notForPhones,
      STOU: notForPhones,
    };
  }

  // --- login and security -------------------------------------------------------------------

  private userCommand(arg: string) {
    this.user = arg;
    this.credentials = null;
    this.tenant = undefined;
    this.reply(331, 'Password required');
  }

  private async passCommand(arg: string) {
    if (this.credentials) return this.reply(230, 'Already logged in');
    if (this.user === null) return this.reply(503, 'Send USER first');
    const credentials = { kind: 'password' as const, username: this.user, password: arg };
    this.user = null;
    const login = await this.s.core.login({
      protocol: this.protocol,
      ip: this.ip,
      credentials,
      ...(this.s.tenant ? { listenerTenant: this.s.tenant } : {}),
    });
    if (login.ok) {
      this.credentials = credentials;
      this.tenant = login.tenant;
      return this.reply(230, 'Login successful');
    }
    this.failedLogins++;
    this.s.logger.info(
      { protocol: this.protocol, ip: this.ip, username: credentials.username.slice(0, 100), tenant: login.tenant, reason: login.message },
      'ftp login refused',
    );
    // Slows down guessing; the scrypt check itself runs once per password and process (core.ts).
    await new Promise((r) => setTimeout(r, FAILED_LOGIN_DELAY_MS));
    this.reply(530, 'Login incorrect');
    if (this.failedLogins >= MAX_FAILED_LOGINS) {
      this.reply(421, 'Too many failed logins; closing the connection');
      this.channel.close();
      this.end();
    }
  }

  private authCommand(arg: string) {
    const mech = arg.trim().toUpperCase();
    if (mech !== 'TLS' && mech !== 'SSL' && mech !== 'TLS-C') return this.reply(504, 'Only AUTH TLS');
    if (!this.s.secureContext) return this.reply(502, 'TLS is not configured on this server');
    if (this.channel.secure) return this.reply(503, 'The control connection is already protected');
    this.reply(234, 'Proceed with TLS negotiation');
    // Synchronously, before anything else is read: the client's next bytes are its ClientHello.
    this.channel.upgrade(this.s.secureContext);
    // RFC 4217: a new security context means a new login.
    this.user = null;
    this.credentials = null;
    this.tenant = undefined;
    this.prot = 'C';
  }

  private pbszCommand(arg: string) {
    if (!this.channel.secure) return this.reply(503, 'PBSZ needs a protected control connection (AUTH TLS)');
    if (!/^\d+$/.test(arg.trim())) return this.reply(501, 'PBSZ takes a number');
    this.reply(200, 'PBSZ=0');
  }

  private protCommand(arg: string) {
    if (!this.channel.secure) return this.reply(503, 'PROT needs a protected control connection (AUTH TLS)');
    const level = arg.trim().toUpperCase();
    if (level === 'C' || level === 'P') {
      this.prot = level;
      return this.reply(200, `Protection level set to ${level}`);
    }
    if (level === 'S' || level === 'E') return this.reply(536, 'Only PROT C and P');
    this.reply(504, 'Unknown protection level');
  }

  private featCommand() {
    const tlsFeatures = this.s.secureContext ? [...(this.s.implicitTls ? [] : ['AUTH TLS']), 'PBSZ', 'PROT'] : [];
    this.reply(211, ['Features:', ...tlsFeatures, 'EPSV', 'PASV', 'SIZE', 'MDTM', 'REST STREAM', 'UTF8', 'TVFS', 'MLST type*;size*;modify*;', 'End']);
  }

  private optsCommand(arg: string) {
    const [name = '', value = ''] = arg.trim().split(/\s+/, 2);
    if (name.toUpperCase() === 'UTF8') return value === '' || value.toUpperCase() === 'ON' ? this.reply(200, 'Always in UTF8 mode') : this.reply(504, 'UTF8 is always on');
    // The facts offered are always all three; the client's choice does not change them.
    if (name.toUpperCase() === 'MLST') return this.reply(200, 'MLST OPTS type;size;modify;');
    this.reply(501, 'Option not understood');
  }
}
