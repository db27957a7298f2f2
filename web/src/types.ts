// The shapes of the API answers the console reads (see /api/v1/openapi.json).

export interface User {
  username: string;
  role: string;
  tenant: string | null;
}

export interface Page<T> {
  items: T[];
  next: string | null;
}

export interface Tenant {
  slug: string;
  name: string;
  pathPrefix: string | null;
  hostnames: string[];
  unknownDevices: 'serve' | 'refuse';
  createdAt: string;
}

export interface Site {
  slug: string;
  name: string;
  description: string;
  location: string;
  tftpSubnets: string[];
}

export interface Device {
  mac: string;
  registered: boolean;
  label: string;
  site: string | null;
  group: string | null;
  inventory: {
    firstSeen: string | null;
    lastSeen: string | null;
    lastIp: string | null;
    model: string | null;
    firmware: string | null;
    phase: string | null;
    serial: string | null;
    lastFile: string | null;
    userAgent: string | null;
  };
}

export interface ParameterLayer {
  scope: string;
  parameters: Record<string, string>;
  warnings?: string[];
}

export interface NameCheck {
  name: string;
  known: boolean;
  suggestions: string[];
}

export interface ShadowedValue {
  layer: string;
  ref: string | null;
  value: string;
}

export interface ExplainedParameter {
  name: string;
  value: string | null;
  layer: string | null;
  ref: string | null;
  shadows: ShadowedValue[];
  override?: { source: string; value: string; path: string; version: number };
  effective: string;
}

export interface Explanation {
  mac: string;
  registered: boolean;
  model: string | null;
  site: string | null;
  group: string | null;
  configFiles?: string[];
  parameters: ExplainedParameter[];
  notes: string[];
}

// ---- dashboard, device filters, device logs/directory/actions (console-device) ----

export interface DashboardBucket {
  at: string;
  total: number;
  failed: number;
  byProtocol: { http: number; https: number; tftp: number; ftp: number };
}

export interface Dashboard {
  tenant: string;
  generatedAt: string;
  devices: { total: number; registered: number; seenOnly: number; seenInWindow: number; neverSeen: number };
  models: { model: string | null; count: number }[];
  firmware: { version: string | null; count: number }[];
  recentErrors: { mac: string; kind: 'app' | 'boot'; at: string | null; level: number; line: string }[];
  requests: { bucketMinutes: number; from: string; to: string; buckets: DashboardBucket[] };
}

export interface LogSummary {
  mac: string;
  kind: 'app' | 'boot';
  path: string;
  size: number;
  current: number;
  updatedAt: string;
  segments: { number: number; start: number; size: number; rotatedAt: string }[];
}

export interface LogLine {
  offset: number;
  segment: number | null;
  time: string | null;
  module: string | null;
  level: number | string | null;
  text: string;
  raw: string;
  flags: string[];
}

export interface ReachJob {
  id: number;
  via: 'notify' | 'push';
  status: 'running' | 'done' | 'cancelled';
  total: number;
  done: number;
  outcomes: Record<string, number>;
  createdAt: string;
  updatedAt: string;
}

export interface ReachResult {
  mac: string;
  via: 'notify' | 'push';
  outcome: 'ok' | 'rejected' | 'timeout' | 'error';
  status: number | null;
  detail: string;
  target: string;
  job: number | null;
  at: string;
}

export interface OverrideFile {
  kind: 'phone' | 'web';
  path: string;
  version: number;
  size: number;
  createdAt: string;
  problem: string | null;
  parameters: { name: string; value: string }[];
  empty: boolean;
}

export interface DeviceOverrides {
  mac: string;
  phone: OverrideFile | null;
  web: OverrideFile | null;
  versions: { kind: 'phone' | 'web'; path: string; version: number; served: boolean; empty: boolean; createdAt: string }[];
}

export interface DirectoryContact {
  firstName: string;
  lastName: string;
  contact: string;
  speedDial?: number;
  label?: string;
  protocol?: string;
}

export interface DirectoryView {
  tenant: string;
  mac: string | null;
  source: { kind: 'site-file' | 'device-upload' | 'device-file' | 'none'; path: string; size?: number; storedAt?: string; version?: number; versions?: number; problem?: string | null };
  contacts: DirectoryContact[];
  problems: string[];
  readable: boolean;
  blobKey: string | null;
}

// Sites, groups, model policies, tenants and users (the admin editors).

export interface Group {
  slug: string;
  name: string;
}

export interface ModelPolicy {
  model: string;
  /** This model's APP_FILE_PATH, or null for the tenant's. */
  appFilePath: string | null;
}

/** An administrator as GET /api/v1/users shows it. */
export interface AdminUser {
  username: string;
  role: 'super-admin' | 'tenant-admin' | 'read-only';
  tenant: string | null;
  disabled: boolean;
  createdAt: string;
}

/** The answer of POST /api/v1/users and PATCH /api/v1/users/{username}; `password` only when generated. */
export interface AdminUserWithPassword {
  user: AdminUser;
  password?: string;
}

/** An API token as lists show it (never the token itself). */
export interface ApiToken {
  id: number;
  name: string;
  prefix: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
  expiresAt: string | null;
}

/** The answer of POST /api/v1/me/tokens: `token` is shown this once. */
export interface NewApiToken {
  token: string;
  id: number;
  prefix: string;
  expiresAt: string | null;
}

/** The answer of POST /api/v1/tenants: the provisioning password is shown this once. */
export interface NewTenant {
  tenant: Tenant;
  password: string;
}

// ---- firmware library, targets and rollouts (console-firmware) ----

/** One image of a release, as GET …/firmware shows it. */
export interface FirmwareImage {
  fileName: string;
  kind: 'application' | 'bootrom' | 'updater' | 'dect' | 'file';
  partNumber: string | null;
  models: string[];
  size: number;
  sha256: string;
}

export interface FirmwareRelease {
  version: string;
  library: 'tenant' | 'global';
  /** A global release the tenant's own copy of the same version hides. */
  shadowed: boolean;
  folder: string;
  layout: 'split' | 'combined' | 'mixed' | 'files';
  source: string;
  createdAt: string;
  models: string[];
  size: number;
  images: FirmwareImage[];
}

/** One row of GET …/firmware-status. */
export interface FirmwareFleetRow {
  running: string;
  target: string;
  devices: number;
  state: 'on-target' | 'not-on-target' | 'no-target';
}

/** The firmware settings of one policy layer (GET/PUT/DELETE …/firmware-target). */
export interface FirmwareTarget {
  scope: string;
  version: string | null;
  allowDowngrade: boolean;
  loopDetected: string | null;
  /** Only in the answer of PUT. */
  library?: 'tenant' | 'global';
  warnings?: string[];
}

export interface RolloutSelector {
  site?: string;
  group?: string;
  model?: string;
}

export interface Rollout {
  name: string;
  from: string;
  to: string;
  selector: RolloutSelector;
  waves: number[];
  waveIntervalMs: number;
  deadlineMs: number;
  maxFailurePercent: number;
  window: string | null;
  status: 'running' | 'paused' | 'completed' | 'rolled-back';
  currentWave: number;
  waveStartedAt: string;
  reason: string | null;
  devices: number;
  createdAt: string;
  updatedAt: string;
}

export interface RolloutWave {
  wave: number;
  percent: number;
  size: number;
  updated: number;
  released: boolean;
}

/** GET …/rollouts/{name}. */
export interface RolloutStatus {
  rollout: Rollout;
  members: { mac: string; wave: number }[];
  waves: RolloutWave[];
  versions: Record<string, number>;
  stuck: { mac: string; wave: number; running: string | null; lastSeen: string | null }[];
  next: { action: 'advance' | 'complete' | 'pause' | 'resume' | 'wait'; wave?: number; reason?: string };
}
