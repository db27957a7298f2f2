// Table types for Kysely. Column names are snake_case as stored; kysely-store.ts maps rows to the
// camelCase types of store.ts. Timestamps are ISO-8601 text (`Date#toISOString()`), booleans are
// 0/1 integers, so the same queries run on SQLite and PostgreSQL.

import type { Generated } from 'kysely';

/** Single row (id = 1): the global revision, bumped by every admin change. */
export interface RevisionTable {
  id: number;
  value: number;
}

export interface TenantsTable {
  id: Generated<number>;
  slug: string;
  name: string;
  prov_username: string;
  prov_password_hash: string;
  prov_digest_ha1: string;
  path_prefix: string | null;
  /** 'serve' | 'refuse' */
  unknown_devices: string;
  app_file_path: string;
  /** JSON array of strings. */
  extra_config_files: string;
  revision: number;
  created_at: string;
  /** Log retention: size cap of a phone log's current file, older segments kept, their maximum age. */
  log_max_bytes: Generated<number>;
  log_segments: Generated<number>;
  log_max_age_days: Generated<number>;
  /** Override policy: 'allow-all' | 'allow-list' | 'deny-list'. */
  override_policy: Generated<string>;
  /** JSON array of parameter-name patterns. */
  override_patterns: Generated<string>;
  /** 0 or 1. */
  strip_disallowed_overrides: Generated<number>;
  /** JSON array of CIDR strings: client subnets that select the tenant over TFTP. */
  tftp_subnets: Generated<string>;
  /** 0 or 1: files holding passwords may be read over TFTP. */
  tftp_secrets: Generated<number>;
  /** 0 or 1: the factory PlcmSpIp/PlcmSpIp login opens this tenant. */
  factory_login: Generated<number>;
  /** 0 or 1: a device whose address falls in another site's subnets moves to that site. */
  rehome_devices: Generated<number>;
}

export interface TenantHostnamesTable {
  /** Lower-case. */
  hostname: string;
  tenant_id: number;
}

export interface DeviceGroupsTable {
  id: Generated<number>;
  tenant_id: number;
  slug: string;
  name: string;
}

export interface SitesTable extends DeviceGroupsTable {
  /** JSON array of CIDR strings: the only client subnets its devices may use TFTP from (empty: no limit). */
  tftp_subnets: Generated<string>;
  description: Generated<string>;
  location: Generated<string>;
  /** JSON array of { public: CIDR, private: CIDR[] } (domain/site-subnets.ts): devices there join the site. */
  subnets: Generated<string>;
}

export interface ModelPoliciesTable {
  id: Generated<number>;
  tenant_id: number;
  model: string;
  app_file_path: string | null;
}

export interface DevicesTable {
  id: Generated<number>;
  tenant_id: number;
  /** Lower-case, 12 hex digits. */
  mac: string;
  /** 0 = only seen on the wire, 1 = added by an administrator. */
  registered: number;
  label: string;
  site_id: number | null;
  group_id: number | null;
  app_file_path: string | null;
  first_seen: string | null;
  last_seen: string | null;
  last_ip: string | null;
  model: string | null;
  firmware: string | null;
  updater_version: string | null;
  phase: string | null;
  serial: string | null;
  last_file: string | null;
  user_agent: string | null;
}

export interface ParametersTable {
  id: Generated<number>;
  tenant_id: number;
  /** 'tenant' | 'model' | 'site' | 'group' | 'device' */
  scope: string;
  scope_id: number;
  name: string;
  value: string;
}

export interface FilesTable {
  tenant_id: number;
  path: string;
  blob_key: string;
  size: number;
  content_type: string;
  created_at: string;
}

export interface PhoneUploadsTable {
  tenant_id: number;
  path: string;
  version: number;
  mac: string;
  blob_key: string;
  size: number;
  problem: string | null;
  created_at: string;
}

export interface PhoneLogsTable {
  tenant_id: number;
  path: string;
  mac: string;
  /** Committed bytes of the current file. */
  length: number;
  /** Where the current file starts in the phone's numbering: the bytes rotated away before it. */
  base: Generated<number>;
  updated_at: string;
}

/** A UC Software release in a tenant's firmware library (tenant_id) or the global one (tenant_id null). */
export interface FirmwareReleasesTable {
  id: Generated<number>;
  tenant_id: number | null;
  /** tenant_id, or 0 for the global library: unique (scope_key, version), since NULLs never collide. */
  scope_key: number;
  version: string;
  /** 'split' | 'combined' | 'mixed' */
  layout: string;
  source: string;
  created_at: string;
}

export interface FirmwareImagesTable {
  release_id: number;
  file_name: string;
  /** 'application' | 'bootrom' | 'updater' | 'dect' */
  kind: string;
  part_number: string | null;
  /** JSON array of model names. */
  models: string;
  /** SHA-256 hex of the bytes: the key in the blob store. */
  blob_key: string;
  size: number;
}

/** A staged firmware rollout of one tenant; its devices are in rollout_members. */
export interface RolloutsTable {
  id: Generated<number>;
  tenant_id: number;
  /** Unique per tenant. */
  name: string;
  from_version: string;
  to_version: string;
  /** JSON object: { site?, group?, model? } strings. */
  selector: string;
  /** JSON array of cumulative percentages, ascending, the last 100. */
  waves: string;
  wave_interval_ms: number;
  deadline_ms: number;
  /** May be fractional (real / double precision). */
  max_failure_percent: number;
  /** UTC maintenance window "HH:MM-HH:MM", or null. */
  window: string | null;
  /** 'running' | 'paused' | 'completed' | 'rolled-back' */
  status: string;
  current_wave: number;
  wave_started_at: string;
  reason: string | null;
  created_at: string;
  updated_at: string;
}

export interface RolloutMembersTable {
  rollout_id: number;
  /** Lower-case, as in devices. */
  mac: string;
  /** Index into the rollout's waves. */
  wave: number;
}

/** One attempt to reach a phone (SIP NOTIFY or Push). Appended, never updated; pruning comes later. */
export interface ReachResultsTable {
  id: Generated<number>;
  tenant_id: number;
  /** Lower-case, as in devices. */
  mac: string;
  /** 'notify' | 'push' */
  method: string;
  /** 'ok' | 'rejected' | 'timeout' | 'error' */
  outcome: string;
  /** SIP or HTTP status of the final answer. */
  status: number | null;
  detail: string;
  target: string;
  /** The bulk job, or null for a one-off (also once the job is deleted). */
  job_id: number | null;
  at: string;
}

/** A bulk resync of one tenant's devices; its devices and their progress are in reach_job_devices. */
export interface ReachJobsTable {
  id: Generated<number>;
  tenant_id: number;
  /** 'notify' | 'push' */
  method: string;
  /** JSON object of strings. */
  selector: string;
  /** Devices per second, may be fractional (real / double precision). */
  rate: number;
  /** 0..1 (real / double precision). */
  jitter: number;
  /** 'running' | 'done' | 'cancelled' */
  status: string;
  created_at: string;
  updated_at: string;
}

export interface ReachJobDevicesTable {
  job_id: number;
  /** 0, 1, 2… in the order the devices are reached. */
  position: number;
  /** Lower-case. */
  mac: string;
  /** The latest result's outcome, or null while pending. */
  outcome: string | null;
}

/** An administrator of the REST API and console (roles: domain/admin-roles.ts). */
export interface AdminUsersTable {
  id: Generated<number>;
  /** As typed; unique whatever its case (index on lower(username)). */
  username: string;
  /** scrypt, as provisioning/credentials.ts writes it. */
  password_hash: string;
  /** 'super-admin' | 'tenant-admin' | 'read-only' */
  role: string;
  /** The one tenant the user works in, or null (super-admin, read-only over every tenant). */
  tenant_id: number | null;
  created_at: string;
  /** 0 or 1. */
  disabled: Generated<number>;
}

/** A bearer token for automation; only its SHA-256 is kept. */
export interface ApiTokensTable {
  id: Generated<number>;
  user_id: number;
  name: string;
  /** SHA-256 hex of the whole token (`pp_…`). */
  token_hash: string;
  /** The token's first characters, for people to tell tokens apart. */
  prefix: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
  expires_at: string | null;
}

/** A console login; the cookie carries the secret, the id is its SHA-256 hex. */
export interface AdminSessionsTable {
  id: string;
  user_id: number;
  csrf_token: string;
  created_at: string;
  /** Absolute end, whatever the activity. */
  expires_at: string;
  last_seen_at: string;
}

/** Who changed what, when. No foreign keys: entries outlive users and tenants. */
export interface AuditLogTable {
  id: Generated<number>;
  at: string;
  user_id: number | null;
  username: string;
  tenant_id: number | null;
  /** e.g. 'parameter.set' */
  action: string;
  /** e.g. 'site hq' */
  target: string;
  before_json: string | null;
  after_json: string | null;
  ip: string | null;
}

/** One failed login under one rate-limit key (user name + address, or address alone). */
export interface LoginFailuresTable {
  id: Generated<number>;
  key: string;
  at: string;
}

/**
 * Provisioning requests answered, per tenant (0: none known yet), minute since the epoch (UTC) and
 * protocol; rows are added to, never replaced (migration 0012).
 */
export interface RequestMetricsTable {
  tenant_id: number;
  minute: number;
  protocol: string;
  ok: number;
  failed: number;
}

export interface Database {
  revision: RevisionTable;
  tenants: TenantsTable;
  tenant_hostnames: TenantHostnamesTable;
  sites: SitesTable;
  device_groups: DeviceGroupsTable;
  model_policies: ModelPoliciesTable;
  devices: DevicesTable;
  parameters: ParametersTable;
  files: FilesTable;
  phone_uploads: PhoneUploadsTable;
  phone_logs: PhoneLogsTable;
  firmware_releases: FirmwareReleasesTable;
  firmware_images: FirmwareImagesTable;
  rollouts: RolloutsTable;
  rollout_members: RolloutMembersTable;
  reach_results: ReachResultsTable;
  reach_jobs: ReachJobsTable;
  reach_job_devices: ReachJobDevicesTable;
  admin_users: AdminUsersTable;
  api_tokens: ApiTokensTable;
  admin_sessions: AdminSessionsTable;
  audit_log: AuditLogTable;
  login_failures: LoginFailuresTable;
  request_metrics: RequestMetricsTable;
}

export type Dialect = 'sqlite' | 'postgres';
