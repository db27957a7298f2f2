// The one persistence interface. Everything above it (the provisioning core, the admin services, the
// CLI) talks to this, never to Kysely or a driver, so SQLite and PostgreSQL stay interchangeable.

import type { Role } from '../domain/admin-roles.js';
import type { SiteSubnet } from '../domain/site-subnets.js';

export type { Role, SiteSubnet };

export type UnknownDevicePolicy = 'serve' | 'refuse';

/** Which parameters phones may override (see domain/override-policy.ts). */
export type OverridePolicy = 'allow-all' | 'allow-list' | 'deny-list';

export interface Tenant {
  id: number;
  slug: string;
  name: string;
  provUsername: string;
  /** scrypt hash, for Basic authentication. */
  provPasswordHash: string;
  /** MD5(username:realm:password) for Digest; the realm is fixed (see provisioning/credentials.ts). */
  provDigestHa1: string;
  /** First path segment that selects this tenant (`/acme/000000000000.cfg`), or null. */
  pathPrefix: string | null;
  /** Host names (lower-case) that select this tenant. */
  hostnames: string[];
  unknownDevices: UnknownDevicePolicy;
  /** APP_FILE_PATH of the tenant's master file. */
  appFilePath: string;
  /** Extra CONFIG_FILES entries (files of the tenant's tree) read after the generated config. */
  extraConfigFiles: string[];
  /** Bumped on every change to this tenant's policy, devices or files. */
  revision: number;
  createdAt: string;
  /** A phone log's current file is rotated into a segment when an append would take it past this. */
  logMaxBytes: number;
  /** Older segments kept per log (0: rotated bytes are dropped). */
  logSegments: number;
  /** Segments rotated longer ago than this are dropped (0: no age limit). */
  logMaxAgeDays: number;
  /** Which parameters phones may override: all, only overridePatterns, or all but them. */
  overridePolicy: OverridePolicy;
  /** Parameter names with `*` segments (`reg.*.label`, `up.*`) the override policy lists. */
  overridePatterns: string[];
  /** Serve override files without the parameters the policy forbids (the stored upload is kept as it is). */
  stripDisallowedOverrides: boolean;
  /** Client subnets (CIDR) that choose this tenant over TFTP, which has no credentials, and may read from it. */
  tftpSubnets: string[];
  /** Files holding passwords may be read over TFTP (plain text, no authentication). */
  tftpSecrets: boolean;
  /** The phones' factory login PlcmSpIp/PlcmSpIp opens this tenant (FTP's default). */
  factoryLogin: boolean;
  /** A device whose address falls in another site's subnets is moved there (otherwise only devices without a site are placed). */
  rehomeDevices: boolean;
}

/** A phone log's retention settings, as a tenant holds them (see provisioning/phone-logs.ts). */
export type LogRetention = Pick<Tenant, 'logMaxBytes' | 'logSegments' | 'logMaxAgeDays'>;

export interface NewTenant {
  slug: string;
  name: string;
  provUsername: string;
  provPasswordHash: string;
  provDigestHa1: string;
  pathPrefix?: string | null;
  hostnames?: string[];
  unknownDevices?: UnknownDevicePolicy;
  appFilePath?: string;
  extraConfigFiles?: string[];
  logMaxBytes?: number;
  logSegments?: number;
  logMaxAgeDays?: number;
  overridePolicy?: OverridePolicy;
  overridePatterns?: string[];
  stripDisallowedOverrides?: boolean;
  tftpSubnets?: string[];
  tftpSecrets?: boolean;
  factoryLogin?: boolean;
  rehomeDevices?: boolean;
}

export type TenantPatch = Partial<Omit<NewTenant, 'slug'>>;

export interface DeviceGroup {
  id: number;
  tenantId: number;
  slug: string;
  name: string;
}

/** What updateGroup changes; undefined keeps the current value. */
export interface GroupPatch {
  slug?: string;
  name?: string;
}

export interface Site extends DeviceGroup {
  /** The only client subnets (CIDR) this site's devices may use TFTP from; empty: the tenant's rule alone. */
  tftpSubnets: string[];
  description: string;
  location: string;
  /** Lens-style subnets: a device seen from one of them is placed in this site (see domain/site-subnets.ts). */
  subnets: SiteSubnet[];
}

/** A site's own fields besides slug and name; undefined keeps the current value (or the default, '' and []). */
export interface SiteFields {
  tftpSubnets?: string[];
  description?: string;
  location?: string;
  subnets?: SiteSubnet[];
}

export interface SitePatch extends SiteFields {
  name?: string;
}

export interface ModelPolicy {
  id: number;
  tenantId: number;
  /** Model in its User-Agent spelling, e.g. `VVX_500`. */
  model: string;
  /** Per-model APP_FILE_PATH, or null to use the tenant's. */
  appFilePath: string | null;
}

export type Phase = 'bootrom' | 'updater' | 'application';

export interface Device {
  id: number;
  tenantId: number;
  mac: string;
  /** True when an administrator added it; false when it was only seen on the wire. */
  registered: boolean;
  label: string;
  siteId: number | null;
  groupId: number | null;
  /** Device-specific APP_FILE_PATH; a device with one gets its own `<mac>.cfg`. */
  appFilePath: string | null;
  // Inventory, written by the provisioning core (coalesced), never by admins.
  firstSeen: string | null;
  lastSeen: string | null;
  lastIp: string | null;
  model: string | null;
  firmware: string | null;
  updaterVersion: string | null;
  phase: Phase | null;
  serial: string | null;
  lastFile: string | null;
  userAgent: string | null;
}

export interface DeviceInput {
  label?: string;
  siteId?: number | null;
  groupId?: number | null;
  appFilePath?: string | null;
}

export type ScopeKind = 'tenant' | 'model' | 'site' | 'group' | 'device';

/** A parameter layer inside one tenant. `id` is the tenant's, model policy's, site's, group's or device's id. */
export interface Scope {
  kind: ScopeKind;
  id: number;
}

export interface ParameterRow {
  scope: ScopeKind;
  scopeId: number;
  name: string;
  value: string;
}

export interface StoredFile {
  tenantId: number;
  /** Path inside the tenant's tree, relative, forward slashes, no `..`. */
  path: string;
  /** Key in the blob store (the content's SHA-256, hex). */
  blobKey: string;
  size: number;
  contentType: string;
  createdAt: string;
}

/** One version of a file a phone uploaded (override, directory, call list). */
export interface PhoneUpload {
  tenantId: number;
  mac: string;
  /** Path in the tenant's tree, e.g. `overrides/0004f2a1b2c3-phone.cfg`. */
  path: string;
  /** 1, 2, 3… per path; the highest is what phones are served. */
  version: number;
  blobKey: string;
  size: number;
  /** Why the content looks wrong (stored anyway, so nothing is lost), or null. */
  problem: string | null;
  createdAt: string;
}

/**
 * A log a phone appends to. `length` counts the committed bytes of its current file, the only ones
 * that exist; `base` is where that file starts in the phone's own numbering (the bytes rotated away
 * into segments before it), so the phone's view of its log is `base + length` bytes long.
 */
export interface PhoneLog {
  tenantId: number;
  mac: string;
  path: string;
  length: number;
  base: number;
  updatedAt: string;
}

/** What updatePhoneLog's writer reports: the new committed length and, after a rotation, the new base. */
export type PhoneLogWrite = number | { length: number; base: number };

/** One observation of a device on the wire; the store merges it into the device's inventory. */
export interface Sighting {
  tenantId: number;
  mac: string;
  at: string;
  ip?: string;
  model?: string;
  firmware?: string;
  updaterVersion?: string;
  phase?: Phase;
  serial?: string;
  lastFile?: string;
  userAgent?: string;
  /** The phone's own address behind a NAT, when known: it chooses among sites sharing a public subnet. Not stored. */
  privateIp?: string;
}

/** New parameters of one layer: merged into what it has, or replacing all of it. */
export interface ParameterUpdate {
  /** merge: set these, keep the others; replace: the layer's parameters become exactly `values`. */
  mode: 'merge' | 'replace';
  values: Record<string, string>;
}

/**
 * Everything one import file says, applied by applyImport in one transaction. Sites and groups are
 * matched by slug, model policies by model, devices by MAC; entries that exist are updated, others
 * created. Optional fields left undefined keep what is stored.
 */
export interface ImportPlan {
  sites: { slug: string; name: string; description?: string; location?: string; subnets?: SiteSubnet[]; parameters?: ParameterUpdate }[];
  groups: { slug: string; name: string; parameters?: ParameterUpdate }[];
  models: { model: string; parameters?: ParameterUpdate }[];
  devices: {
    mac: string;
    label?: string;
    /** A site's slug; null takes the device out of its site. */
    site?: string | null;
    /** A group's slug; null takes the device out of its group. */
    group?: string | null;
    /** Recorded only when the device's inventory has no model yet (the phone's own report wins); null records nothing. */
    model?: string | null;
    parameters?: ParameterUpdate;
  }[];
}

export type ImportKind = 'sites' | 'groups' | 'models' | 'devices';

/**
 * What an import changed. `created` counts new rows (a device only seen on the wire that becomes
 * registered counts as created); `updated` counts existing rows whose fields or parameters changed
 * (rows the import left as they were count in neither). Parameters count values written that were
 * new or different, and values a `replace` removed.
 */
export interface ImportCounts {
  created: Record<ImportKind, number>;
  updated: Record<ImportKind, number>;
  parametersSet: number;
  parametersRemoved: number;
}

/**
 * How a UC Software release ships its application: one image per part number (`split`, e.g.
 * `3111-44500-001.sip.ld`), one image for every model (`combined`, `sip.ld`), or both (`mixed`);
 * `files`: every file kept under its own path (Poly Rove firmware, say).
 */
export type FirmwareLayout = 'split' | 'combined' | 'mixed' | 'files';

export type FirmwareImageKind = 'application' | 'bootrom' | 'updater' | 'dect' | 'file';

/** One image of a firmware release. The bytes are in the blob store; the store keeps this metadata. */
export interface FirmwareImage {
  /** Name phones ask for, e.g. `3111-44500-001.sip.ld`, `sip.ld`. Unique within a release. */
  fileName: string;
  kind: FirmwareImageKind;
  /** null for combined images. */
  partNumber: string | null;
  /** Models the part number belongs to ([] when unknown or combined). */
  models: string[];
  /** SHA-256 hex of the bytes, which is also the blob key. */
  blobKey: string;
  size: number;
}

/** A UC Software release in a tenant's firmware library or in the global one. */
export interface FirmwareRelease {
  id: number;
  /** null: the global library, shared by every tenant. */
  tenantId: number | null;
  /** Unique within its library. */
  version: string;
  layout: FirmwareLayout;
  /** The zip or folder it was imported from, for people. */
  source: string;
  createdAt: string;
  /** Ordered by fileName. */
  images: FirmwareImage[];
}

export interface NewFirmwareRelease {
  /** null: the global library. */
  tenantId: number | null;
  version: string;
  layout: FirmwareLayout;
  source: string;
  images: FirmwareImage[];
}

export type RolloutStatus = 'running' | 'paused' | 'completed' | 'rolled-back';

/** How a rollout's devices were chosen: recorded for people, never interpreted by the store. */
export interface RolloutSelector {
  site?: string;
  group?: string;
  model?: string;
}

/** A staged firmware rollout: a fixed set of one tenant's devices moves from one version to another in waves. */
export interface Rollout {
  id: number;
  tenantId: number;
  /** Unique per tenant, e.g. "vvx-6.4.6". */
  name: string;
  fromVersion: string;
  toVersion: string;
  /** How its devices were chosen (for people; membership is fixed at creation). */
  selector: RolloutSelector;
  /** Cumulative percentages of the devices released by each wave, ascending, last = 100, e.g. [1, 10, 100]. */
  waves: number[];
  /** Least time a wave soaks before the next is released. */
  waveIntervalMs: number;
  /** Time a wave's phones have to report the new version before they count as failed. */
  deadlineMs: number;
  /** More failed phones than this percentage of the wave pauses the rollout. */
  maxFailurePercent: number;
  /** UTC maintenance window "HH:MM-HH:MM" in which waves are released, or null for any time. */
  window: string | null;
  status: RolloutStatus;
  /** Index into waves of the newest released wave. */
  currentWave: number;
  waveStartedAt: string;
  /** Why it is paused or rolled back, for people; null otherwise. */
  reason: string | null;
  createdAt: string;
  updatedAt: string;
  /** Every device of the rollout and the wave (index) it belongs to, ordered by wave then mac. */
  members: { mac: string; wave: number }[];
}

export type NewRollout = Omit<Rollout, 'id' | 'createdAt' | 'updatedAt' | 'status' | 'currentWave' | 'waveStartedAt' | 'reason'> & {
  waveStartedAt: string;
};

export type RolloutPatch = Partial<Pick<Rollout, 'status' | 'currentWave' | 'waveStartedAt' | 'reason'>>;

/** How the server reached a phone: SIP NOTIFY check-sync, or the phone's Push API. */
export type ReachMethod = 'notify' | 'push';

/** ok: the phone (or proxy) answered 2xx; rejected: a final error status; timeout: no final answer in time; error: could not send (no address, refused, TLS...). */
export type ReachOutcome = 'ok' | 'rejected' | 'timeout' | 'error';

/** One attempt to make a phone fetch its configuration now. */
export interface ReachResult {
  tenantId: number;
  /** Lower-case. */
  mac: string;
  method: ReachMethod;
  outcome: ReachOutcome;
  /** SIP or HTTP status of the final answer, or null. */
  status: number | null;
  /** For people: reason phrase, error message, attempts... */
  detail: string;
  /** Where it was sent, e.g. "udp:10.0.0.5:5060 sip:1001@10.0.0.5", "https://10.0.0.5/push". */
  target: string;
  /** The bulk job it belonged to, or null for a one-off. */
  jobId: number | null;
  at: string;
}

export type ReachJobStatus = 'running' | 'done' | 'cancelled';

/** A bulk resync: a fixed list of one tenant's devices reached one by one at a bounded rate, resumable after a restart. */
export interface ReachJob {
  id: number;
  tenantId: number;
  method: ReachMethod;
  /** How the devices were chosen, for people (e.g. { site: 'hq' }); membership is fixed at creation. */
  selector: Record<string, string>;
  /** Devices reached per second; may be fractional (0.5/s). */
  ratePerSecond: number;
  /** 0..1: how much each pause between devices may vary. */
  jitter: number;
  /** running: not finished (also after the process that ran it stopped: resume it); done; cancelled. */
  status: ReachJobStatus;
  total: number;
  /** Devices with a recorded result. */
  done: number;
  /** Results by outcome among the done ones (each device counted once, with its latest outcome). */
  outcomes: Record<ReachOutcome, number>;
  createdAt: string;
  updatedAt: string;
}

export interface NewReachJob {
  tenantId: number;
  method: ReachMethod;
  selector: Record<string, string>;
  ratePerSecond: number;
  jitter: number;
  /** The devices, in the order they are to be reached. */
  macs: string[];
}

/** An administrator of the REST API and console. */
export interface AdminUser {
  id: number;
  /** As typed at creation; unique whatever its case, and looked up case-insensitively. */
  username: string;
  /** scrypt, as provisioning/credentials.ts hashPassword writes it. */
  passwordHash: string;
  role: Role;
  /** The one tenant a tenant-admin or read-only user works in; null for a super-admin or an all-tenant reader. */
  tenantId: number | null;
  createdAt: string;
  /** A disabled user cannot log in, and its sessions and tokens open nothing. */
  disabled: boolean;
}

export interface NewAdminUser {
  username: string;
  passwordHash: string;
  role: Role;
  tenantId: number | null;
  disabled?: boolean;
}

/** What updateAdminUser changes; undefined keeps. Role and tenant must go together after the change. */
export interface AdminUserPatch {
  passwordHash?: string;
  role?: Role;
  tenantId?: number | null;
  disabled?: boolean;
}

/** A bearer token for automation. The token itself is shown once and never stored: only its SHA-256. */
export interface ApiToken {
  id: number;
  userId: number;
  /** What it is for, for people, e.g. "billing sync". */
  name: string;
  /** The token's first characters, to tell tokens apart in lists. */
  prefix: string;
  createdAt: string;
  /** Updated at most about once a minute (see admin/admin-auth.ts). */
  lastUsedAt: string | null;
  revokedAt: string | null;
  /** null: never expires. */
  expiresAt: string | null;
}

export interface NewApiToken {
  userId: number;
  name: string;
  /** SHA-256 hex of the whole token. */
  tokenHash: string;
  prefix: string;
  expiresAt: string | null;
}

/** A console login. The cookie carries a random secret; the id is its SHA-256 hex. */
export interface AdminSession {
  id: string;
  userId: number;
  /** What the console must send back in a header on every change (double submit, compared in constant time). */
  csrfToken: string;
  createdAt: string;
  /** Absolute end, whatever the activity. */
  expiresAt: string;
  /** Updated at most about once a minute; the idle timeout counts from it. */
  lastSeenAt: string;
}

/** lastSeenAt starts at createdAt. */
export type NewAdminSession = Omit<AdminSession, 'lastSeenAt'>;

/** One change: who (a user, or "(cli)"/"(system)"), what, when, and the values before and after. */
export interface AuditEntry {
  /** Grows with every entry: the cursor of listAudit. */
  id: number;
  at: string;
  /** null for the command line or the server itself; may name a user deleted since. */
  userId: number | null;
  /** Copied at the time, so it outlives the user. */
  username: string;
  /** The tenant changed, or null for what belongs to none (users, the global firmware library). */
  tenantId: number | null;
  /** Dotted verb, e.g. "parameter.set", "user.add". */
  action: string;
  /** What was changed, for people, e.g. "site hq", "user alice". */
  target: string;
  /** Any JSON value (secrets already masked by the caller), or null. */
  before: unknown;
  after: unknown;
  /** The client's address, or null (command line). */
  ip: string | null;
}

export type NewAuditEntry = Omit<AuditEntry, 'id'>;

export interface AuditQuery {
  /** undefined: every entry; null: only those of no tenant; a number: that tenant's. */
  tenantId?: number | null;
  /** At most this many entries, newest first. */
  limit: number;
  /** Only entries older than this id (the last id of the previous page). */
  before?: number;
}

/** Everything the core needs to render any file of one tenant, read in one go. */
export interface TenantPolicyData {
  tenant: Tenant;
  sites: Site[];
  groups: DeviceGroup[];
  models: ModelPolicy[];
  /** Registered devices only: unregistered ones have no policy of their own. */
  devices: Device[];
  /** Devices only seen on the wire that were placed in a site by their address: they get that site's layer. */
  placed: { mac: string; siteId: number }[];
  parameters: ParameterRow[];
  files: StoredFile[];
  /** The tenant's own firmware releases, then the global library's (tenantId null), each by version. */
  firmware: FirmwareRelease[];
  /** All the tenant's rollouts, whatever their status, by name, with their members. */
  rollouts: Rollout[];
}

/** The protocols requests are counted under (the core's protocols). */
export type RequestProtocol = 'http' | 'https' | 'tftp' | 'ftp' | 'ftps';

/**
 * Requests the provisioning core answered in one minute, for one tenant and protocol. `tenantId`
 * null counts requests no tenant was known for (refused before a tenant authenticated).
 */
export interface RequestCount {
  tenantId: number | null;
  /** The minute's start, ISO (`2026-11-22T08:15:00.000Z`): seconds and milliseconds zero. */
  minute: string;
  protocol: RequestProtocol;
  ok: number;
  /** Not found, refused, authentication failed, or the core failed. */
  failed: number;
}

/** Request counts of one bucket of `bucketMinutes` (aligned to multiples of it since the Unix epoch) and one protocol. */
export interface RequestBucket {
  /** The bucket's start, ISO. */
  at: string;
  protocol: RequestProtocol;
  ok: number;
  failed: number;
}

export interface Store {
  readonly dialect: 'sqlite' | 'postgres';
  close(): Promise<void>;

  /** Global revision, bumped by every admin change in any tenant. One cheap read per request. */
  revision(): Promise<number>;

  createTenant(input: NewTenant): Promise<Tenant>;
  updateTenant(id: number, patch: TenantPatch): Promise<Tenant>;
  getTenantBySlug(slug: string): Promise<Tenant | undefined>;
  listTenants(): Promise<Tenant[]>;
  /** Deletes the tenant and everything in it (sites, groups, models, devices, parameters, files rows, firmware releases, rollouts, reach results and jobs, request counts, its administrators with their tokens and sessions); audit entries stay. */
  deleteTenant(id: number): Promise<void>;

  /** ConflictError for a slug the tenant already has, or subnets overlapping another site's (the message names both sites). */
  createSite(tenantId: number, slug: string, name: string, fields?: SiteFields): Promise<Site>;
  listSites(tenantId: number): Promise<Site[]>;
  getSite(tenantId: number, slug: string): Promise<Site | undefined>;
  /** Devices in the site fall back to no site; the site's parameters go with it. */
  deleteSite(tenantId: number, id: number): Promise<void>;
  /** ConflictError for subnets overlapping another site's (the message names both sites); NotFoundError for an unknown site. */
  updateSite(tenantId: number, id: number, patch: SitePatch): Promise<Site>;

  createGroup(tenantId: number, slug: string, name: string): Promise<DeviceGroup>;
  listGroups(tenantId: number): Promise<DeviceGroup[]>;
  getGroup(tenantId: number, slug: string): Promise<DeviceGroup | undefined>;
  deleteGroup(tenantId: number, id: number): Promise<void>;
  /**
   * Renames a group (slug) and/or changes its display name; undefined keeps. ConflictError for a
   * slug another group of the tenant has (naming it and the tenant); NotFoundError for an unknown
   * group (or another tenant's). Devices and parameters follow: they refer to the group's id.
   * Bumps the tenant's revision.
   */
  updateGroup(tenantId: number, id: number, patch: GroupPatch): Promise<DeviceGroup>;

  /** Creates or updates the policy of one model in one tenant. */
  upsertModelPolicy(tenantId: number, model: string, patch: { appFilePath?: string | null }): Promise<ModelPolicy>;
  listModelPolicies(tenantId: number): Promise<ModelPolicy[]>;
  getModelPolicy(tenantId: number, model: string): Promise<ModelPolicy | undefined>;
  deleteModelPolicy(tenantId: number, id: number): Promise<void>;

  /** Registers a device (or adopts one only seen on the wire) and applies the given fields. */
  registerDevice(tenantId: number, mac: string, input: DeviceInput): Promise<Device>;
  updateDevice(tenantId: number, id: number, input: DeviceInput): Promise<Device>;
  getDevice(tenantId: number, mac: string): Promise<Device | undefined>;
  /** All devices of the tenant, registered and seen-only, ordered by MAC. */
  listDevices(tenantId: number): Promise<Device[]>;
  deleteDevice(tenantId: number, id: number): Promise<void>;
  /**
   * Merges a batch of sightings into the inventory in one transaction; unknown MACs become
   * unregistered devices. A sighting with an address places its device (registered or not) in the
   * site whose subnets hold it (siteForAddress) when the device has no site, or, when the tenant has
   * rehomeDevices, when the address now belongs to another site. Bumps the revisions only of tenants
   * where a device changed site.
   */
  recordSightings(sightings: Sighting[]): Promise<void>;
  /**
   * Applies an import in one transaction, all or nothing: upserts sites and groups by slug, model
   * policies by model, devices by MAC (registering them), and their parameters; sites and groups a
   * device names must exist once the plan's own are applied. ConflictError (nothing applied) for a
   * MAC registered in another tenant (naming the MAC and that tenant), overlapping site subnets
   * (naming both sites), or a MAC, slug or model given twice; NotFoundError for a device naming an
   * unknown site or group, or an unknown tenant; TypeError for nonsense (a MAC that is not 12 hex
   * digits, a non-string value, an unknown mode). Bumps the tenant's revision once.
   */
  applyImport(tenantId: number, plan: ImportPlan): Promise<ImportCounts>;
  /** The tenant (slug) each of these MACs is registered in, for those registered anywhere (lowest slug when several). */
  findDeviceTenants(macs: string[]): Promise<Map<string, string>>;

  /** Sets (insert or replace) parameters at one layer. */
  setParameters(tenantId: number, scope: Scope, values: Record<string, string>): Promise<void>;
  /** Removes parameters from one layer; returns how many existed. */
  unsetParameters(tenantId: number, scope: Scope, names: string[]): Promise<number>;
  /**
   * Replaces one layer in one transaction, so no reader ever sees it half replaced: the layer
   * becomes `values`, except names for which `keep` says true, which stay as they are (and may not
   * be in `values`: TypeError). All or nothing; bumps the tenant's revision once. NotFoundError
   * for a scope the tenant does not have; TypeError (nothing written) for a non-string value.
   */
  replaceLayerParameters(tenantId: number, scope: Scope, values: Record<string, string>, keep?: (name: string) => boolean): Promise<void>;
  /** Parameters of the tenant, all layers or one, ordered by scope, scope id, name. */
  listParameters(tenantId: number, scope?: Scope): Promise<ParameterRow[]>;

  putFile(file: Omit<StoredFile, 'createdAt'>): Promise<StoredFile>;
  getFile(tenantId: number, path: string): Promise<StoredFile | undefined>;
  listFiles(tenantId: number): Promise<StoredFile[]>;
  deleteFile(tenantId: number, path: string): Promise<boolean>;

  loadTenantPolicy(tenantId: number): Promise<TenantPolicyData>;

  /**
   * Adds a release to a tenant's library or (tenantId null) the global one; ConflictError when that
   * library already has the version (or two images share a file name), NotFoundError for an unknown
   * tenant. Bumps the tenant's revision, or every tenant's for the global library.
   */
  addFirmwareRelease(release: NewFirmwareRelease): Promise<FirmwareRelease>;
  /** One library's releases (a tenant's own, or the global one with null), ordered by version text. */
  listFirmwareReleases(tenantId: number | null): Promise<FirmwareRelease[]>;
  /** One release of one library (a tenant's own, or the global one with null); never falls back to the global library. */
  getFirmwareRelease(tenantId: number | null, version: string): Promise<FirmwareRelease | undefined>;
  /** Returns false when there was no such release. Bumps revisions like addFirmwareRelease. */
  deleteFirmwareRelease(tenantId: number | null, version: string): Promise<boolean>;

  /**
   * Creates a rollout (status running, wave 0 released at waveStartedAt). ConflictError for a name
   * the tenant already uses, for a device listed twice, or when a member device is in another
   * rollout of the tenant that is running or paused (the message names the device and that
   * rollout); NotFoundError for an unknown tenant; TypeError for nonsense (see kysely-store.ts).
   * MACs are stored lower-case. Bumps the tenant's revision.
   */
  createRollout(rollout: NewRollout): Promise<Rollout>;
  /** The tenant's rollouts, whatever their status, ordered by name, with their members. */
  listRollouts(tenantId: number): Promise<Rollout[]>;
  getRollout(tenantId: number, name: string): Promise<Rollout | undefined>;
  /**
   * Changes status, wave and reason (undefined keeps, a null reason clears); updatedAt moves.
   * NotFoundError for an unknown id (or one of another tenant), TypeError for a wave index outside
   * the rollout's waves, ConflictError when making a completed or rolled-back rollout running or
   * paused again while one of its devices is in another running or paused rollout. Bumps the
   * tenant's revision (phones' targets change).
   */
  updateRollout(tenantId: number, id: number, patch: RolloutPatch): Promise<Rollout>;
  /** Deletes the rollout and its members; returns false when there was no such rollout. Bumps the tenant's revision. */
  deleteRollout(tenantId: number, name: string): Promise<boolean>;

  /**
   * Appends results (one transaction), in the order given. A result with a jobId also marks that
   * job's device done with this outcome (a second result for the same job device replaces the
   * first: a retry) and moves the job's updatedAt. NotFoundError for an unknown tenant, an unknown
   * job (or another tenant's) or a device that is not in the job; TypeError for nonsense (see
   * kysely-store.ts); either way nothing is recorded. Does not bump revisions.
   */
  recordReachResults(results: ReachResult[]): Promise<void>;
  /** The newest result per device and method, for the tenant or one device, ordered by mac then method. */
  latestReachResults(tenantId: number, mac?: string): Promise<ReachResult[]>;
  /** One device's results, newest first, at most `limit`. */
  reachHistory(tenantId: number, mac: string, limit: number): Promise<ReachResult[]>;
  /**
   * Creates a job (status running) with every device pending, in the given order. TypeError for
   * nonsense (no devices, a MAC twice, rate <= 0, jitter outside 0..1, an unknown method, a
   * selector that is not an object of strings); NotFoundError for an unknown tenant. MACs stored
   * lower-case. Does not bump revisions.
   */
  createReachJob(job: NewReachJob): Promise<ReachJob>;
  /** undefined for an unknown id or another tenant's. */
  getReachJob(tenantId: number, id: number): Promise<ReachJob | undefined>;
  /** The tenant's jobs, newest first. */
  listReachJobs(tenantId: number): Promise<ReachJob[]>;
  /** The job's devices without a result yet, in creation order. NotFoundError for an unknown job (or another tenant's). */
  pendingReachJobDevices(tenantId: number, jobId: number): Promise<string[]>;
  /** Sets the status (updatedAt moves). NotFoundError for an unknown job (or another tenant's), TypeError for an unknown status. */
  setReachJobStatus(tenantId: number, jobId: number, status: ReachJobStatus): Promise<ReachJob>;

  /** Records a new version of an uploaded file (the bytes are already durable in the blob store). Does not bump revisions. */
  recordPhoneUpload(upload: Omit<PhoneUpload, 'version' | 'createdAt'>): Promise<PhoneUpload>;
  latestPhoneUpload(tenantId: number, path: string): Promise<PhoneUpload | undefined>;
  /** Every version of every file one device uploaded, by path then version. */
  /** Every version of the tenant's uploads, or one device's, ordered by path then version. */
  listPhoneUploads(tenantId: number, mac?: string): Promise<PhoneUpload[]>;

  getPhoneLog(tenantId: number, path: string): Promise<PhoneLog | undefined>;
  /** The tenant's phone logs, or one device's, ordered by path. */
  listPhoneLogs(tenantId: number, mac?: string): Promise<PhoneLog[]>;
  /**
   * Runs `write` with the log's committed length and base (0 and 0 for a new log) while holding
   * that log's write lock across processes, and commits what it returns: a length (the base stays),
   * or a length and a base (a rotation). Returns the committed length. Appends to one log never
   * interleave, and a throw commits nothing.
   */
  updatePhoneLog(tenantId: number, path: string, mac: string, write: (length: number, base: number) => Promise<PhoneLogWrite>): Promise<number>;

  // Administrators, tokens, sessions, audit log, login failures. None of these bumps a revision:
  // phones are served the same.

  /**
   * ConflictError for a user name that exists in any case (the message names it as stored);
   * NotFoundError for an unknown tenant; TypeError for nonsense (an empty name or hash, an unknown
   * role, a role and tenant that do not go together: see domain/admin-roles.ts checkRoleScope).
   */
  createAdminUser(user: NewAdminUser): Promise<AdminUser>;
  getAdminUser(id: number): Promise<AdminUser | undefined>;
  /** Case-insensitive. */
  getAdminUserByName(username: string): Promise<AdminUser | undefined>;
  /** Every user, or one tenant's, ordered by lower-case user name. */
  listAdminUsers(filter?: { tenantId?: number }): Promise<AdminUser[]>;
  /**
   * Applies the patch. A new password or disabling deletes the user's sessions in the same
   * transaction (logged-in consoles must log in again; tokens stay, but open nothing while the user
   * is disabled). NotFoundError for an unknown user or tenant; TypeError for nonsense (as
   * createAdminUser); ConflictError when it would leave no enabled super-admin.
   */
  updateAdminUser(id: number, patch: AdminUserPatch): Promise<AdminUser>;
  /**
   * Deletes the user, its tokens and sessions (its audit entries stay); false when there was no
   * such user. ConflictError when it is the last enabled super-admin.
   */
  deleteAdminUser(id: number): Promise<boolean>;

  /** NotFoundError for an unknown user; ConflictError for a hash already stored; TypeError for nonsense. */
  createApiToken(token: NewApiToken): Promise<ApiToken>;
  getApiToken(id: number): Promise<ApiToken | undefined>;
  /** The token with that hash and its user, whatever their state (revoked, expired, disabled): the caller decides. */
  findApiTokenByHash(tokenHash: string): Promise<{ token: ApiToken; user: AdminUser } | undefined>;
  /** Moves lastUsedAt to `at`, never backwards. */
  touchApiToken(id: number, at: string): Promise<void>;
  /** Marks the token revoked at `at` (a second revocation keeps the first time); undefined for an unknown id. */
  revokeApiToken(id: number, at: string): Promise<ApiToken | undefined>;
  /** The user's tokens, revoked and expired ones too, by id. */
  listApiTokens(userId: number): Promise<ApiToken[]>;

  /** NotFoundError for an unknown user; ConflictError for an id already stored; TypeError for nonsense. */
  createSession(session: NewAdminSession): Promise<AdminSession>;
  /** The session with that id and its user, whatever their state (expired, disabled): the caller decides. */
  findSession(id: string): Promise<{ session: AdminSession; user: AdminUser } | undefined>;
  /** Moves lastSeenAt to `at`, never backwards. */
  touchSession(id: string, at: string): Promise<void>;
  /** false when there was no such session. */
  deleteSession(id: string): Promise<boolean>;
  /** Logs the user out everywhere; returns how many sessions there were. */
  deleteUserSessions(userId: number): Promise<number>;
  /** Deletes sessions whose absolute end is at or before `now`, or last seen before `idleSince`; returns how many. */
  pruneSessions(now: string, idleSince: string): Promise<number>;

  /** Appends entries in one transaction, in the order given (ids grow in that order). TypeError for nonsense; then nothing is written. */
  appendAudit(entries: NewAuditEntry[]): Promise<void>;
  /** Entries newest first (by id), filtered and paged as the query says. TypeError for a bad limit or cursor. */
  listAudit(query: AuditQuery): Promise<AuditEntry[]>;

  /**
   * Records one failed login under each key at `at`, and (in the same transaction) forgets every
   * key's failures before `forgetBefore`, so the table holds one window's worth.
   */
  recordLoginFailure(keys: string[], at: string, forgetBefore?: string): Promise<void>;
  /** The times of the key's newest failures at or after `since`, newest first, at most `limit`. */
  recentLoginFailures(key: string, since: string, limit: number): Promise<string[]>;
  /** Forgets the key's failures (after a successful login). */
  clearLoginFailures(key: string): Promise<void>;

  // Request metrics (the dashboard's chart). Never on a request's path: the core counts in memory
  // and the inventory recorder adds the counts every few seconds.

  /**
   * Adds the counts to what is stored (upsert-increments, one transaction; the same tenant, minute
   * and protocol may appear several times). TypeError for nonsense (a minute not on a minute
   * boundary, a negative or fractional count, an unknown protocol); then nothing is added. Does not
   * bump revisions.
   */
  addRequestCounts(counts: RequestCount[]): Promise<void>;
  /**
   * The tenant's counts (null: requests of no known tenant) for minutes in [from, to), summed into
   * buckets of `bucketMinutes` aligned to multiples of it since the Unix epoch, ordered by bucket
   * then protocol; buckets and protocols without requests are left out. TypeError for nonsense.
   */
  requestBuckets(tenantId: number | null, range: { from: string; to: string; bucketMinutes: number }): Promise<RequestBucket[]>;
  /** Deletes the counts of minutes before `before` (every tenant's); returns how many rows went. */
  pruneRequestCounts(before: string): Promise<number>;
}
