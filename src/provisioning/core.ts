import { createHash } from 'node:crypto';
import type { DigestAnswer } from '../domain/http-authorization.js';
import { longestMatch } from '../domain/ip-subnet.js';
import { classifyPhonePath, PHONE_DIRECTORIES, undoubledImagePath, type PhonePath } from '../domain/phone-path.js';
import { BOOTSTRAP_SWITCH } from '../domain/bootstrap-policy.js';
import { secretsIn } from '../domain/secret-parameters.js';
import { parseRequestPath } from '../domain/request-path.js';
import { parseUserAgent, type PhoneUserAgent } from '../domain/user-agent.js';
import type { Readable } from 'node:stream';
import type { BlobStore, ByteRange } from '../blobs/blob-store.js';
import type { LogFileStore } from '../blobs/log-file-store.js';
import { contentTypeFor } from '../domain/content-type.js';
import { filterOverrideFile, isOverrideAllowed } from '../domain/override-policy.js';
import type { Store, Tenant } from '../store/store.js';
import { DIGEST_REALM, expectedDigestResponse, sameHex, verifyPassword, type DigestNonces } from './credentials.js';
import type { InventoryRecorder } from './inventory-recorder.js';
import type { Logger } from './logger.js';
import { appendToLog, currentLogSource, LogRefused } from './phone-logs.js';
import { DEFAULT_UPLOAD_LIMITS, limitFor, readLimited, storeWholeFile, UploadTooLarge, type UploadLimits } from './phone-uploads.js';
import { bootstrapConfig, bootstrapMaster, defaultMaster, deviceConfig, deviceMaster, deviceNeedsOwnMaster, folderMaster, masterForVersion } from './render-files.js';
import { firmwareChoice, firmwareFolder, firmwarePath, runningVersion, type Requester } from './firmware-files.js';
import { UpgradeLoopDetector } from './upgrade-loops.js';
import { FIRMWARE_LOOP, FIRMWARE_TARGET } from '../domain/firmware-policy.js';
import { renderPhoneImagesManifest } from '../domain/phone-images-manifest.js';
import { hostWithoutPort, TenantIndex, tenantsBySubnet } from './tenant-index.js';
import { directoryExists, listDirectory } from './list-directory.js';
import { BlobCache, type BlobCacheLimits } from './blob-cache.js';
import { TenantSnapshot, type Rendered } from './tenant-snapshot.js';

export type Protocol = 'http' | 'https' | 'ftp' | 'ftps' | 'tftp';

export type Credentials =
  | { kind: 'password'; username: string; password: string }
  | { kind: 'digest'; method: string; answer: DigestAnswer };

/** One phone request, as any protocol edge sees it. */
export interface PhoneRequest {
  protocol: Protocol;
  /** GET/HEAD/RETR/RRQ read; PUT/STOR/APPE/WRQ write. */
  operation: 'read' | 'write';
  /** The raw request target (path, possibly percent-encoded). */
  target: string;
  host?: string;
  userAgent?: string;
  ip: string;
  credentials?: Credentials;
  /** Common name of a presented client certificate, if any. */
  clientCertCn?: string;
  /** For log writes: which bytes of the log the body holds (`bytes START-END/TOTAL`), if said. */
  contentRange?: string;
  /**
   * For writes whose body length is not known up front (FTP `REST n` + STOR, say): the byte of the
   * file the body starts at. Only logs can be written from an offset above 0.
   */
  offset?: number;
  /** Slug of the tenant a listener is bound to (a TFTP or FTP port of one customer's). */
  listenerTenant?: string;
}

/** One entry of a directory listing (FTP LIST, NLST, MLSD). */
export interface DirectoryEntry {
  name: string;
  kind: 'file' | 'dir';
  size: number;
  modified: Date;
}

export type Listing = { ok: true; tenant: string; path: string; entries: DirectoryEntry[] } | Refusal;

/** A session login (FTP USER/PASS): which tenant the credentials open. */
export type Login = { ok: true; tenant: string } | Refusal;

/** Why a request gets no resource; each edge maps these to its own status codes. */
export type Problem =
  | 'bad-path'
  | 'bad-request'
  | 'too-long'
  | 'unauthenticated'
  | 'forbidden'
  | 'not-found'
  | 'not-allowed'
  | 'conflict'
  | 'not-implemented'
  | 'too-large';

/**
 * What a read gets: bytes in memory (generated files) or a stream the edge opens, for the whole
 * resource or one byte range of it, so no edge needs to know where bytes are kept.
 */
export type Resource =
  | { kind: 'generated'; body: Buffer; etag: string; contentType: string }
  | {
      kind: 'stream';
      size: number;
      etag: string;
      contentType: string;
      open(range?: ByteRange): Readable;
      /**
       * The first byte still held, when bytes below it are gone (a rotated log: `size` is the
       * phone's view, see provisioning/phone-logs.ts); 0 or absent when every byte is held.
       */
      heldFrom?: number;
    };

export type Refusal = { ok: false; problem: Problem; message: string; staleNonce?: boolean; tenant?: string };

export type Answer = { ok: true; resource: Resource; tenant: string; path: string } | Refusal;

/** `problem` is set when the stored content looked wrong: it is kept all the same. */
export type UploadAnswer =
  | { ok: true; tenant: string; path: string; /** 0 for logs, which have no versions */ version: number; created: boolean; problem: string | null }
  | Refusal;

export interface CoreDeps {
  store: Store;
  blobs: BlobStore;
  logger: Logger;
  inventory: InventoryRecorder;
  nonces: DigestNonces;
  logFiles: LogFileStore;
  uploadLimits?: UploadLimits;
  /** Recently served blobs kept in memory (none when absent or 0 bytes). */
  blobCache?: BlobCacheLimits;
}

const MAX_VERIFIED = 10_000;

/** Whether the tenant moves phones from plain HTTP to HTTPS (domain/bootstrap-policy.ts). */
function bootstrapping(snap: TenantSnapshot): boolean {
  return snap.layerSetting('tenant', snap.tenant.id, BOOTSTRAP_SWITCH) === '1';
}

/** The login every Poly phone leaves the factory with (FTP was the default protocol). */
export const FACTORY_LOGIN = 'PlcmSpIp';
const FACTORY_HA1 = createHash('md5').update(`${FACTORY_LOGIN}:${DIGEST_REALM}:${FACTORY_LOGIN}`).digest('hex');

/** Files larger than this are not scanned for secrets (configuration files are far smaller). */
const MAX_SECRET_SCAN = 8 * 1024 * 1024;

type Chosen = { tenant: Tenant; segments: string[]; conflict?: string };

/**
 * The provisioning core: for one request, which tenant, which device, and what the path means.
 * Protocol edges translate their wire format into a PhoneRequest and an Answer back; nothing here
 * knows about HTTP status codes, TFTP opcodes or FTP replies.
 */
export class ProvisioningCore {
  private index = new TenantIndex([]);
  private indexRevision = -1;
  private revisionRead: Promise<number> | undefined;
  private readonly loops = new UpgradeLoopDetector();
  private snapshots = new Map<number, TenantSnapshot>();
  private loading = new Map<number, Promise<TenantSnapshot>>();
  /**
   * Basic verifications, right and wrong, by (tenant, stored hash, password): scrypt then runs once
   * per password per process, not per request; concurrent first requests share one run, and a
   * client repeating a wrong password cannot keep the thread pool busy.
   */
  private verified = new Map<string, Promise<boolean>>();
  private oddAgents = new Set<string>();

  private readonly limits: UploadLimits;
  private readonly blobCache: BlobCache | undefined;

  constructor(private readonly deps: CoreDeps) {
    this.limits = deps.uploadLimits ?? DEFAULT_UPLOAD_LIMITS;
    this.blobCache = deps.blobCache && deps.blobCache.totalBytes > 0 ? new BlobCache(deps.blobs, deps.blobCache, deps.logger) : undefined;
  }

  issueNonce(): string {
    return this.deps.nonces.issue();
  }

  /** A read (GET, HEAD, RETR, RRQ): what the path means for this tenant and device. */
  handle(req: PhoneRequest): Promise<Answer> {
    return this.counted(req, this.readAnswer(req));
  }

  /**
   * Counts the answered request for the dashboard, in memory (the inventory recorder flushes it).
   * It counts for its tenant only when the answer names one, which it does once the client has
   * authenticated: otherwise anyone could add failures to any tenant's chart. Earlier refusals
   * (bad path, no or wrong credentials) and failures of the core count under no tenant.
   */
  private counted<T extends Answer | UploadAnswer>(req: PhoneRequest, answer: Promise<T>): Promise<T> {
    const count = (ok: boolean, slug: string | undefined) => {
      const tenant = slug === undefined ? undefined : this.index.bySlug.get(slug);
      this.deps.inventory.requests.count(tenant?.id ?? null, req.protocol, ok);
    };
    return answer.then(
      (a) => {
        count(a.ok, a.tenant);
        return a;
      },
      (err: unknown) => {
        count(false, undefined);
        throw err;
      },
    );
  }

  private readAnswer(req: PhoneRequest): Promise<Answer> {
    // Only TFTP, and plain HTTP while a tenant bootstraps phones to HTTPS, pay for the secrets check.
    if (req.protocol === 'tftp') return this.answer(req).then((a) => this.withoutSecrets(req, a));
    if (req.protocol === 'http') return this.answer(req).then((a) => this.withoutSecretsOverHttp(req, a));
    return this.answer(req);
  }

  /** A tenant bootstrapping phones to HTTPS sends no file holding secrets over plain HTTP. */
  private async withoutSecretsOverHttp(req: PhoneRequest, answer: Answer): Promise<Answer> {
    if (!answer.ok || answer.path.startsWith(`${PHONE_DIRECTORIES.log}/`)) return answer;
    const tenant = this.index.bySlug.get(answer.tenant);
    // Stored files served from the blob cache are 'generated' too: every answer is scanned.
    if (!tenant || !bootstrapping(await this.snapshot(tenant))) return answer;
    const secrets = await this.secretsOf(answer.path, answer.resource);
    if (secrets.length === 0) return answer;
    const message = `${answer.path} holds secrets (${secrets.slice(0, 3).join(', ')}${secrets.length > 3 ? ', …' : ''}); tenant "${tenant.slug}" moves phones to HTTPS and sends no secrets over plain HTTP: fetch it over HTTPS`;
    this.deps.logger.warn({ tenant: tenant.slug, path: answer.path, ip: req.ip, secrets }, 'refused over plain HTTP: the file holds secrets');
    return { ok: false, problem: 'forbidden', message, tenant: tenant.slug };
  }

  /** Over TFTP, a file that holds secrets is refused unless the tenant allows sending them. */
  private async withoutSecrets(req: PhoneRequest, answer: Answer): Promise<Answer> {
    if (!answer.ok) return answer;
    const tenant = this.index.bySlug.get(answer.tenant);
    if (!tenant || tenant.tftpSecrets || answer.path.startsWith(`${PHONE_DIRECTORIES.log}/`)) return answer;
    const secrets = await this.secretsOf(answer.path, answer.resource);
    if (secrets.length === 0) return answer;
    const message = `${answer.path} holds secrets (${secrets.slice(0, 3).join(', ')}${secrets.length > 3 ? ', …' : ''}); tenant "${tenant.slug}" does not send them over TFTP, which is unencrypted and unauthenticated (allow it with: polyprov tenant set ${tenant.slug} --tftp-secrets)`;
    this.deps.logger.warn({ tenant: tenant.slug, path: answer.path, ip: req.ip, secrets }, 'refused over TFTP: the file holds secrets');
    return { ok: false, problem: 'forbidden', message, tenant: tenant.slug };
  }

  private secretScans = new Map<string, Promise<string[]>>();

  /** Secret parameters a configuration file sets; scans of stored files are cached by content. */
  private async secretsOf(path: string, res: Resource): Promise<string[]> {
    // Configuration files only: a firmware image held in memory is not text to scan.
    if (!/\.(cfg|xml)$/i.test(path)) return [];
    if (res.kind === 'generated') return secretsIn(res.body.toString('utf8'));
    if (res.size > MAX_SECRET_SCAN) return [];
    let scan = this.secretScans.get(res.etag);
    if (!scan) {
      if (this.secretScans.size >= 1000) this.secretScans.clear();
      scan = (async () => {
        const chunks: Buffer[] = [];
        for await (const c of res.open()) chunks.push(c as Buffer);
        return secretsIn(Buffer.concat(chunks).toString('utf8'));
      })();
      this.secretScans.set(res.etag, scan);
      scan.catch(() => this.secretScans.delete(res.etag));
    }
    return scan;
  }

  private async answer(req: PhoneRequest): Promise<Answer> {
    const who = await this.identify(req);
    if ('problem' in who) return who;
    const { snap, ua, phonePath } = who;
    if (req.operation === 'write') return refuseWrite(snap.tenant.slug, phonePath);
    if (phonePath.kind === 'upload' && phonePath.category === 'log') {
      const log = await this.deps.store.getPhoneLog(snap.tenant.id, phonePath.path);
      if (log) {
        // Usually the current file; after a crash cut a rotation, the segment holding its bytes.
        const name = await currentLogSource(this.deps.logFiles, log);
        // The phone's view: bytes rotated away still count (provisioning/phone-logs.ts).
        const size = log.base + log.length;
        return {
          ok: true,
          tenant: snap.tenant.slug,
          path: log.path,
          resource: {
            kind: 'stream',
            size,
            // The length names the content: a log only ever grows.
            etag: `"log-${size}-${Date.parse(log.updatedAt).toString(36)}"`,
            contentType: contentTypeFor(log.path),
            heldFrom: log.base,
            open: (range) => {
              const r = range ?? { start: log.base, end: size - 1 };
              return this.deps.logFiles.read(name, { start: r.start - log.base, end: r.end - log.base });
            },
          },
        };
      }
    } else if (phonePath.kind === 'upload') {
      const up = await this.deps.store.latestPhoneUpload(snap.tenant.id, phonePath.path);
      if (up) {
        const filtered = phonePath.category === 'override' ? await this.strippedOverride(snap.tenant, up.blobKey, up.path) : null;
        return {
          ok: true,
          tenant: snap.tenant.slug,
          path: up.path,
          resource: filtered ?? this.blobResource(up.blobKey, up.size, contentTypeFor(up.path)),
        };
      }
    }
    return this.read(snap, phonePath, ua, req);
  }

  /**
   * A login without a file (FTP PASS): checks the credentials as every later request will, so a
   * session is refused at once rather than on its first transfer.
   */
  async login(req: Omit<PhoneRequest, 'operation' | 'target'>): Promise<Login> {
    const admitted = await this.admit({ ...req, operation: 'read', target: '/' });
    return 'problem' in admitted ? admitted : { ok: true, tenant: admitted.snap.tenant.slug };
  }

  /**
   * Whether a directory exists (FTP CWD), without listing it: phones change into `logs/` before
   * every upload, and a listing there reads every log of the tenant.
   */
  async findDirectory(req: PhoneRequest): Promise<{ ok: true; tenant: string; path: string } | Refusal> {
    const admitted = await this.admit(req);
    if ('problem' in admitted) return admitted;
    const { snap, segments } = admitted;
    const dir = segments.join('/');
    return directoryExists(snap, dir) ? { ok: true, tenant: snap.tenant.slug, path: dir } : notFound(snap.tenant.slug, dir || '/');
  }

  /** What exists in a directory of the tenant's tree (`/`, `/logs`, a folder of files). */
  async list(req: PhoneRequest): Promise<Listing> {
    const admitted = await this.admit(req);
    if ('problem' in admitted) return admitted;
    const { snap, segments } = admitted;
    const dir = segments.join('/');
    const entries = await listDirectory(this.deps.store, snap, dir);
    if (!entries) return notFound(snap.tenant.slug, dir || '/');
    return { ok: true, tenant: snap.tenant.slug, path: dir, entries };
  }

  /** A write (PUT, STOR, WRQ) of `body`: stored as the phone's own file, or refused with a reason. */
  upload(req: PhoneRequest, body: Readable, declaredLength?: number): Promise<UploadAnswer> {
    return this.counted(req, this.storeUpload(req, body, declaredLength));
  }

  private async storeUpload(req: PhoneRequest, body: Readable, declaredLength?: number): Promise<UploadAnswer> {
    const who = await this.identify(req);
    if ('problem' in who) return who;
    const { snap, ua, phonePath } = who;
    const slug = snap.tenant.slug;
    if (phonePath.kind !== 'upload') return refuseWrite(slug, phonePath);
    const limit = limitFor(phonePath.category, this.limits);
    if (limit === undefined) {
      return { ok: false, problem: 'not-implemented', message: `polyprov does not store ${phonePath.category} uploads yet`, tenant: slug };
    }
    // A phone writes only its own files: the MAC it proves (UA serial, device certificate) must be the path's.
    const claimed = [ua?.mac, macOf(req.clientCertCn)].filter((m): m is string => !!m);
    if (claimed.some((m) => m !== phonePath.mac)) {
      this.deps.logger.warn({ tenant: slug, path: phonePath.path, claimed, ip: req.ip }, "refused an upload to another device's file");
      return { ok: false, problem: 'forbidden', message: `this phone may not write ${phonePath.mac}'s files`, tenant: slug };
    }
    if (req.offset !== undefined && req.offset > 0 && phonePath.category !== 'log') {
      return { ok: false, problem: 'bad-request', message: `${phonePath.category} uploads are whole files: they cannot start at byte ${req.offset}`, tenant: slug };
    }
    if (declaredLength !== undefined && declaredLength > limit) {
      return { ok: false, problem: 'too-large', message: `${phonePath.category} uploads are limited to ${limit} bytes`, tenant: slug };
    }
    try {
      // Every kind is small enough to hold whole (see UploadLimits), so the body is read once.
      const data = await readLimited(body, limit);
      const target = { tenantId: snap.tenant.id, mac: phonePath.mac, path: phonePath.path };
      if (phonePath.category === 'log') {
        // An offset (FTP REST) says where the body goes, as a Content-Range would.
        const range = req.offset !== undefined && data.length > 0 ? `bytes ${req.offset}-${req.offset + data.length - 1}/*` : req.contentRange;
        const length = await appendToLog(this.deps, target, data, range, snap.tenant);
        return { ok: true, tenant: slug, path: phonePath.path, version: 0, created: length.before === 0 && length.after > 0, problem: null };
      }
      const stored = await storeWholeFile(this.deps, target, data);
      if (stored.problem) this.deps.logger.warn({ tenant: slug, path: stored.path, version: stored.version, problem: stored.problem }, 'stored a malformed upload');
      return { ok: true, tenant: slug, path: stored.path, version: stored.version, created: stored.version === 1, problem: stored.problem };
    } catch (err) {
      if (err instanceof LogRefused) {
        return { ok: false, problem: err.reason === 'gap' || err.reason === 'overlap-mismatch' ? 'conflict' : 'bad-request', message: err.message, tenant: slug };
      }
      if (err instanceof UploadTooLarge) {
        return { ok: false, problem: 'too-large', message: `${phonePath.category} uploads are limited to ${limit} bytes`, tenant: slug };
      }
      if (body.destroyed && !body.readableEnded) {
        // The client went away mid-body (or was cut off as idle): its phone will retry; nothing was stored.
        this.deps.logger.info({ tenant: slug, path: phonePath.path, ip: req.ip }, 'upload interrupted; nothing stored');
        return { ok: false, problem: 'bad-request', message: 'upload interrupted before its end: nothing stored', tenant: slug };
      }
      throw err;
    }
  }

  /** Path, tenant, credentials: the steps every request goes through first. */
  private async admit(req: PhoneRequest): Promise<{ snap: TenantSnapshot; segments: string[] } | Refusal> {
    const parsed = parseRequestPath(req.target);
    if (!parsed.ok) return { ok: false, problem: parsed.problem, message: parsed.reason };

    await this.refresh();
    const chosen = this.chooseTenant(req, parsed.segments);
    if ('problem' in chosen) return chosen;
    const { tenant, segments, conflict } = chosen;
    const auth = await this.authenticate(tenant, req);
    if (auth !== true) return auth;
    // Said only to a client that proved it belongs to the tenant, so tenant names never leak.
    if (conflict) return { ok: false, problem: 'forbidden', message: conflict, tenant: tenant.slug };
    return { snap: await this.snapshot(tenant), segments };
  }

  /** Admission, then what the path means and which device asks. */
  private async identify(req: PhoneRequest): Promise<{ snap: TenantSnapshot; ua: PhoneUserAgent | null; phonePath: PhonePath } | Refusal> {
    const admitted = await this.admit(req);
    if ('problem' in admitted) return admitted;
    const { snap, segments } = admitted;
    const ua = this.userAgentOf(req);
    const phonePath = classifyPhonePath(segments);
    if (req.protocol === 'tftp') {
      const refused = this.siteRefusesTftp(snap, req, phonePath);
      if (refused) return refused;
    }
    this.noteSighting(snap.tenant, req, ua, phonePath);
    return { snap, ua, phonePath };
  }

  /** A device placed in a site with a TFTP allow-list may use TFTP only from those subnets. */
  private siteRefusesTftp(snap: TenantSnapshot, req: PhoneRequest, p: PhonePath): Refusal | undefined {
    const mac = p.mac ?? this.deps.inventory.macForIp(snap.tenant.id, req.ip);
    const device = mac ? snap.devicesByMac.get(mac) : undefined;
    const subnets = device?.siteId != null ? snap.siteTftpSubnets.get(device.siteId) : undefined;
    if (!subnets || longestMatch(subnets, req.ip) >= 0) return undefined;
    const site = snap.sitesById.get(device!.siteId!)!;
    this.deps.logger.warn({ tenant: snap.tenant.slug, site: site.slug, mac, ip: req.ip }, "refused over TFTP: client outside its site's subnets");
    return { ok: false, problem: 'forbidden', message: `${req.ip} is not in site "${site.slug}"'s TFTP subnets`, tenant: snap.tenant.slug };
  }

  private read(snap: TenantSnapshot, p: PhonePath, ua: PhoneUserAgent | null, req: PhoneRequest): Answer {
    const slug = snap.tenant.slug;
    const found = (r: Rendered, path: string): Answer => ({
      ok: true,
      tenant: slug,
      path,
      resource: { kind: 'generated', body: r.body, etag: r.etag, contentType: 'application/xml' },
    });
    switch (p.kind) {
      case 'master': {
        const name = `${p.mac ?? '000000000000'}.cfg`;
        const who = requester(snap, p.mac, ua);
        const choice = firmwareChoice(snap, who);
        if (req.protocol === 'http' && bootstrapping(snap)) {
          // 404 for <mac>.cfg sends the phone on to the shared bootstrap master.
          return p.mac === null ? found(bootstrapMaster(snap), name) : notFound(slug, name);
        }
        if (choice?.held) {
          this.noteHeld(snap, who, choice.held);
          return found(masterForVersion(snap, choice.version), name);
        }
        if (p.mac === null) return found(defaultMaster(snap), name);
        // 404 sends the phone on to 000000000000.cfg, which is what most devices should read.
        if (!deviceNeedsOwnMaster(snap, who.device)) return notFound(slug, name);
        return found(deviceMaster(snap, who.device), name);
      }
      case 'device-config': {
        const device = snap.devicesByMac.get(p.mac);
        if (!device && snap.tenant.unknownDevices === 'refuse') {
          return {
            ok: false,
            problem: 'forbidden',
            message: `device ${p.mac} is not registered in tenant "${slug}", which refuses unknown devices`,
            tenant: slug,
          };
        }
        const model = (ua?.model ?? device?.model) || undefined;
        if (req.protocol === 'http' && bootstrapping(snap)) return found(bootstrapConfig(snap, p.mac, device, model), p.mac + '-polyprov.cfg');
        return found(deviceConfig(snap, p.mac, device, model), p.mac + '-polyprov.cfg');
      }
      case 'upload':
      case 'file': {
        const file = snap.filesByPath.get(p.path) ?? this.imageFallback(snap, p.path);
        if (!file) return this.firmware(snap, p, ua, req) ?? notFound(slug, p.path);
        return {
          ok: true,
          tenant: slug,
          path: p.path,
          resource: this.blobResource(file.blobKey, file.size, file.contentType),
        };
      }
    }
  }

  /** Firmware folders, root image names and the Check-for-Updates manifest (firmware-files.ts). */
  private firmware(snap: TenantSnapshot, p: PhonePath & { path: string }, ua: PhoneUserAgent | null, req: PhoneRequest): Answer | undefined {
    const who = requester(snap, p.mac, ua);
    const fw = firmwarePath(snap, p.path.split('/'), who);
    if (!fw) return undefined;
    const slug = snap.tenant.slug;
    const generated = (body: Buffer, contentType: string): Answer => ({
      ok: true,
      tenant: slug,
      path: fw.path,
      resource: { kind: 'generated', body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`, contentType },
    });
    switch (fw.kind) {
      case 'image':
        this.watchForLoop(snap, who, fw.version, fw.image.blobKey, req.ip);
        return { ok: true, tenant: slug, path: fw.path, resource: this.blobResource(fw.image.blobKey, fw.image.size, 'application/octet-stream') };
      case 'version':
        return generated(Buffer.from(`${fw.version}\n`), 'text/plain; charset=utf-8');
      case 'master': {
        const r = folderMaster(snap, fw.version);
        return { ok: true, tenant: slug, path: fw.path, resource: { kind: 'generated', body: r.body, etag: r.etag, contentType: 'application/xml' } };
      }
      case 'manifest':
        return generated(Buffer.from(phoneImagesManifest(snap, req)), 'application/xml');
      case 'missing':
        if (fw.held) this.noteHeld(snap, who, fw.held);
        return notFound(slug, fw.path);
    }
  }

  /**
   * A registered phone that keeps fetching an image while it reports another version is held on
   * the version it runs: a device-layer target (explained as such), with a note of the loop, that
   * an administrator lifts with `firmware target unset --device`.
   */
  private watchForLoop(snap: TenantSnapshot, who: Requester, version: string, blobKey: string, ip: string): void {
    const running = runningVersion(who.ua);
    if (!running || running === version) return;
    const phone = who.device?.mac ?? who.ua?.mac ?? ip;
    if (!this.loops.note(`${snap.tenant.id}|${phone}`, blobKey, Date.now())) return;
    const fields = { tenant: snap.tenant.slug, mac: who.device?.mac ?? who.ua?.mac, ip, running, image: version };
    if (!who.device) {
      this.deps.logger.warn(fields, 'firmware upgrade loop: the phone keeps downloading an image and comes back on its old version; register it to hold it automatically');
      return;
    }
    this.deps.logger.warn(fields, 'firmware upgrade loop: the phone keeps downloading an image and comes back on its old version; held on the version it runs (lift with: polyprov firmware target unset --device)');
    const scope = { kind: 'device' as const, id: who.device.id };
    this.deps.store
      .setParameters(snap.tenant.id, scope, { [FIRMWARE_TARGET]: running, [FIRMWARE_LOOP]: `${version} at ${new Date().toISOString()}` })
      .catch((err: unknown) => this.deps.logger.error({ err, ...fields }, 'could not hold a looping phone'));
  }

  /** A refused downgrade is worth one line per device and snapshot, not one per request. */
  private noteHeld(snap: TenantSnapshot, who: Requester, held: { running: string; target: string }): void {
    const key = `held:${who.device?.mac ?? who.ua?.mac ?? who.model ?? '?'}`;
    if (snap.notes.has(key)) return;
    snap.notes.add(key);
    this.deps.logger.warn(
      { tenant: snap.tenant.slug, mac: who.device?.mac ?? who.ua?.mac, model: who.model, running: held.running, target: held.target },
      'firmware downgrade refused: the phone runs a newer version than its target and stays on it (allow with firmware target set --allow-downgrade)',
    );
  }

  /**
   * The override file without the parameters the tenant's policy forbids, when the tenant strips
   * them and the file names any; null means serve the stored bytes (nothing to strip, or a file
   * that does not parse: the phone keeps what it had). The stored upload is never changed.
   */
  private async strippedOverride(tenant: Tenant, blobKey: string, path: string): Promise<Resource | null> {
    if (!tenant.stripDisallowedOverrides || tenant.overridePolicy === 'allow-all') return null;
    const chunks: Buffer[] = [];
    for await (const c of this.deps.blobs.read(blobKey)) chunks.push(c as Buffer);
    const { overridePolicy: policy, overridePatterns: patterns } = tenant;
    const kind = /-web\.cfg$/i.test(path) ? 'web' : 'phone';
    const result = filterOverrideFile(Buffer.concat(chunks).toString('utf8'), (name) => isOverrideAllowed(name, policy, patterns), kind);
    if (!result || result.removed.length === 0) return null;
    const body = Buffer.from(result.xml, 'utf8');
    return { kind: 'generated', body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`, contentType: contentTypeFor(path) };
  }

  private blobResource(blobKey: string, size: number, contentType: string): Resource {
    const etag = `"${blobKey.slice(0, 32)}"`;
    const held = this.blobCache?.get(blobKey, size);
    if (held) return { kind: 'generated', body: held, etag, contentType };
    return { kind: 'stream', size, etag, contentType, open: (range) => this.deps.blobs.read(blobKey, range) };
  }

  private imageFallback(snap: TenantSnapshot, path: string) {
    const single = undoubledImagePath(path);
    return single ? snap.filesByPath.get(single) : undefined;
  }

  /** Re-reads the tenant list when the store's revision has moved; concurrent requests share one read. */
  private async refresh(): Promise<void> {
    this.revisionRead ??= this.deps.store.revision().finally(() => (this.revisionRead = undefined));
    const rev = await this.revisionRead;
    if (rev === this.indexRevision) return;
    const tenants = await this.deps.store.listTenants();
    this.index = new TenantIndex(tenants);
    this.indexRevision = rev;
    for (const [id, snap] of this.snapshots) {
      const t = this.index.byId.get(id);
      if (!t || t.revision !== snap.revision) this.snapshots.delete(id);
    }
  }

  private async snapshot(tenant: Tenant): Promise<TenantSnapshot> {
    const have = this.snapshots.get(tenant.id);
    if (have && have.revision === tenant.revision) return have;
    let p = this.loading.get(tenant.id);
    if (!p) {
      p = this.deps.store
        .loadTenantPolicy(tenant.id)
        .then((data) => {
          const snap = new TenantSnapshot(data);
          this.snapshots.set(tenant.id, snap);
          return snap;
        })
        .finally(() => this.loading.delete(tenant.id));
      this.loading.set(tenant.id, p);
    }
    return p;
  }

  /**
   * A tenant is named by a path prefix, a host name or the credentials' user name. Every source
   * that names one must name the same one; a request that names none is asked to authenticate.
   */
  private chooseTenant(req: PhoneRequest, segments: string[]): Chosen | Refusal {
    const byPrefix = segments.length > 0 ? this.index.byPrefix.get(segments[0]!) : undefined;
    const bound = req.listenerTenant !== undefined ? this.index.bySlug.get(req.listenerTenant) : undefined;
    if (req.listenerTenant !== undefined && !bound) {
      return { ok: false, problem: 'forbidden', message: `this listener is bound to tenant "${req.listenerTenant}", which does not exist` };
    }
    if (req.protocol === 'tftp') return this.chooseTftpTenant(req, segments, byPrefix, bound);

    const host = hostWithoutPort(req.host);
    const byHost = host ? this.index.byHost.get(host) : undefined;
    const named = byPrefix ?? byHost ?? bound;
    const conflict =
      byPrefix && byHost && byPrefix !== byHost
        ? `host ${host} and path prefix "${byPrefix.pathPrefix}" name different tenants`
        : bound && named !== bound
          ? `this listener serves tenant "${bound.slug}" only`
          : undefined;
    const username = req.credentials?.kind === 'password' ? req.credentials.username : req.credentials?.answer.username;
    const byUser = username !== undefined ? (this.index.byUsername.get(username) ?? this.factoryTenant(username)) : undefined;
    const tenant = named ?? byUser;
    if (!tenant) return { ok: false, problem: 'unauthenticated', message: 'credentials required' };
    return { tenant, segments: byPrefix ? segments.slice(1) : segments, ...(conflict ? { conflict } : {}) };
  }

  /**
   * The factory login names no tenant by itself: it opens the one tenant that accepts it. With
   * several, phones must name theirs by path prefix, host name or a listener bound to it.
   */
  private factoryTenant(username: string): Tenant | undefined {
    return username === FACTORY_LOGIN && this.index.factoryLogin.length === 1 ? this.index.factoryLogin[0] : undefined;
  }

  /**
   * TFTP carries no credentials: the listener a request arrived on, or else the client's subnet,
   * names the tenant. A path prefix may repeat that tenant's prefix but never name another.
   */
  private chooseTftpTenant(req: PhoneRequest, segments: string[], byPrefix: Tenant | undefined, bound: Tenant | undefined): Chosen | Refusal {
    let tenant = bound;
    if (!tenant) {
      const found = tenantsBySubnet(this.index, req.ip);
      if (found.length === 0) {
        return { ok: false, problem: 'forbidden', message: `no tenant serves TFTP to ${req.ip}: list its subnet with polyprov tenant set <slug> --tftp-subnets` };
      }
      if (found.length > 1) {
        return { ok: false, problem: 'forbidden', message: `tenants ${found.map((t) => `"${t.slug}"`).join(' and ')} both list ${req.ip}'s subnet for TFTP: make one list a narrower subnet` };
      }
      tenant = found[0]!;
    }
    const conflict = byPrefix && byPrefix !== tenant ? `TFTP from ${req.ip} is served by tenant "${tenant.slug}" only` : undefined;
    return { tenant, segments: byPrefix === tenant ? segments.slice(1) : segments, ...(conflict ? { conflict } : {}) };
  }

  private async authenticate(tenant: Tenant, req: PhoneRequest): Promise<true | Refusal> {
    const deny = (message: string, staleNonce = false): Refusal => ({ ok: false, problem: 'unauthenticated', message, staleNonce });
    if (req.protocol === 'tftp') {
      // Chosen by listener or subnet (chooseTftpTenant); a bound listener still honours the tenant's list.
      const subnets = this.index.tftpSubnets.get(tenant.id);
      if (subnets && longestMatch(subnets, req.ip) < 0) {
        return { ok: false, problem: 'forbidden', message: `${req.ip} is not in tenant "${tenant.slug}"'s TFTP subnets`, tenant: tenant.slug };
      }
      return true;
    }
    const c = req.credentials;
    if (!c) return deny('credentials required');
    if (c.kind === 'password') {
      if (tenant.factoryLogin && c.username === FACTORY_LOGIN && c.password === FACTORY_LOGIN) return true;
      if (c.username !== tenant.provUsername) return deny('wrong user name or password');
      const key = createHash('sha256').update(`${tenant.id}\0${tenant.provPasswordHash}\0${c.password}`).digest('base64');
      let check = this.verified.get(key);
      if (!check) {
        if (this.verified.size >= MAX_VERIFIED) this.verified.clear();
        check = verifyPassword(c.password, tenant.provPasswordHash).catch(() => false);
        this.verified.set(key, check);
      }
      return (await check) ? true : deny('wrong user name or password');
    }
    const a = c.answer;
    const ha1 = a.username === tenant.provUsername ? tenant.provDigestHa1 : tenant.factoryLogin && a.username === FACTORY_LOGIN ? FACTORY_HA1 : undefined;
    if (ha1 === undefined || a.realm !== DIGEST_REALM) return deny('wrong user name or password');
    if (a.uri !== req.target) return deny('digest uri does not match the request');
    if (a.algorithm && a.algorithm.toUpperCase() !== 'MD5') return deny(`digest algorithm ${a.algorithm} not supported`);
    const nonce = this.deps.nonces.check(a.nonce);
    if (nonce === 'invalid') return deny('unknown digest nonce');
    if (!sameHex(expectedDigestResponse(ha1, c.method, a), a.response)) return deny('wrong user name or password');
    if (nonce === 'stale') return deny('digest nonce expired', true);
    return true;
  }

  private userAgentOf(req: PhoneRequest): PhoneUserAgent | null {
    const ua = parseUserAgent(req.userAgent);
    if (!ua && req.userAgent !== undefined && !this.oddAgents.has(req.userAgent)) {
      // Log each odd agent once per process: never reject for it, never flood the log with it.
      if (this.oddAgents.size >= 1000) this.oddAgents.clear();
      this.oddAgents.add(req.userAgent);
      this.deps.logger.warn({ userAgent: req.userAgent.slice(0, 200), ip: req.ip }, 'unrecognised User-Agent; serving anyway');
    }
    return ua;
  }

  private noteSighting(tenant: Tenant, req: PhoneRequest, ua: PhoneUserAgent | null, p: PhonePath): void {
    const pathMac = p.mac;
    if (pathMac && ua?.mac && ua.mac !== pathMac) {
      this.deps.logger.warn({ tenant: tenant.slug, pathMac, uaMac: ua.mac, ip: req.ip }, 'MAC in path and User-Agent disagree');
    }
    if (pathMac && req.clientCertCn && req.clientCertCn.toLowerCase() !== pathMac) {
      this.deps.logger.warn({ tenant: tenant.slug, pathMac, certCn: req.clientCertCn, ip: req.ip }, 'MAC in path and client certificate disagree');
    }
    const mac = pathMac ?? ua?.mac ?? this.deps.inventory.macForIp(tenant.id, req.ip);
    if (!mac) return;
    const path = p.kind === 'master' ? `${p.mac ?? '000000000000'}.cfg` : p.kind === 'device-config' ? `${p.mac}-polyprov.cfg` : p.path;
    const fileTransport = ua?.client === 'filetransport';
    this.deps.inventory.note({
      tenantId: tenant.id,
      mac,
      at: new Date().toISOString(),
      ip: req.ip,
      lastFile: path,
      userAgent: req.userAgent?.slice(0, 300),
      ...(ua && fileTransport
        ? {
            model: ua.model,
            phase: ua.phase,
            ...(ua.phase === 'updater' ? { updaterVersion: ua.version } : { firmware: ua.version }),
            ...(ua.serial ? { serial: ua.serial } : {}),
          }
        : {}),
    });
  }
}

function refuseWrite(tenant: string, p: PhonePath): Refusal {
  return { ok: false, problem: 'not-allowed', message: `${p.kind === 'file' ? p.path : 'this location'} is read-only`, tenant };
}

function macOf(cn: string | undefined): string | undefined {
  return cn && /^[0-9a-f]{12}$/i.test(cn) ? cn.toLowerCase() : undefined;
}

/** The registered device behind a request (by the path's MAC, else the UA's), and its model. */
function requester(snap: TenantSnapshot, pathMac: string | null, ua: PhoneUserAgent | null): Requester {
  const mac = pathMac ?? ua?.mac;
  const device = mac ? snap.devicesByMac.get(mac) : undefined;
  return { device, model: (ua?.model ?? device?.model) || undefined, ua };
}

/** The library's versions, each with its folder's URL as the phone reached this server. */
function phoneImagesManifest(snap: TenantSnapshot, req: PhoneRequest): string {
  // The folder sits beside the manifest, so whatever tenant prefix the request used is kept.
  const target = req.target.split(/[?#]/)[0]!;
  const base = target.slice(0, target.lastIndexOf('/') + 1);
  const origin = req.host && (req.protocol === 'http' || req.protocol === 'https') ? `${req.protocol}://${req.host}` : '';
  return renderPhoneImagesManifest([...snap.releases.keys()].map((version) => ({ version, path: `${origin}${base}${firmwareFolder(version)}` })));
}

function notFound(tenant: string, path: string): Refusal {
  return { ok: false, problem: 'not-found', message: `${path} does not exist`, tenant };
}
