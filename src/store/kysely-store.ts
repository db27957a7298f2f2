// The Store on Kysely: one code path for SQLite and PostgreSQL.
//
// Concurrency model:
// - Every admin mutation runs in one transaction whose first statement bumps the global revision
//   row. On PostgreSQL that row lock serializes admin writes, so the explicit uniqueness checks
//   below cannot race each other; on SQLite write transactions start with `begin immediate`
//   (see open-store.ts), which serializes them across processes.
// - recordSightings upserts device inventory with rows sorted by (tenant, mac), so concurrent
//   batches lock in the same order. It bumps revisions only when it placed a device in another site
//   (by the sites' subnets), and then last: on PostgreSQL that can deadlock with an admin write on
//   the same devices, which write() runs again.
// - applyImport reads what it needs once and writes in multi-row statements, never per row: a
//   100,000-device import is a few hundred statements.
// - Multi-query reads that must agree with each other (loadTenantPolicy, tenant + host names) run
//   in a read-only repeatable-read transaction: one snapshot on both dialects.
// - "At least one enabled super-admin remains" is checked with the super-admins locked (FOR UPDATE
//   on PostgreSQL), so two concurrent demotions cannot both pass.

import { sql } from 'kysely';
import type { Insertable, Kysely, RawBuilder, Selectable, SqlBool, Transaction } from 'kysely';
import { checkRoleScope, isRole } from '../domain/admin-roles.js';
import { DomainError } from '../domain/domain-error.js';
import { parseMac } from '../domain/mac.js';
import { findSubnetOverlap, normaliseSiteSubnets, SiteLocator } from '../domain/site-subnets.js';
import { ConflictError, NotFoundError } from './errors.js';
import type {
  AdminSessionsTable,
  AdminUsersTable,
  ApiTokensTable,
  AuditLogTable,
  Database,
  Dialect,
  DevicesTable,
  FilesTable,
  FirmwareImagesTable,
  FirmwareReleasesTable,
  ModelPoliciesTable,
  ParametersTable,
  PhoneLogsTable,
  PhoneUploadsTable,
  DeviceGroupsTable,
  ReachJobsTable,
  ReachResultsTable,
  RolloutsTable,
  SitesTable,
  TenantsTable,
  RequestMetricsTable,
} from './schema.js';
import type {
  AdminSession,
  AdminUser,
  AdminUserPatch,
  ApiToken,
  AuditEntry,
  AuditQuery,
  GroupPatch,
  NewAdminSession,
  NewAdminUser,
  NewApiToken,
  NewAuditEntry,
  Role,
  Device,
  DeviceGroup,
  DeviceInput,
  FirmwareImage,
  FirmwareImageKind,
  FirmwareLayout,
  FirmwareRelease,
  ImportCounts,
  ImportKind,
  ImportPlan,
  ModelPolicy,
  NewFirmwareRelease,
  NewTenant,
  ParameterRow,
  ParameterUpdate,
  Phase,
  PhoneLog,
  PhoneLogWrite,
  PhoneUpload,
  NewReachJob,
  NewRollout,
  ReachJob,
  ReachJobStatus,
  ReachMethod,
  ReachOutcome,
  ReachResult,
  RequestBucket,
  RequestCount,
  RequestProtocol,
  Rollout,
  RolloutPatch,
  RolloutSelector,
  RolloutStatus,
  Scope,
  ScopeKind,
  Sighting,
  Site,
  SiteFields,
  SitePatch,
  SiteSubnet,
  Store,
  StoredFile,
  Tenant,
  TenantPatch,
  TenantPolicyData,
  UnknownDevicePolicy,
  OverridePolicy,
} from './store.js';

type Db = Kysely<Database>;
type Tx = Transaction<Database>;
type TenantRow = Selectable<TenantsTable>;
type ModelRow = Selectable<ModelPoliciesTable>;
type DeviceRow = Selectable<DevicesTable>;
type ParameterDbRow = Pick<Selectable<ParametersTable>, 'scope' | 'scope_id' | 'name' | 'value'>;
type FileRow = Selectable<FilesTable>;
type FirmwareReleaseRow = Selectable<FirmwareReleasesTable>;
type FirmwareImageRow = Selectable<FirmwareImagesTable>;
type RolloutRow = Selectable<RolloutsTable>;
type RolloutMember = Rollout['members'][number];
type ReachResultRow = Selectable<ReachResultsTable>;
type ReachJobRow = Selectable<ReachJobsTable>;
/** What a job's counters are computed from: its devices' outcomes. */
type ReachJobCounts = Pick<ReachJob, 'total' | 'done' | 'outcomes'>;

/** Default APP_FILE_PATH of a new tenant: the stock name of the UC Software application image. */
export const DEFAULT_APP_FILE_PATH = 'sip.ld';
export const DEFAULT_UNKNOWN_DEVICES: UnknownDevicePolicy = 'serve';
/** Log retention of a new tenant (the same as migration 0004's column defaults). */
export const DEFAULT_LOG_RETENTION = { logMaxBytes: 10 * 1024 * 1024, logSegments: 5, logMaxAgeDays: 90 } as const;

/** Rows per multi-row INSERT: well below SQLite's 32,766 and PostgreSQL's 65,535 bound parameters. */
const INSERT_CHUNK = 500;
/** Values per `IN (…)` list. */
const IN_CHUNK = 1000;

const SCOPE_ORDER: Record<ScopeKind, number> = { tenant: 0, model: 1, site: 2, group: 3, device: 4 };

type GroupTable = 'sites' | 'device_groups';

export class KyselyStore implements Store {
  /** Read on every phone request: built and compiled once (a primary-key lookup). */
  private readonly revisionQuery;

  constructor(
    private readonly db: Db,
    readonly dialect: 'sqlite' | 'postgres',
    /**
     * A faster reader of the global revision, when the driver has one: the core reads it on every
     * phone request, and Kysely's SQLite driver prepares each statement anew (~10-17 µs against
     * ~2 µs for a statement prepared once).
     */
    private readonly fastRevision?: () => number,
  ) {
    this.revisionQuery = db.selectFrom('revision').select('value').where('id', '=', 1).compile();
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }

  async revision(): Promise<number> {
    if (this.fastRevision) return this.fastRevision();
    const { rows } = await this.db.executeQuery(this.revisionQuery);
    return rows[0] ? Number(rows[0].value) : 0;
  }

  // -------------------------------------------------------------------------------------------
  // Transactions

  /** A write transaction; driver constraint errors become ConflictError / NotFoundError. */
  private async write<T>(fn: (trx: Tx) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.db.transaction().execute(fn);
      } catch (err) {
        // PostgreSQL may abort one of two transactions that lock the same device rows in
        // different orders (e.g. deleteSite's SET NULL against an inventory batch): run it again.
        if (attempt < 3 && isRetryable(err)) continue;
        throw mapDriverError(err);
      }
    }
  }

  /** A consistent read-only snapshot across several queries. */
  private read<T>(fn: (trx: Tx) => Promise<T>): Promise<T> {
    return this.db.transaction().setIsolationLevel('repeatable read').setAccessMode('read only').execute(fn);
  }

  private async bumpGlobal(trx: Tx): Promise<void> {
    await trx
      .updateTable('revision')
      .set((eb) => ({ value: eb('value', '+', 1) }))
      .where('id', '=', 1)
      .execute();
  }

  /** Bumps the global and the tenant's revision; returns the tenant's slug, or NotFoundError. */
  private async bump(trx: Tx, tenantId: number): Promise<string> {
    await this.bumpGlobal(trx);
    const row = await trx
      .updateTable('tenants')
      .set((eb) => ({ revision: eb('revision', '+', 1) }))
      .where('id', '=', tenantId)
      .returning('slug')
      .executeTakeFirst();
    if (!row) throw new NotFoundError(`tenant ${tenantId} does not exist`);
    return row.slug;
  }

  // -------------------------------------------------------------------------------------------
  // Tenants

  async createTenant(input: NewTenant): Promise<Tenant> {
    const hostnames = normalizeHostnames(input.hostnames ?? []);
    const pathPrefix = input.pathPrefix || null;
    return this.write(async (trx) => {
      await this.bumpGlobal(trx);
      await this.checkTenantUnique(trx, undefined, { slug: input.slug, provUsername: input.provUsername, pathPrefix, hostnames });
      const row = await trx
        .insertInto('tenants')
        .values({
          slug: input.slug,
          name: input.name,
          prov_username: input.provUsername,
          prov_password_hash: input.provPasswordHash,
          prov_digest_ha1: input.provDigestHa1,
          path_prefix: pathPrefix,
          unknown_devices: input.unknownDevices ?? DEFAULT_UNKNOWN_DEVICES,
          app_file_path: input.appFilePath ?? DEFAULT_APP_FILE_PATH,
          extra_config_files: JSON.stringify(input.extraConfigFiles ?? []),
          revision: 1,
          created_at: new Date().toISOString(),
          log_max_bytes: input.logMaxBytes ?? DEFAULT_LOG_RETENTION.logMaxBytes,
          log_segments: input.logSegments ?? DEFAULT_LOG_RETENTION.logSegments,
          log_max_age_days: input.logMaxAgeDays ?? DEFAULT_LOG_RETENTION.logMaxAgeDays,
          override_policy: input.overridePolicy ?? 'allow-all',
          override_patterns: JSON.stringify(input.overridePatterns ?? []),
          strip_disallowed_overrides: input.stripDisallowedOverrides ? 1 : 0,
          tftp_subnets: JSON.stringify(input.tftpSubnets ?? []),
          tftp_secrets: input.tftpSecrets ? 1 : 0,
          factory_login: input.factoryLogin ? 1 : 0,
          rehome_devices: input.rehomeDevices ? 1 : 0,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      if (hostnames.length) {
        await trx
          .insertInto('tenant_hostnames')
          .values(hostnames.map((hostname) => ({ hostname, tenant_id: row.id })))
          .execute();
      }
      return toTenant(row, hostnames);
    });
  }

  async updateTenant(id: number, patch: TenantPatch): Promise<Tenant> {
    const hostnames = patch.hostnames === undefined ? undefined : normalizeHostnames(patch.hostnames);
    const pathPrefix = patch.pathPrefix === undefined ? undefined : patch.pathPrefix || null;
    return this.write(async (trx) => {
      await this.bumpGlobal(trx);
      const current = await trx.selectFrom('tenants').select('id').where('id', '=', id).executeTakeFirst();
      if (!current) throw new NotFoundError(`tenant ${id} does not exist`);
      await this.checkTenantUnique(trx, id, { provUsername: patch.provUsername, pathPrefix, hostnames });
      const row = await trx
        .updateTable('tenants')
        .set((eb) => ({
          revision: eb('revision', '+', 1),
          ...defined({
            name: patch.name,
            prov_username: patch.provUsername,
            prov_password_hash: patch.provPasswordHash,
            prov_digest_ha1: patch.provDigestHa1,
            path_prefix: pathPrefix,
            unknown_devices: patch.unknownDevices,
            app_file_path: patch.appFilePath,
            extra_config_files: patch.extraConfigFiles === undefined ? undefined : JSON.stringify(patch.extraConfigFiles),
            log_max_bytes: patch.logMaxBytes,
            log_segments: patch.logSegments,
            log_max_age_days: patch.logMaxAgeDays,
            override_policy: patch.overridePolicy,
            override_patterns: patch.overridePatterns === undefined ? undefined : JSON.stringify(patch.overridePatterns),
            strip_disallowed_overrides: patch.stripDisallowedOverrides === undefined ? undefined : patch.stripDisallowedOverrides ? 1 : 0,
            tftp_subnets: patch.tftpSubnets === undefined ? undefined : JSON.stringify(patch.tftpSubnets),
            tftp_secrets: patch.tftpSecrets === undefined ? undefined : patch.tftpSecrets ? 1 : 0,
            factory_login: patch.factoryLogin === undefined ? undefined : patch.factoryLogin ? 1 : 0,
            rehome_devices: patch.rehomeDevices === undefined ? undefined : patch.rehomeDevices ? 1 : 0,
          }),
        }))
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirstOrThrow();
      if (hostnames !== undefined) {
        await trx.deleteFrom('tenant_hostnames').where('tenant_id', '=', id).execute();
        if (hostnames.length) {
          await trx
            .insertInto('tenant_hostnames')
            .values(hostnames.map((hostname) => ({ hostname, tenant_id: id })))
            .execute();
        }
      }
      return toTenant(row, await hostnamesOf(trx, id));
    });
  }

  /** Explicit checks, so the message can name the tenant that already holds the value. */
  private async checkTenantUnique(
    trx: Tx,
    selfId: number | undefined,
    v: { slug?: string; provUsername?: string; pathPrefix?: string | null; hostnames?: string[] },
  ): Promise<void> {
    const others = trx.selectFrom('tenants').select('slug').$if(selfId !== undefined, (q) => q.where('id', '!=', selfId!));
    if (v.slug !== undefined) {
      const hit = await others.where('slug', '=', v.slug).executeTakeFirst();
      if (hit) throw new ConflictError(`tenant "${v.slug}" already exists`);
    }
    if (v.provUsername !== undefined) {
      const hit = await others.where('prov_username', '=', v.provUsername).executeTakeFirst();
      if (hit) throw new ConflictError(`provisioning username "${v.provUsername}" is used by tenant "${hit.slug}"`);
    }
    if (v.pathPrefix) {
      const hit = await others.where('path_prefix', '=', v.pathPrefix).executeTakeFirst();
      if (hit) throw new ConflictError(`path prefix "${v.pathPrefix}" is used by tenant "${hit.slug}"`);
    }
    if (v.hostnames?.length) {
      const hit = await trx
        .selectFrom('tenant_hostnames as h')
        .innerJoin('tenants as t', 't.id', 'h.tenant_id')
        .select(['h.hostname', 't.slug'])
        .where('h.hostname', 'in', v.hostnames)
        .$if(selfId !== undefined, (q) => q.where('h.tenant_id', '!=', selfId!))
        .orderBy('h.hostname')
        .executeTakeFirst();
      if (hit) throw new ConflictError(`host name "${hit.hostname}" is used by tenant "${hit.slug}"`);
    }
  }

  async getTenantBySlug(slug: string): Promise<Tenant | undefined> {
    return this.read(async (trx) => {
      const row = await trx.selectFrom('tenants').selectAll().where('slug', '=', slug).executeTakeFirst();
      return row ? toTenant(row, await hostnamesOf(trx, row.id)) : undefined;
    });
  }

  async listTenants(): Promise<Tenant[]> {
    return this.read(async (trx) => {
      const rows = await trx.selectFrom('tenants').selectAll().execute();
      const hosts = await trx.selectFrom('tenant_hostnames').select(['hostname', 'tenant_id']).execute();
      const byTenant = new Map<number, string[]>();
      for (const h of hosts) {
        const list = byTenant.get(h.tenant_id);
        if (list) list.push(h.hostname);
        else byTenant.set(h.tenant_id, [h.hostname]);
      }
      return rows
        .map((r) => toTenant(r, (byTenant.get(r.id) ?? []).sort(compare)))
        .sort((a, b) => compare(a.slug, b.slug));
    });
  }

  async deleteTenant(id: number): Promise<void> {
    await this.write(async (trx) => {
      await this.bumpGlobal(trx);
      // The foreign keys cascade too; deleting explicitly keeps this independent of them.
      await trx.deleteFrom('reach_results').where('tenant_id', '=', id).execute();
      await trx.deleteFrom('request_metrics').where('tenant_id', '=', id).execute();
      const jobs = trx.selectFrom('reach_jobs').select('id').where('tenant_id', '=', id);
      await trx.deleteFrom('reach_job_devices').where('job_id', 'in', jobs).execute();
      await trx.deleteFrom('reach_jobs').where('tenant_id', '=', id).execute();
      const rollouts = trx.selectFrom('rollouts').select('id').where('tenant_id', '=', id);
      await trx.deleteFrom('rollout_members').where('rollout_id', 'in', rollouts).execute();
      await trx.deleteFrom('rollouts').where('tenant_id', '=', id).execute();
      const releases = trx.selectFrom('firmware_releases').select('id').where('tenant_id', '=', id);
      await trx.deleteFrom('firmware_images').where('release_id', 'in', releases).execute();
      await trx.deleteFrom('firmware_releases').where('tenant_id', '=', id).execute();
      for (const table of ['parameters', 'files', 'devices', 'model_policies', 'sites', 'device_groups', 'tenant_hostnames'] as const) {
        await trx.deleteFrom(table).where('tenant_id', '=', id).execute();
      }
      // Its administrators go with it; audit entries stay (they refer to nothing).
      const users = trx.selectFrom('admin_users').select('id').where('tenant_id', '=', id);
      await trx.deleteFrom('admin_sessions').where('user_id', 'in', users).execute();
      await trx.deleteFrom('api_tokens').where('user_id', 'in', users).execute();
      await trx.deleteFrom('admin_users').where('tenant_id', '=', id).execute();
      const res = await trx.deleteFrom('tenants').where('id', '=', id).executeTakeFirst();
      if (!res.numDeletedRows) throw new NotFoundError(`tenant ${id} does not exist`);
    });
  }

  // -------------------------------------------------------------------------------------------
  // Sites and device groups (same shape, different tables)

  private async createGrouping(table: GroupTable, what: string, tenantId: number, slug: string, name: string): Promise<Site> {
    return this.write(async (trx) => {
      const tenantSlug = await this.bump(trx, tenantId);
      const t = table as 'sites';
      const hit = await trx.selectFrom(t).select('id').where('tenant_id', '=', tenantId).where('slug', '=', slug).executeTakeFirst();
      if (hit) throw new ConflictError(`${what} "${slug}" already exists in tenant "${tenantSlug}"`);
      const row = await trx.insertInto(t).values({ tenant_id: tenantId, slug, name }).returningAll().executeTakeFirstOrThrow();
      return toSite(row);
    });
  }

  private async listGrouping(table: GroupTable, tenantId: number): Promise<Site[]> {
    const rows = await this.db
      .selectFrom(table as 'sites')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .execute();
    return rows.map(toSite).sort((a, b) => compare(a.slug, b.slug));
  }

  private async getGrouping(table: GroupTable, tenantId: number, slug: string): Promise<Site | undefined> {
    const row = await this.db
      .selectFrom(table as 'sites')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('slug', '=', slug)
      .executeTakeFirst();
    return row ? toSite(row) : undefined;
  }

  private async deleteGrouping(table: GroupTable, kind: 'site' | 'group', tenantId: number, id: number): Promise<void> {
    await this.write(async (trx) => {
      const tenantSlug = await this.bump(trx, tenantId);
      const column = kind === 'site' ? 'site_id' : 'group_id';
      // ON DELETE SET NULL does this too; explicit so it holds even without foreign keys enforced.
      await trx.updateTable('devices').set({ [column]: null }).where('tenant_id', '=', tenantId).where(column, '=', id).execute();
      await deleteScopeParameters(trx, tenantId, kind, id);
      const res = await trx
        .deleteFrom(table as 'sites')
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .executeTakeFirst();
      if (!res.numDeletedRows) throw new NotFoundError(`${kind} ${id} does not exist in tenant "${tenantSlug}"`);
    });
  }

  async createSite(tenantId: number, slug: string, name: string, fields: SiteFields = {}): Promise<Site> {
    const subnets = fields.subnets === undefined ? undefined : normaliseSiteSubnets(fields.subnets);
    return this.write(async (trx) => {
      const tenantSlug = await this.bump(trx, tenantId);
      const hit = await trx.selectFrom('sites').select('id').where('tenant_id', '=', tenantId).where('slug', '=', slug).executeTakeFirst();
      if (hit) throw new ConflictError(`site "${slug}" already exists in tenant "${tenantSlug}"`);
      if (subnets?.length) await checkSiteSubnets(trx, tenantId, tenantSlug, undefined, slug, subnets);
      const row = await trx
        .insertInto('sites')
        .values({ tenant_id: tenantId, slug, name, ...siteColumns({ ...fields, subnets }) })
        .returningAll()
        .executeTakeFirstOrThrow();
      return toSite(row);
    });
  }
  listSites(tenantId: number): Promise<Site[]> {
    return this.listGrouping('sites', tenantId);
  }
  getSite(tenantId: number, slug: string): Promise<Site | undefined> {
    return this.getGrouping('sites', tenantId, slug);
  }
  deleteSite(tenantId: number, id: number): Promise<void> {
    return this.deleteGrouping('sites', 'site', tenantId, id);
  }
  async updateSite(tenantId: number, id: number, patch: SitePatch): Promise<Site> {
    const subnets = patch.subnets === undefined ? undefined : normaliseSiteSubnets(patch.subnets);
    return this.write(async (trx) => {
      const tenantSlug = await this.bump(trx, tenantId);
      const current = await trx.selectFrom('sites').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
      if (!current) throw new NotFoundError(`site ${id} does not exist in tenant "${tenantSlug}"`);
      if (subnets?.length) await checkSiteSubnets(trx, tenantId, tenantSlug, current.id, current.slug, subnets);
      const set = { ...defined({ name: patch.name }), ...siteColumns({ ...patch, subnets }) };
      if (!Object.keys(set).length) return toSite(current);
      const row = await trx.updateTable('sites').set(set).where('id', '=', current.id).returningAll().executeTakeFirstOrThrow();
      return toSite(row);
    });
  }

  createGroup(tenantId: number, slug: string, name: string): Promise<DeviceGroup> {
    return this.createGrouping('device_groups', 'group', tenantId, slug, name);
  }
  listGroups(tenantId: number): Promise<DeviceGroup[]> {
    return this.listGrouping('device_groups', tenantId);
  }
  getGroup(tenantId: number, slug: string): Promise<DeviceGroup | undefined> {
    return this.getGrouping('device_groups', tenantId, slug);
  }
  deleteGroup(tenantId: number, id: number): Promise<void> {
    return this.deleteGrouping('device_groups', 'group', tenantId, id);
  }
  async updateGroup(tenantId: number, id: number, patch: GroupPatch): Promise<DeviceGroup> {
    return this.write(async (trx) => {
      const tenantSlug = await this.bump(trx, tenantId);
      const current = await trx.selectFrom('device_groups').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
      if (!current) throw new NotFoundError(`group ${id} does not exist in tenant "${tenantSlug}"`);
      if (patch.slug !== undefined && patch.slug !== current.slug) {
        const hit = await trx.selectFrom('device_groups').select('id').where('tenant_id', '=', tenantId).where('slug', '=', patch.slug).executeTakeFirst();
        if (hit) throw new ConflictError(`group "${patch.slug}" already exists in tenant "${tenantSlug}": choose another slug, or remove that group first`);
      }
      const set = defined({ slug: patch.slug, name: patch.name });
      if (!Object.keys(set).length) return toSite(current);
      const row = await trx.updateTable('device_groups').set(set).where('id', '=', current.id).returningAll().executeTakeFirstOrThrow();
      return toSite(row);
    });
  }

  // -------------------------------------------------------------------------------------------
  // Model policies

  async upsertModelPolicy(tenantId: number, model: string, patch: { appFilePath?: string | null }): Promise<ModelPolicy> {
    return this.write(async (trx) => {
      await this.bump(trx, tenantId);
      const current = await trx
        .selectFrom('model_policies')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('model', '=', model)
        .executeTakeFirst();
      if (!current) {
        const row = await trx
          .insertInto('model_policies')
          .values({ tenant_id: tenantId, model, app_file_path: patch.appFilePath ?? null })
          .returningAll()
          .executeTakeFirstOrThrow();
        return toModel(row);
      }
      if (patch.appFilePath === undefined) return toModel(current);
      const row = await trx
        .updateTable('model_policies')
        .set({ app_file_path: patch.appFilePath })
        .where('id', '=', current.id)
        .returningAll()
        .executeTakeFirstOrThrow();
      return toModel(row);
    });
  }

  async listModelPolicies(tenantId: number): Promise<ModelPolicy[]> {
    const rows = await this.db.selectFrom('model_policies').selectAll().where('tenant_id', '=', tenantId).execute();
    return rows.map(toModel).sort((a, b) => compare(a.model, b.model));
  }

  async getModelPolicy(tenantId: number, model: string): Promise<ModelPolicy | undefined> {
    const row = await this.db
      .selectFrom('model_policies')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('model', '=', model)
      .executeTakeFirst();
    return row ? toModel(row) : undefined;
  }

  async deleteModelPolicy(tenantId: number, id: number): Promise<void> {
    await this.write(async (trx) => {
      const tenantSlug = await this.bump(trx, tenantId);
      await deleteScopeParameters(trx, tenantId, 'model', id);
      const res = await trx.deleteFrom('model_policies').where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
      if (!res.numDeletedRows) throw new NotFoundError(`model policy ${id} does not exist in tenant "${tenantSlug}"`);
    });
  }

  // -------------------------------------------------------------------------------------------
  // Devices

  async registerDevice(tenantId: number, mac: string, input: DeviceInput): Promise<Device> {
    const m = normalizeMac(mac);
    return this.write(async (trx) => {
      const tenantSlug = await this.bump(trx, tenantId);
      await checkDeviceRefs(trx, tenantId, tenantSlug, input);
      // Insert-or-nothing first: an inventory batch may insert the same MAC concurrently (on
      // PostgreSQL ON CONFLICT waits for it), and then we adopt the row it wrote.
      const inserted = await trx
        .insertInto('devices')
        .values({
          tenant_id: tenantId,
          mac: m,
          registered: 1,
          label: input.label ?? '',
          site_id: input.siteId ?? null,
          group_id: input.groupId ?? null,
          app_file_path: input.appFilePath ?? null,
        })
        .onConflict((oc) => oc.columns(['tenant_id', 'mac']).doNothing())
        .returningAll()
        .executeTakeFirst();
      if (inserted) return toDevice(inserted);
      const adopted = await trx
        .updateTable('devices')
        .set({ registered: 1, ...deviceFields(input) })
        .where('tenant_id', '=', tenantId)
        .where('mac', '=', m)
        .where('registered', '=', 0)
        .returningAll()
        .executeTakeFirst();
      if (!adopted) throw new ConflictError(`device ${m} is already registered in tenant "${tenantSlug}"`);
      return toDevice(adopted);
    });
  }

  async updateDevice(tenantId: number, id: number, input: DeviceInput): Promise<Device> {
    return this.write(async (trx) => {
      const tenantSlug = await this.bump(trx, tenantId);
      await checkDeviceRefs(trx, tenantId, tenantSlug, input);
      const fields = deviceFields(input);
      const row = Object.keys(fields).length
        ? await trx.updateTable('devices').set(fields).where('tenant_id', '=', tenantId).where('id', '=', id).returningAll().executeTakeFirst()
        : await trx.selectFrom('devices').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
      if (!row) throw new NotFoundError(`device ${id} does not exist in tenant "${tenantSlug}"`);
      return toDevice(row);
    });
  }

  async getDevice(tenantId: number, mac: string): Promise<Device | undefined> {
    const row = await this.db
      .selectFrom('devices')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('mac', '=', normalizeMac(mac))
      .executeTakeFirst();
    return row ? toDevice(row) : undefined;
  }

  async listDevices(tenantId: number): Promise<Device[]> {
    const rows = await this.db.selectFrom('devices').selectAll().where('tenant_id', '=', tenantId).execute();
    return rows.map(toDevice).sort((a, b) => compare(a.mac, b.mac));
  }

  async deleteDevice(tenantId: number, id: number): Promise<void> {
    await this.write(async (trx) => {
      const tenantSlug = await this.bump(trx, tenantId);
      await deleteScopeParameters(trx, tenantId, 'device', id);
      const res = await trx.deleteFrom('devices').where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
      if (!res.numDeletedRows) throw new NotFoundError(`device ${id} does not exist in tenant "${tenantSlug}"`);
    });
  }

  async recordSightings(sightings: Sighting[]): Promise<void> {
    const rows = mergeSightings(sightings);
    if (!rows.length) return;
    const privateIps = latestPrivateIps(sightings);
    await this.write(async (trx) => {
      // Sightings of a tenant deleted meanwhile are dropped (otherwise the foreign key would fail
      // the whole batch, and the recorder would retry it forever).
      const tenantIds = [...new Set(rows.map((r) => r.tenant_id))];
      const rehome = new Map<number, boolean>();
      for (const ids of chunks(tenantIds, IN_CHUNK)) {
        const found = await trx.selectFrom('tenants').select(['id', 'rehome_devices']).where('id', 'in', ids).execute();
        for (const t of found) rehome.set(Number(t.id), Number(t.rehome_devices) === 1);
      }
      const kept = rows.filter((r) => rehome.has(r.tenant_id));
      // The tenants' sites are read once per batch; tenants without site subnets place nothing.
      const locators = await siteLocators(trx, [...rehome.keys()]);
      const moves = new Map<number, number[]>();
      const movedTenants = new Set<number>();
      for (const chunk of chunks(kept, INSERT_CHUNK)) {
        const upsert = this.upsertSightings(trx, chunk);
        const addressed = new Set(chunk.filter((r) => r.last_ip !== null && locators.has(r.tenant_id)).map((r) => `${r.tenant_id}|${r.mac}`));
        if (!addressed.size) {
          await upsert.execute();
          continue;
        }
        // The stored row after the merge: its site, and its newest address (a late batch's is older).
        for (const d of await upsert.returning(['id', 'tenant_id', 'mac', 'site_id', 'last_ip']).execute()) {
          const tenantId = Number(d.tenant_id);
          const key = `${tenantId}|${d.mac}`;
          if (!addressed.has(key) || d.last_ip === null) continue;
          const current = d.site_id == null ? null : Number(d.site_id);
          if (current !== null && !rehome.get(tenantId)) continue;
          const site = locators.get(tenantId)!.siteFor(d.last_ip, privateIps.get(key));
          if (site === null || site === current) continue;
          const ids = moves.get(site);
          if (ids) ids.push(Number(d.id));
          else moves.set(site, [Number(d.id)]);
          movedTenants.add(tenantId);
        }
      }
      for (const [site, ids] of moves) {
        for (const chunk of chunks(ids, IN_CHUNK)) await trx.updateTable('devices').set({ site_id: site }).where('id', 'in', chunk).execute();
      }
      // A device in another site gets another policy: the snapshots of those tenants must reload.
      if (movedTenants.size) {
        await this.bumpGlobal(trx);
        await trx
          .updateTable('tenants')
          .set((eb) => ({ revision: eb('revision', '+', 1) }))
          .where('id', 'in', [...movedTenants])
          .execute();
      }
    });
  }

  /** The inventory upsert of recordSightings, for one chunk of merged rows. */
  private upsertSightings(trx: Tx, chunk: SightingRow[]) {
    return trx
      .insertInto('devices')
      .values(chunk)
      .onConflict((oc) =>
        oc.columns(['tenant_id', 'mac']).doUpdateSet({
          first_seen: sql<string>`case when devices.first_seen is null or excluded.first_seen < devices.first_seen then excluded.first_seen else devices.first_seen end`,
          last_seen: sql<string>`case when devices.last_seen is null or excluded.last_seen > devices.last_seen then excluded.last_seen else devices.last_seen end`,
          last_ip: inventoryField('last_ip'),
          model: inventoryField('model'),
          firmware: inventoryField('firmware'),
          updater_version: inventoryField('updater_version'),
          phase: inventoryField('phase'),
          serial: inventoryField('serial'),
          last_file: inventoryField('last_file'),
          user_agent: inventoryField('user_agent'),
        }),
      );
  }

  // -------------------------------------------------------------------------------------------
  // Bulk import: every step reads what exists once, decides in memory, then writes only the rows
  // that change, in multi-row statements.

  async applyImport(tenantId: number, plan: ImportPlan): Promise<ImportCounts> {
    const p = checkImportPlan(plan);
    return this.write(async (trx) => {
      const tenantSlug = await this.bump(trx, tenantId);
      const foreign = await registeredTenants(trx, this.dialect, p.devices.map((d) => d.mac), tenantId);
      const stray = p.devices.find((d) => foreign.has(d.mac));
      if (stray) {
        throw new ConflictError(`device ${stray.mac} is registered in tenant "${foreign.get(stray.mac)}": delete it there first, or leave it out of the import into tenant "${tenantSlug}"`);
      }
      const work: ImportWork = { dialect: this.dialect, tenantId, tenantSlug, counts: noImportCounts(), updated: { sites: new Set(), groups: new Set(), models: new Set(), devices: new Set() }, layers: [] };
      const siteIds = await importSites(trx, work, p.sites);
      const groupIds = await importGroups(trx, work, p.groups);
      await importModels(trx, work, p.models);
      await importDevices(trx, work, p.devices, siteIds, groupIds);
      await importParameters(trx, work);
      for (const kind of IMPORT_KINDS) work.counts.updated[kind] = work.updated[kind].size;
      return work.counts;
    });
  }

  async findDeviceTenants(macs: string[]): Promise<Map<string, string>> {
    return this.read((trx) => registeredTenants(trx, this.dialect, [...new Set(macs.map(normalizeMac))], undefined));
  }

  // -------------------------------------------------------------------------------------------
  // Parameters

  async setParameters(tenantId: number, scope: Scope, values: Record<string, string>): Promise<void> {
    const entries = Object.entries(values);
    for (const [name, value] of entries) {
      if (typeof value !== 'string') throw new TypeError(`parameter ${name}: value must be a string`);
    }
    await this.write(async (trx) => {
      const tenantSlug = await this.bump(trx, tenantId);
      await checkScope(trx, tenantId, tenantSlug, scope);
      const rows = entries.map(([name, value]) => ({ tenant_id: tenantId, scope: scope.kind, scope_id: scope.id, name, value }));
      for (const chunk of chunks(rows, INSERT_CHUNK)) {
        await trx
          .insertInto('parameters')
          .values(chunk)
          .onConflict((oc) =>
            oc.columns(['tenant_id', 'scope', 'scope_id', 'name']).doUpdateSet((eb) => ({ value: eb.ref('excluded.value') })),
          )
          .execute();
      }
    });
  }

  async unsetParameters(tenantId: number, scope: Scope, names: string[]): Promise<number> {
    return this.write(async (trx) => {
      await this.bump(trx, tenantId);
      let removed = 0;
      for (const chunk of chunks([...new Set(names)], IN_CHUNK)) {
        const res = await trx
          .deleteFrom('parameters')
          .where('tenant_id', '=', tenantId)
          .where('scope', '=', scope.kind)
          .where('scope_id', '=', scope.id)
          .where('name', 'in', chunk)
          .executeTakeFirst();
        removed += Number(res.numDeletedRows);
      }
      return removed;
    });
  }

  async replaceLayerParameters(tenantId: number, scope: Scope, values: Record<string, string>, keep?: (name: string) => boolean): Promise<void> {
    const entries = Object.entries(values);
    for (const [name, value] of entries) {
      if (typeof value !== 'string') throw new TypeError(`parameter ${name}: value must be a string`);
      if (keep?.(name)) throw new TypeError(`parameter ${name} is kept as it is by this replacement: leave it out of the values`);
    }
    await this.write(async (trx) => {
      const tenantSlug = await this.bump(trx, tenantId);
      await checkScope(trx, tenantId, tenantSlug, scope);
      const layer = trx
        .deleteFrom('parameters')
        .where('tenant_id', '=', tenantId)
        .where('scope', '=', scope.kind)
        .where('scope_id', '=', scope.id);
      if (keep === undefined) {
        await layer.execute();
      } else {
        // Kept names are picked in code, so the rule is exactly the caller's (no LIKE, whose case rules differ by dialect).
        const names = await trx
          .selectFrom('parameters')
          .select('name')
          .where('tenant_id', '=', tenantId)
          .where('scope', '=', scope.kind)
          .where('scope_id', '=', scope.id)
          .execute();
        for (const chunk of chunks(names.map((r) => r.name).filter((n) => !keep(n)), IN_CHUNK)) {
          await layer.where('name', 'in', chunk).execute();
        }
      }
      const rows = entries.map(([name, value]) => ({ tenant_id: tenantId, scope: scope.kind, scope_id: scope.id, name, value }));
      for (const chunk of chunks(rows, INSERT_CHUNK)) await trx.insertInto('parameters').values(chunk).execute();
    });
  }

  async listParameters(tenantId: number, scope?: Scope): Promise<ParameterRow[]> {
    const rows = await this.db
      .selectFrom('parameters')
      .select(['scope', 'scope_id', 'name', 'value'])
      .where('tenant_id', '=', tenantId)
      .$if(scope !== undefined, (q) => q.where('scope', '=', scope!.kind).where('scope_id', '=', scope!.id))
      .execute();
    return sortParameters(rows.map(toParameter));
  }

  // -------------------------------------------------------------------------------------------
  // Files

  async putFile(file: Omit<StoredFile, 'createdAt'>): Promise<StoredFile> {
    if (!Number.isSafeInteger(file.size) || file.size < 0) throw new TypeError(`file ${file.path}: bad size ${file.size}`);
    return this.write(async (trx) => {
      await this.bump(trx, file.tenantId);
      const row = await trx
        .insertInto('files')
        .values({
          tenant_id: file.tenantId,
          path: file.path,
          blob_key: file.blobKey,
          size: file.size,
          content_type: file.contentType,
          created_at: new Date().toISOString(),
        })
        .onConflict((oc) =>
          oc.columns(['tenant_id', 'path']).doUpdateSet((eb) => ({
            blob_key: eb.ref('excluded.blob_key'),
            size: eb.ref('excluded.size'),
            content_type: eb.ref('excluded.content_type'),
            created_at: eb.ref('excluded.created_at'),
          })),
        )
        .returningAll()
        .executeTakeFirstOrThrow();
      return toFile(row);
    });
  }

  async recordPhoneUpload(u: Omit<PhoneUpload, 'version' | 'createdAt'>): Promise<PhoneUpload> {
    if (!Number.isSafeInteger(u.size) || u.size < 0) throw new TypeError(`upload ${u.path}: bad size ${u.size}`);
    return this.write(async (trx) => {
      const last = await trx
        .selectFrom('phone_uploads')
        .select((eb) => eb.fn.max('version').as('v'))
        .where('tenant_id', '=', u.tenantId)
        .where('path', '=', u.path)
        .executeTakeFirst();
      const row = await trx
        .insertInto('phone_uploads')
        .values({
          tenant_id: u.tenantId,
          path: u.path,
          version: Number(last?.v ?? 0) + 1,
          mac: u.mac,
          blob_key: u.blobKey,
          size: u.size,
          problem: u.problem,
          created_at: new Date().toISOString(),
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return toPhoneUpload(row);
    });
  }

  async latestPhoneUpload(tenantId: number, path: string): Promise<PhoneUpload | undefined> {
    const row = await this.db
      .selectFrom('phone_uploads')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('path', '=', path)
      .orderBy('version', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row ? toPhoneUpload(row) : undefined;
  }

  async listPhoneUploads(tenantId: number, mac?: string): Promise<PhoneUpload[]> {
    let q = this.db.selectFrom('phone_uploads').selectAll().where('tenant_id', '=', tenantId);
    if (mac !== undefined) q = q.where('mac', '=', mac);
    const rows = await q.execute();
    return rows.map(toPhoneUpload).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.version - b.version));
  }

  async getPhoneLog(tenantId: number, path: string): Promise<PhoneLog | undefined> {
    const row = await this.db.selectFrom('phone_logs').selectAll().where('tenant_id', '=', tenantId).where('path', '=', path).executeTakeFirst();
    return row ? toPhoneLog(row) : undefined;
  }

  async listPhoneLogs(tenantId: number, mac?: string): Promise<PhoneLog[]> {
    const rows = await this.db
      .selectFrom('phone_logs')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .$if(mac !== undefined, (q) => q.where('mac', '=', normalizeMac(mac!)))
      .execute();
    return rows.map(toPhoneLog).sort((a, b) => compare(a.path, b.path));
  }

  async updatePhoneLog(tenantId: number, path: string, mac: string, write: (length: number, base: number) => Promise<PhoneLogWrite>): Promise<number> {
    // SQLite: the write transaction's `begin immediate` is the lock. PostgreSQL: the row lock taken
    // by FOR UPDATE (after making sure the row exists), so appends to different logs run in parallel.
    // Another process may hold SQLite's write lock for longer than busy_timeout under a stream of
    // appends; `begin immediate` then fails before `write` ran, so trying again is safe.
    for (let attempt = 1; ; attempt++) {
      let began = false;
      try {
        return await this.logTransaction(tenantId, path, mac, write, () => (began = true));
      } catch (err) {
        const busy = (err as { code?: unknown } | null)?.code === 'SQLITE_BUSY';
        if (!busy || began || attempt >= 4) throw err;
      }
    }
  }

  private logTransaction(
    tenantId: number,
    path: string,
    mac: string,
    write: (length: number, base: number) => Promise<PhoneLogWrite>,
    onBegin: () => void,
  ): Promise<number> {
    return this.db.transaction().execute(async (trx) => {
      onBegin();
      const now = new Date().toISOString();
      await trx
        .insertInto('phone_logs')
        .values({ tenant_id: tenantId, path, mac, length: 0, updated_at: now })
        .onConflict((oc) => oc.columns(['tenant_id', 'path']).doNothing())
        .execute();
      let q = trx.selectFrom('phone_logs').select(['length', 'base']).where('tenant_id', '=', tenantId).where('path', '=', path);
      if (this.dialect === 'postgres') q = q.forUpdate();
      const row = await q.executeTakeFirstOrThrow();
      const written = await write(Number(row.length), Number(row.base));
      const next = typeof written === 'number' ? { length: written, base: Number(row.base) } : written;
      if (![next.length, next.base].every((n) => Number.isSafeInteger(n) && n >= 0)) {
        throw new RangeError(`updatePhoneLog: length and base must be non-negative integers (got ${next.length}, ${next.base})`);
      }
      await trx
        .updateTable('phone_logs')
        .set({ length: next.length, base: next.base, updated_at: now })
        .where('tenant_id', '=', tenantId)
        .where('path', '=', path)
        .execute();
      return next.length;
    });
  }

  async getFile(tenantId: number, path: string): Promise<StoredFile | undefined> {
    const row = await this.db.selectFrom('files').selectAll().where('tenant_id', '=', tenantId).where('path', '=', path).executeTakeFirst();
    return row ? toFile(row) : undefined;
  }

  async listFiles(tenantId: number): Promise<StoredFile[]> {
    const rows = await this.db.selectFrom('files').selectAll().where('tenant_id', '=', tenantId).execute();
    return rows.map(toFile).sort((a, b) => compare(a.path, b.path));
  }

  async deleteFile(tenantId: number, path: string): Promise<boolean> {
    return this.write(async (trx) => {
      await this.bump(trx, tenantId);
      const res = await trx.deleteFrom('files').where('tenant_id', '=', tenantId).where('path', '=', path).executeTakeFirst();
      return Number(res.numDeletedRows) > 0;
    });
  }

  // -------------------------------------------------------------------------------------------

  async loadTenantPolicy(tenantId: number): Promise<TenantPolicyData> {
    return this.read(async (trx) => {
      const row = await trx.selectFrom('tenants').selectAll().where('id', '=', tenantId).executeTakeFirst();
      if (!row) throw new NotFoundError(`tenant ${tenantId} does not exist`);
      const hostnames = await hostnamesOf(trx, tenantId);
      const sites = await trx.selectFrom('sites').selectAll().where('tenant_id', '=', tenantId).execute();
      const groups = await trx.selectFrom('device_groups').selectAll().where('tenant_id', '=', tenantId).execute();
      const models = await trx.selectFrom('model_policies').selectAll().where('tenant_id', '=', tenantId).execute();
      const devices = await trx.selectFrom('devices').selectAll().where('tenant_id', '=', tenantId).where('registered', '=', 1).execute();
      const placed = await trx
        .selectFrom('devices')
        .select(['mac', 'site_id'])
        .where('tenant_id', '=', tenantId)
        .where('registered', '=', 0)
        .where('site_id', 'is not', null)
        .execute();
      const parameters = await trx.selectFrom('parameters').select(['scope', 'scope_id', 'name', 'value']).where('tenant_id', '=', tenantId).execute();
      const files = await trx.selectFrom('files').selectAll().where('tenant_id', '=', tenantId).execute();
      const firmware = await firmwareOf(trx, [tenantId, GLOBAL_LIBRARY]);
      const rollouts = await rolloutsOf(trx, tenantId);
      return {
        tenant: toTenant(row, hostnames),
        sites: sites.map(toSite).sort((a, b) => compare(a.slug, b.slug)),
        groups: groups.map(toSite).sort((a, b) => compare(a.slug, b.slug)),
        models: models.map(toModel).sort((a, b) => compare(a.model, b.model)),
        devices: devices.map(toDevice).sort((a, b) => compare(a.mac, b.mac)),
        placed: placed.map((d) => ({ mac: d.mac, siteId: Number(d.site_id) })).sort((a, b) => compare(a.mac, b.mac)),
        parameters: sortParameters(parameters.map(toParameter)),
        files: files.map(toFile).sort((a, b) => compare(a.path, b.path)),
        firmware,
        rollouts,
      };
    });
  }

  // -------------------------------------------------------------------------------------------
  // Firmware libraries

  /**
   * Bumps what a change to one library invalidates: the global and the tenant's revision
   * (NotFoundError for an unknown tenant), or for the global library the global revision and every
   * tenant's. Returns the library's name for messages.
   */
  private async bumpLibrary(trx: Tx, tenantId: number | null): Promise<string> {
    if (tenantId === null) {
      await this.bumpGlobal(trx);
      await trx
        .updateTable('tenants')
        .set((eb) => ({ revision: eb('revision', '+', 1) }))
        .execute();
      return 'the global firmware library';
    }
    return `the firmware library of tenant "${await this.bump(trx, tenantId)}"`;
  }

  async addFirmwareRelease(release: NewFirmwareRelease): Promise<FirmwareRelease> {
    const { tenantId, version } = release;
    const key = libraryKey(tenantId);
    const images = [...release.images].sort((a, b) => compare(a.fileName, b.fileName));
    images.forEach((img, i) => {
      if (!Number.isSafeInteger(img.size) || img.size < 0) throw new TypeError(`firmware ${version}, ${img.fileName}: bad size ${img.size}`);
      if (i > 0 && images[i - 1]!.fileName === img.fileName) throw new ConflictError(`firmware ${version}: more than one image is named "${img.fileName}"`);
    });
    return this.write(async (trx) => {
      const library = await this.bumpLibrary(trx, tenantId);
      const hit = await trx.selectFrom('firmware_releases').select('id').where('scope_key', '=', key).where('version', '=', version).executeTakeFirst();
      if (hit) throw new ConflictError(`firmware release "${version}" already exists in ${library}`);
      const row = await trx
        .insertInto('firmware_releases')
        .values({
          tenant_id: tenantId,
          scope_key: key,
          version,
          layout: release.layout,
          source: release.source,
          created_at: new Date().toISOString(),
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      const rows = images.map(
        (img): FirmwareImageRow => ({
          release_id: row.id,
          file_name: img.fileName,
          kind: img.kind,
          part_number: img.partNumber,
          models: JSON.stringify(img.models),
          blob_key: img.blobKey,
          size: img.size,
        }),
      );
      for (const chunk of chunks(rows, INSERT_CHUNK)) await trx.insertInto('firmware_images').values(chunk).execute();
      return toFirmwareRelease(row, rows.map(toFirmwareImage));
    });
  }

  async listFirmwareReleases(tenantId: number | null): Promise<FirmwareRelease[]> {
    const key = libraryKey(tenantId);
    return this.read((trx) => firmwareOf(trx, [key]));
  }

  async getFirmwareRelease(tenantId: number | null, version: string): Promise<FirmwareRelease | undefined> {
    const key = libraryKey(tenantId);
    return this.read(async (trx) => {
      const row = await trx.selectFrom('firmware_releases').selectAll().where('scope_key', '=', key).where('version', '=', version).executeTakeFirst();
      if (!row) return undefined;
      const images = await trx.selectFrom('firmware_images').selectAll().where('release_id', '=', row.id).execute();
      return toFirmwareRelease(row, images.map(toFirmwareImage).sort((a, b) => compare(a.fileName, b.fileName)));
    });
  }

  async deleteFirmwareRelease(tenantId: number | null, version: string): Promise<boolean> {
    const key = libraryKey(tenantId);
    return this.write(async (trx) => {
      await this.bumpLibrary(trx, tenantId);
      const row = await trx.selectFrom('firmware_releases').select('id').where('scope_key', '=', key).where('version', '=', version).executeTakeFirst();
      if (!row) return false;
      // The foreign key cascades too; explicit, as in deleteTenant.
      await trx.deleteFrom('firmware_images').where('release_id', '=', row.id).execute();
      await trx.deleteFrom('firmware_releases').where('id', '=', row.id).execute();
      return true;
    });
  }

  // -------------------------------------------------------------------------------------------
  // Rollouts

  async createRollout(rollout: NewRollout): Promise<Rollout> {
    const v = checkNewRollout(rollout);
    const { tenantId, name } = rollout;
    return this.write(async (trx) => {
      const tenantSlug = await this.bump(trx, tenantId);
      const hit = await trx.selectFrom('rollouts').select('id').where('tenant_id', '=', tenantId).where('name', '=', name).executeTakeFirst();
      if (hit) throw new ConflictError(`rollout "${name}" already exists in tenant "${tenantSlug}"`);
      await checkNotInActiveRollout(trx, tenantId, tenantSlug, v.members, undefined);
      const now = new Date().toISOString();
      const row = await trx
        .insertInto('rollouts')
        .values({
          tenant_id: tenantId,
          name,
          from_version: rollout.fromVersion,
          to_version: rollout.toVersion,
          selector: JSON.stringify(v.selector),
          waves: JSON.stringify(v.waves),
          wave_interval_ms: rollout.waveIntervalMs,
          deadline_ms: rollout.deadlineMs,
          max_failure_percent: rollout.maxFailurePercent,
          window: v.window,
          status: 'running',
          current_wave: 0,
          wave_started_at: v.waveStartedAt,
          reason: null,
          created_at: now,
          updated_at: now,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      const rows = v.members.map((m) => ({ rollout_id: row.id, mac: m.mac, wave: m.wave }));
      for (const chunk of chunks(rows, INSERT_CHUNK)) await trx.insertInto('rollout_members').values(chunk).execute();
      return toRollout(row, v.members);
    });
  }

  async listRollouts(tenantId: number): Promise<Rollout[]> {
    return this.read((trx) => rolloutsOf(trx, tenantId));
  }

  async getRollout(tenantId: number, name: string): Promise<Rollout | undefined> {
    return this.read(async (trx) => {
      const row = await trx.selectFrom('rollouts').selectAll().where('tenant_id', '=', tenantId).where('name', '=', name).executeTakeFirst();
      return row ? toRollout(row, await membersOf(trx, row.id)) : undefined;
    });
  }

  async updateRollout(tenantId: number, id: number, patch: RolloutPatch): Promise<Rollout> {
    const p = checkRolloutPatch(patch);
    return this.write(async (trx) => {
      const tenantSlug = await this.bump(trx, tenantId);
      const current = await trx.selectFrom('rollouts').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
      if (!current) throw new NotFoundError(`rollout ${id} does not exist in tenant "${tenantSlug}"`);
      const waves = parseNumberArray(current.waves);
      if (p.current_wave !== undefined && p.current_wave >= waves.length) {
        throw new TypeError(`rollout "${current.name}": wave ${p.current_wave} does not exist (it has ${waves.length}, numbered from 0)`);
      }
      const members = await membersOf(trx, current.id);
      // A device is in at most one running or paused rollout: reviving a finished one must not break that.
      if (p.status !== undefined && isActive(p.status) && !isActive(current.status)) {
        await checkNotInActiveRollout(trx, tenantId, tenantSlug, members, current.id);
      }
      const row = await trx
        .updateTable('rollouts')
        .set({ ...p, updated_at: new Date().toISOString() })
        .where('id', '=', current.id)
        .returningAll()
        .executeTakeFirstOrThrow();
      return toRollout(row, members);
    });
  }

  async deleteRollout(tenantId: number, name: string): Promise<boolean> {
    return this.write(async (trx) => {
      await this.bump(trx, tenantId);
      const row = await trx.selectFrom('rollouts').select('id').where('tenant_id', '=', tenantId).where('name', '=', name).executeTakeFirst();
      if (!row) return false;
      // The foreign key cascades too; explicit, as in deleteTenant.
      await trx.deleteFrom('rollout_members').where('rollout_id', '=', row.id).execute();
      await trx.deleteFrom('rollouts').where('id', '=', row.id).execute();
      return true;
    });
  }

  // -------------------------------------------------------------------------------------------
  // Reaching phones. Nothing here bumps a revision: it does not change what phones are served.

  async recordReachResults(results: ReachResult[]): Promise<void> {
    const rows = results.map(checkReachResult);
    if (!rows.length) return;
    await this.write(async (trx) => {
      const slugs = new Map<number, string>();
      for (const ids of chunks([...new Set(rows.map((r) => r.tenant_id))], IN_CHUNK)) {
        for (const t of await trx.selectFrom('tenants').select(['id', 'slug']).where('id', 'in', ids).execute()) slugs.set(Number(t.id), t.slug);
      }
      const unknown = rows.find((r) => !slugs.has(r.tenant_id));
      if (unknown) throw new NotFoundError(`reach result for ${unknown.mac}: tenant ${unknown.tenant_id} does not exist`);

      // Jobs in id order and their devices in MAC order, so concurrent batches lock rows alike.
      const jobIds = [...new Set(rows.flatMap((r) => (r.job_id === null ? [] : [r.job_id])))].sort((a, b) => a - b);
      const jobTenants = new Map<number, number>();
      for (const ids of chunks(jobIds, IN_CHUNK)) {
        for (const j of await trx.selectFrom('reach_jobs').select(['id', 'tenant_id']).where('id', 'in', ids).execute()) jobTenants.set(Number(j.id), Number(j.tenant_id));
      }
      const stray = rows.find((r) => r.job_id !== null && jobTenants.get(r.job_id) !== r.tenant_id);
      if (stray) throw new NotFoundError(`reach job ${stray.job_id} does not exist in tenant "${slugs.get(stray.tenant_id)}"`);

      for (const chunk of chunks(rows, INSERT_CHUNK)) await trx.insertInto('reach_results').values(chunk).execute();

      // The last result for a job device is its outcome: a retry replaces the earlier one.
      const outcomes = new Map<number, Map<string, string>>(jobIds.map((id) => [id, new Map()]));
      for (const r of rows) if (r.job_id !== null) outcomes.get(r.job_id)!.set(r.mac, r.outcome);
      for (const [jobId, byMac] of outcomes) {
        const macsByOutcome = new Map<string, string[]>();
        for (const mac of [...byMac.keys()].sort(compare)) {
          const outcome = byMac.get(mac)!;
          const list = macsByOutcome.get(outcome);
          if (list) list.push(mac);
          else macsByOutcome.set(outcome, [mac]);
        }
        let updated = 0;
        for (const [outcome, macs] of macsByOutcome) {
          for (const chunk of chunks(macs, IN_CHUNK)) {
            const res = await trx.updateTable('reach_job_devices').set({ outcome }).where('job_id', '=', jobId).where('mac', 'in', chunk).executeTakeFirst();
            updated += Number(res.numUpdatedRows);
          }
        }
        if (updated !== byMac.size) {
          const missing = await firstNotInJob(trx, jobId, [...byMac.keys()].sort(compare));
          throw new NotFoundError(`device ${missing} is not in reach job ${jobId} of tenant "${slugs.get(jobTenants.get(jobId)!)}"`);
        }
      }
      if (jobIds.length) {
        const now = new Date().toISOString();
        for (const ids of chunks(jobIds, IN_CHUNK)) await trx.updateTable('reach_jobs').set({ updated_at: now }).where('id', 'in', ids).execute();
      }
    });
  }

  async latestReachResults(tenantId: number, mac?: string): Promise<ReachResult[]> {
    // Ids grow with insertion, so max(id) per (mac, method) is the newest result: the times in
    // `at` come from the callers' clocks and may tie or disagree.
    const newest = this.db
      .selectFrom('reach_results')
      .select((eb) => eb.fn.max('id').as('id'))
      .where('tenant_id', '=', tenantId)
      .$if(mac !== undefined, (q) => q.where('mac', '=', normalizeMac(mac!)))
      .groupBy(['mac', 'method']);
    const rows = await this.db.selectFrom('reach_results').selectAll().where('id', 'in', newest).execute();
    return rows.map(toReachResult).sort((a, b) => compare(a.mac, b.mac) || compare(a.method, b.method));
  }

  async reachHistory(tenantId: number, mac: string, limit: number): Promise<ReachResult[]> {
    if (!Number.isSafeInteger(limit) || limit < 0) throw new TypeError(`reach history: bad limit ${String(limit)}: expected a whole number of results, 0 or more`);
    if (limit === 0) return [];
    const rows = await this.db
      .selectFrom('reach_results')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('mac', '=', normalizeMac(mac))
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
    return rows.map(toReachResult);
  }

  async createReachJob(job: NewReachJob): Promise<ReachJob> {
    const v = checkNewReachJob(job);
    return this.write(async (trx) => {
      const tenant = await trx.selectFrom('tenants').select('id').where('id', '=', job.tenantId).executeTakeFirst();
      if (!tenant) throw new NotFoundError(`reach job: tenant ${job.tenantId} does not exist`);
      const now = new Date().toISOString();
      const row = await trx
        .insertInto('reach_jobs')
        .values({
          tenant_id: job.tenantId,
          method: job.method,
          selector: JSON.stringify(v.selector),
          rate: job.ratePerSecond,
          jitter: job.jitter,
          status: 'running',
          created_at: now,
          updated_at: now,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      const devices = v.macs.map((mac, position) => ({ job_id: row.id, position, mac, outcome: null }));
      for (const chunk of chunks(devices, INSERT_CHUNK)) await trx.insertInto('reach_job_devices').values(chunk).execute();
      return toReachJob(row, { ...noReachCounts(), total: devices.length });
    });
  }

  async getReachJob(tenantId: number, id: number): Promise<ReachJob | undefined> {
    return this.read(async (trx) => {
      const row = await trx.selectFrom('reach_jobs').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
      return row ? toReachJob(row, (await reachJobCounts(trx, tenantId, row.id)).get(Number(row.id)) ?? noReachCounts()) : undefined;
    });
  }

  async listReachJobs(tenantId: number): Promise<ReachJob[]> {
    return this.read(async (trx) => {
      const rows = await trx.selectFrom('reach_jobs').selectAll().where('tenant_id', '=', tenantId).orderBy('id', 'desc').execute();
      if (!rows.length) return [];
      const counts = await reachJobCounts(trx, tenantId);
      return rows.map((r) => toReachJob(r, counts.get(Number(r.id)) ?? noReachCounts()));
    });
  }

  async pendingReachJobDevices(tenantId: number, jobId: number): Promise<string[]> {
    return this.read(async (trx) => {
      const job = await trx.selectFrom('reach_jobs').select('id').where('tenant_id', '=', tenantId).where('id', '=', jobId).executeTakeFirst();
      if (!job) throw new NotFoundError(`reach job ${jobId} does not exist in ${await tenantLabel(trx, tenantId)}`);
      const rows = await trx.selectFrom('reach_job_devices').select('mac').where('job_id', '=', jobId).where('outcome', 'is', null).orderBy('position').execute();
      return rows.map((r) => r.mac);
    });
  }

  async setReachJobStatus(tenantId: number, jobId: number, status: ReachJobStatus): Promise<ReachJob> {
    if (!REACH_JOB_STATUSES.includes(status)) throw new TypeError(`reach job: unknown status ${JSON.stringify(status)}: expected one of ${REACH_JOB_STATUSES.join(', ')}`);
    return this.write(async (trx) => {
      const row = await trx
        .updateTable('reach_jobs')
        .set({ status, updated_at: new Date().toISOString() })
        .where('tenant_id', '=', tenantId)
        .where('id', '=', jobId)
        .returningAll()
        .executeTakeFirst();
      if (!row) throw new NotFoundError(`reach job ${jobId} does not exist in ${await tenantLabel(trx, tenantId)}`);
      return toReachJob(row, (await reachJobCounts(trx, tenantId, row.id)).get(Number(row.id)) ?? noReachCounts());
    });
  }

  // -------------------------------------------------------------------------------------------
  // Administrators, API tokens, sessions, the audit log and login failures. Nothing here bumps a
  // revision: phones are served the same.

  async createAdminUser(user: NewAdminUser): Promise<AdminUser> {
    const v = checkAdminUser(user.username, user);
    if (typeof user.passwordHash !== 'string' || !user.passwordHash) throw new TypeError(`admin user "${v.username}": no password hash`);
    return this.write(async (trx) => {
      const hit = await adminUserNamed(trx, v.username);
      if (hit) throw new ConflictError(`user "${hit.username}" already exists`);
      if (v.tenantId !== null) await requireTenantRow(trx, v.tenantId);
      const row = await trx
        .insertInto('admin_users')
        .values({
          username: v.username,
          password_hash: user.passwordHash,
          role: v.role,
          tenant_id: v.tenantId,
          created_at: new Date().toISOString(),
          disabled: user.disabled ? 1 : 0,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return toAdminUser(row);
    });
  }

  async getAdminUser(id: number): Promise<AdminUser | undefined> {
    const row = await this.db.selectFrom('admin_users').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toAdminUser(row) : undefined;
  }

  async getAdminUserByName(username: string): Promise<AdminUser | undefined> {
    const row = await adminUserNamed(this.db, username);
    return row ? toAdminUser(row) : undefined;
  }

  async listAdminUsers(filter: { tenantId?: number } = {}): Promise<AdminUser[]> {
    const rows = await this.db
      .selectFrom('admin_users')
      .selectAll()
      .$if(filter.tenantId !== undefined, (q) => q.where('tenant_id', '=', filter.tenantId!))
      .execute();
    return rows.map(toAdminUser).sort((a, b) => compare(a.username.toLowerCase(), b.username.toLowerCase()));
  }

  async updateAdminUser(id: number, patch: AdminUserPatch): Promise<AdminUser> {
    if (patch.passwordHash !== undefined && (typeof patch.passwordHash !== 'string' || !patch.passwordHash)) throw new TypeError(`admin user ${id}: empty password hash`);
    return this.write(async (trx) => {
      const current = await trx.selectFrom('admin_users').selectAll().where('id', '=', id).executeTakeFirst();
      if (!current) throw new NotFoundError(`admin user ${id} does not exist`);
      const next = checkAdminUser(current.username, {
        role: patch.role ?? (current.role as Role),
        tenantId: patch.tenantId !== undefined ? patch.tenantId : current.tenant_id === null ? null : Number(current.tenant_id),
      });
      const disabled = patch.disabled ?? Number(current.disabled) === 1;
      if (isActiveSuperAdmin(current.role, current.disabled) && !(next.role === 'super-admin' && !disabled)) {
        await this.checkAnotherSuperAdmin(trx, current);
      }
      if (next.tenantId !== null && next.tenantId !== current.tenant_id) await requireTenantRow(trx, next.tenantId);
      const row = await trx
        .updateTable('admin_users')
        .set({
          role: next.role,
          tenant_id: next.tenantId,
          disabled: disabled ? 1 : 0,
          ...defined({ password_hash: patch.passwordHash }),
        })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirstOrThrow();
      // A new password or disabling ends every console login of the user.
      if (patch.passwordHash !== undefined || (disabled && Number(current.disabled) !== 1)) {
        await trx.deleteFrom('admin_sessions').where('user_id', '=', id).execute();
      }
      return toAdminUser(row);
    });
  }

  async deleteAdminUser(id: number): Promise<boolean> {
    return this.write(async (trx) => {
      const current = await trx.selectFrom('admin_users').selectAll().where('id', '=', id).executeTakeFirst();
      if (!current) return false;
      if (isActiveSuperAdmin(current.role, current.disabled)) await this.checkAnotherSuperAdmin(trx, current);
      // The foreign keys cascade too; explicit, as in deleteTenant.
      await trx.deleteFrom('admin_sessions').where('user_id', '=', id).execute();
      await trx.deleteFrom('api_tokens').where('user_id', '=', id).execute();
      await trx.deleteFrom('admin_users').where('id', '=', id).execute();
      return true;
    });
  }

  /**
   * ConflictError unless an enabled super-admin other than `user` remains. On PostgreSQL the
   * enabled super-admins are locked first, so two transactions that each demote a different one
   * cannot both see the other remain (SQLite's write transactions are serialized already).
   */
  private async checkAnotherSuperAdmin(trx: Tx, user: Selectable<AdminUsersTable>): Promise<void> {
    const others = await trx
      .selectFrom('admin_users')
      .select('id')
      .where('role', '=', 'super-admin')
      .where('disabled', '=', 0)
      .$if(this.dialect === 'postgres', (q) => q.forUpdate())
      .execute();
    if (!others.some((o) => Number(o.id) !== Number(user.id))) {
      throw new ConflictError(`user "${user.username}" is the last enabled super-admin: add (or enable) another super-admin first`);
    }
  }

  async createApiToken(token: NewApiToken): Promise<ApiToken> {
    const what = `API token "${String(token.name)}"`;
    if (typeof token.name !== 'string' || !token.name) throw new TypeError('API token: no name');
    if (typeof token.tokenHash !== 'string' || !/^[0-9a-f]{64}$/.test(token.tokenHash)) throw new TypeError(`${what}: the hash must be SHA-256 in lower-case hex`);
    if (typeof token.prefix !== 'string' || !token.prefix) throw new TypeError(`${what}: no prefix`);
    const expiresAt = token.expiresAt === null || token.expiresAt === undefined ? null : isoTime(`${what}: expiresAt`, token.expiresAt);
    return this.write(async (trx) => {
      const user = await trx.selectFrom('admin_users').select('id').where('id', '=', token.userId).executeTakeFirst();
      if (!user) throw new NotFoundError(`${what}: admin user ${token.userId} does not exist`);
      const row = await trx
        .insertInto('api_tokens')
        .values({
          user_id: token.userId,
          name: token.name,
          token_hash: token.tokenHash,
          prefix: token.prefix,
          created_at: new Date().toISOString(),
          last_used_at: null,
          revoked_at: null,
          expires_at: expiresAt,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return toApiToken(row);
    });
  }

  async getApiToken(id: number): Promise<ApiToken | undefined> {
    const row = await this.db.selectFrom('api_tokens').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toApiToken(row) : undefined;
  }

  async findApiTokenByHash(tokenHash: string): Promise<{ token: ApiToken; user: AdminUser } | undefined> {
    const row = await this.db
      .selectFrom('api_tokens as t')
      .innerJoin('admin_users as u', 'u.id', 't.user_id')
      .selectAll('t')
      .select(USER_COLUMNS)
      .where('t.token_hash', '=', tokenHash)
      .executeTakeFirst();
    return row ? { token: toApiToken(row), user: userOfJoin(row) } : undefined;
  }

  async touchApiToken(id: number, at: string): Promise<void> {
    const time = isoTime('touchApiToken', at);
    await this.write((trx) =>
      trx
        .updateTable('api_tokens')
        .set({ last_used_at: time })
        .where('id', '=', id)
        .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', time)]))
        .execute(),
    );
  }

  async revokeApiToken(id: number, at: string): Promise<ApiToken | undefined> {
    const time = isoTime('revokeApiToken', at);
    return this.write(async (trx) => {
      await trx.updateTable('api_tokens').set({ revoked_at: time }).where('id', '=', id).where('revoked_at', 'is', null).execute();
      const row = await trx.selectFrom('api_tokens').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? toApiToken(row) : undefined;
    });
  }

  async listApiTokens(userId: number): Promise<ApiToken[]> {
    const rows = await this.db.selectFrom('api_tokens').selectAll().where('user_id', '=', userId).orderBy('id').execute();
    return rows.map(toApiToken);
  }

  async createSession(session: NewAdminSession): Promise<AdminSession> {
    if (typeof session.id !== 'string' || !/^[0-9a-f]{64}$/.test(session.id)) throw new TypeError('admin session: the id must be SHA-256 in lower-case hex');
    if (typeof session.csrfToken !== 'string' || !session.csrfToken) throw new TypeError('admin session: no CSRF token');
    const createdAt = isoTime('admin session: createdAt', session.createdAt);
    const expiresAt = isoTime('admin session: expiresAt', session.expiresAt);
    return this.write(async (trx) => {
      const user = await trx.selectFrom('admin_users').select('id').where('id', '=', session.userId).executeTakeFirst();
      if (!user) throw new NotFoundError(`admin session: admin user ${session.userId} does not exist`);
      const row = await trx
        .insertInto('admin_sessions')
        .values({ id: session.id, user_id: session.userId, csrf_token: session.csrfToken, created_at: createdAt, expires_at: expiresAt, last_seen_at: createdAt })
        .returningAll()
        .executeTakeFirstOrThrow();
      return toAdminSession(row);
    });
  }

  async findSession(id: string): Promise<{ session: AdminSession; user: AdminUser } | undefined> {
    const row = await this.db
      .selectFrom('admin_sessions as s')
      .innerJoin('admin_users as u', 'u.id', 's.user_id')
      .selectAll('s')
      .select(USER_COLUMNS)
      .where('s.id', '=', id)
      .executeTakeFirst();
    return row ? { session: toAdminSession(row), user: userOfJoin(row) } : undefined;
  }

  async touchSession(id: string, at: string): Promise<void> {
    const time = isoTime('touchSession', at);
    await this.write((trx) => trx.updateTable('admin_sessions').set({ last_seen_at: time }).where('id', '=', id).where('last_seen_at', '<', time).execute());
  }

  async deleteSession(id: string): Promise<boolean> {
    const res = await this.write((trx) => trx.deleteFrom('admin_sessions').where('id', '=', id).executeTakeFirst());
    return Number(res.numDeletedRows) > 0;
  }

  async deleteUserSessions(userId: number): Promise<number> {
    const res = await this.write((trx) => trx.deleteFrom('admin_sessions').where('user_id', '=', userId).executeTakeFirst());
    return Number(res.numDeletedRows);
  }

  async pruneSessions(now: string, idleSince: string): Promise<number> {
    const end = isoTime('pruneSessions: now', now);
    const idle = isoTime('pruneSessions: idleSince', idleSince);
    const res = await this.write((trx) =>
      trx
        .deleteFrom('admin_sessions')
        .where((eb) => eb.or([eb('expires_at', '<=', end), eb('last_seen_at', '<', idle)]))
        .executeTakeFirst(),
    );
    return Number(res.numDeletedRows);
  }

  async appendAudit(entries: NewAuditEntry[]): Promise<void> {
    const rows = entries.map(checkAuditEntry);
    if (!rows.length) return;
    await this.write(async (trx) => {
      // One row per statement on large batches would be slow; chunks keep ids in the given order.
      for (const chunk of chunks(rows, INSERT_CHUNK)) await trx.insertInto('audit_log').values(chunk).execute();
    });
  }

  async listAudit(query: AuditQuery): Promise<AuditEntry[]> {
    const { limit, before, tenantId } = query;
    if (!Number.isSafeInteger(limit) || limit < 0) throw new TypeError(`audit log: bad limit ${String(limit)}: expected a whole number of entries, 0 or more`);
    if (before !== undefined && (!Number.isSafeInteger(before) || before <= 0)) throw new TypeError(`audit log: bad cursor ${String(before)}: expected the id of an entry`);
    if (tenantId !== undefined && tenantId !== null && !Number.isSafeInteger(tenantId)) throw new TypeError(`audit log: bad tenant id ${String(tenantId)}`);
    if (limit === 0) return [];
    const rows = await this.db
      .selectFrom('audit_log')
      .selectAll()
      .$if(tenantId === null, (q) => q.where('tenant_id', 'is', null))
      .$if(typeof tenantId === 'number', (q) => q.where('tenant_id', '=', tenantId!))
      .$if(before !== undefined, (q) => q.where('id', '<', before!))
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
    return rows.map(toAuditEntry);
  }

  async recordLoginFailure(keys: string[], at: string, forgetBefore?: string): Promise<void> {
    const time = isoTime('recordLoginFailure: at', at);
    const forget = forgetBefore === undefined ? undefined : isoTime('recordLoginFailure: forgetBefore', forgetBefore);
    for (const key of keys) if (typeof key !== 'string' || !key) throw new TypeError('recordLoginFailure: every key must be a non-empty string');
    await this.write(async (trx) => {
      if (forget !== undefined) await trx.deleteFrom('login_failures').where('at', '<', forget).execute();
      if (keys.length) await trx.insertInto('login_failures').values(keys.map((key) => ({ key, at: time }))).execute();
    });
  }

  async recentLoginFailures(key: string, since: string, limit: number): Promise<string[]> {
    if (!Number.isSafeInteger(limit) || limit < 0) throw new TypeError(`recentLoginFailures: bad limit ${String(limit)}`);
    if (limit === 0) return [];
    const rows = await this.db
      .selectFrom('login_failures')
      .select('at')
      .where('key', '=', key)
      .where('at', '>=', isoTime('recentLoginFailures: since', since))
      .orderBy('at', 'desc')
      .limit(limit)
      .execute();
    return rows.map((r) => r.at);
  }

  async clearLoginFailures(key: string): Promise<void> {
    await this.write((trx) => trx.deleteFrom('login_failures').where('key', '=', key).execute());
  }

  // -------------------------------------------------------------------------------------------
  // Request metrics (migration 0012): minutes since the epoch, tenant 0 for no known tenant.

  async addRequestCounts(counts: RequestCount[]): Promise<void> {
    const rows = mergeRequestCounts(counts);
    if (!rows.length) return;
    // Rows in key order, so two workers adding into the same rows lock them in the same order.
    await this.write(async (trx) => {
      const m = trx;
      for (const chunk of chunks(rows, INSERT_CHUNK)) {
        await m
          .insertInto('request_metrics')
          .values(chunk)
          .onConflict((oc) =>
            oc.columns(['tenant_id', 'minute', 'protocol']).doUpdateSet({
              ok: sql<number>`request_metrics.ok + excluded.ok`,
              failed: sql<number>`request_metrics.failed + excluded.failed`,
            }),
          )
          .execute();
      }
    });
  }

  async requestBuckets(tenantId: number | null, range: { from: string; to: string; bucketMinutes: number }): Promise<RequestBucket[]> {
    const n = range.bucketMinutes;
    if (!Number.isSafeInteger(n) || n < 1 || n > MAX_BUCKET_MINUTES) throw new TypeError(`requestBuckets: bucketMinutes must be an integer from 1 to ${MAX_BUCKET_MINUTES} (got ${String(n)})`);
    const from = minuteAtOrAfter('requestBuckets: from', range.from);
    const to = minuteAtOrAfter('requestBuckets: to', range.to);
    // A literal, not a parameter: PostgreSQL matches the GROUP BY expression to the selected one by its text.
    const bucket = sql<number>`(minute / ${sql.lit(n)}) * ${sql.lit(n)}`;
    const rows = await this.db
      .selectFrom('request_metrics')
      .select((eb) => [bucket.as('bucket'), 'protocol', eb.fn.sum<number | string>('ok').as('ok'), eb.fn.sum<number | string>('failed').as('failed')])
      .where('tenant_id', '=', tenantOrNone(tenantId))
      .where('minute', '>=', from)
      .where('minute', '<', to)
      .groupBy([bucket, 'protocol'])
      .orderBy('bucket')
      .orderBy('protocol')
      .execute();
    return rows.map((r) => ({ at: new Date(Number(r.bucket) * MINUTE_MS).toISOString(), protocol: r.protocol as RequestProtocol, ok: Number(r.ok), failed: Number(r.failed) }));
  }

  async pruneRequestCounts(before: string): Promise<number> {
    const minute = minuteAtOrAfter('pruneRequestCounts: before', before);
    const res = await this.write((trx) => trx.deleteFrom('request_metrics').where('minute', '<', minute).executeTakeFirst());
    return Number(res.numDeletedRows);
  }
}

// ---------------------------------------------------------------------------------------------
// Request metrics (migration 0012).

const MINUTE_MS = 60_000;
/** A year: larger buckets make no chart. */
const MAX_BUCKET_MINUTES = 525_600;
/** tenant_id of requests no tenant was known for. */
const NO_TENANT = 0;
const REQUEST_PROTOCOLS: readonly RequestProtocol[] = ['http', 'https', 'tftp', 'ftp', 'ftps'];

function tenantOrNone(tenantId: number | null): number {
  if (tenantId === null) return NO_TENANT;
  if (!Number.isSafeInteger(tenantId) || tenantId < 1) throw new TypeError(`request metrics: bad tenant id ${String(tenantId)}`);
  return tenantId;
}

/** The first whole minute (since the epoch) starting at or after an ISO time, or TypeError. */
function minuteAtOrAfter(what: string, iso: string): number {
  const ms = typeof iso === 'string' ? Date.parse(iso) : NaN;
  if (!Number.isFinite(ms)) throw new TypeError(`${what}: not an ISO-8601 time: ${String(iso)}`);
  return Math.ceil(ms / MINUTE_MS);
}

/** Checked counts summed by (tenant, minute, protocol), in that key order; all-zero rows dropped. */
function mergeRequestCounts(counts: readonly RequestCount[]): RequestMetricsTable[] {
  const byKey = new Map<string, RequestMetricsTable>();
  for (const c of counts) {
    const tenant_id = tenantOrNone(c.tenantId);
    if (!REQUEST_PROTOCOLS.includes(c.protocol)) throw new TypeError(`addRequestCounts: unknown protocol ${JSON.stringify(c.protocol)} (expected one of ${REQUEST_PROTOCOLS.join(', ')})`);
    const ms = typeof c.minute === 'string' ? Date.parse(c.minute) : NaN;
    if (!Number.isFinite(ms) || ms % MINUTE_MS !== 0) throw new TypeError(`addRequestCounts: minute must be an ISO time on a minute boundary (got ${String(c.minute)})`);
    for (const n of [c.ok, c.failed]) if (!Number.isSafeInteger(n) || n < 0) throw new TypeError(`addRequestCounts: counts must be non-negative integers (got ${String(n)})`);
    const minute = ms / MINUTE_MS;
    const key = `${tenant_id}|${minute}|${c.protocol}`;
    const row = byKey.get(key);
    if (row) {
      row.ok += c.ok;
      row.failed += c.failed;
    } else byKey.set(key, { tenant_id, minute, protocol: c.protocol, ok: c.ok, failed: c.failed });
  }
  return [...byKey.values()]
    .filter((r) => r.ok + r.failed > 0)
    .sort((a, b) => a.tenant_id - b.tenant_id || a.minute - b.minute || compare(a.protocol, b.protocol));
}

// ---------------------------------------------------------------------------------------------
// Helpers

/**
 * An inventory column on conflict: absent in the batch → keep; batch at least as recent as the
 * stored last_seen → take it; an older (late) batch only fills a column that is still empty.
 */
function inventoryField(col: keyof DevicesTable) {
  const cur = sql.ref(`devices.${col}`);
  const next = sql.ref(`excluded.${col}`);
  return sql<string | null>`case when ${next} is null then ${cur} when devices.last_seen is null or excluded.last_seen >= devices.last_seen then ${next} else coalesce(${cur}, ${next}) end`;
}

type SightingRow = {
  tenant_id: number;
  mac: string;
  registered: number;
  label: string;
  first_seen: string;
  last_seen: string;
  last_ip: string | null;
  model: string | null;
  firmware: string | null;
  updater_version: string | null;
  phase: string | null;
  serial: string | null;
  last_file: string | null;
  user_agent: string | null;
};

const SIGHTING_FIELDS = [
  ['ip', 'last_ip'],
  ['model', 'model'],
  ['firmware', 'firmware'],
  ['updaterVersion', 'updater_version'],
  ['phase', 'phase'],
  ['serial', 'serial'],
  ['lastFile', 'last_file'],
  ['userAgent', 'user_agent'],
] as const;

/**
 * One row per (tenant, MAC): sightings applied in time order, so the latest value of each present
 * field wins and absent fields keep what an earlier sighting said. Rows come sorted by (tenant,
 * MAC). Sightings whose time is not a date are dropped.
 */
export function mergeSightings(sightings: readonly Sighting[]): SightingRow[] {
  const timed: { s: Sighting; at: string; i: number }[] = [];
  sightings.forEach((s, i) => {
    const t = Date.parse(s.at);
    if (!Number.isNaN(t)) timed.push({ s, at: new Date(t).toISOString(), i });
  });
  timed.sort((a, b) => compare(a.at, b.at) || a.i - b.i);
  const byKey = new Map<string, SightingRow>();
  for (const { s, at } of timed) {
    const mac = normalizeMac(s.mac);
    const key = `${s.tenantId}|${mac}`;
    let row = byKey.get(key);
    if (!row) {
      row = {
        tenant_id: s.tenantId,
        mac,
        registered: 0,
        label: '',
        first_seen: at,
        last_seen: at,
        last_ip: null,
        model: null,
        firmware: null,
        updater_version: null,
        phase: null,
        serial: null,
        last_file: null,
        user_agent: null,
      };
      byKey.set(key, row);
    }
    row.last_seen = at;
    for (const [from, to] of SIGHTING_FIELDS) {
      const v = s[from];
      if (v !== undefined && v !== null) row[to] = v;
    }
  }
  return [...byKey.values()].sort((a, b) => a.tenant_id - b.tenant_id || compare(a.mac, b.mac));
}

// ---------------------------------------------------------------------------------------------
// Sites' subnets

/** The site columns given, as stored (undefined: not given). */
function siteColumns(f: SiteFields): Partial<Pick<Insertable<SitesTable>, 'tftp_subnets' | 'description' | 'location' | 'subnets'>> {
  return defined({
    tftp_subnets: f.tftpSubnets === undefined ? undefined : JSON.stringify(f.tftpSubnets),
    description: f.description,
    location: f.location,
    subnets: f.subnets === undefined ? undefined : JSON.stringify(f.subnets),
  });
}

/** ConflictError when the subnets of site `slug` (selfId once it exists) overlap another site's of the tenant. */
async function checkSiteSubnets(trx: Tx, tenantId: number, tenantSlug: string, selfId: number | undefined, slug: string, subnets: SiteSubnet[]): Promise<void> {
  const others = await trx
    .selectFrom('sites')
    .select(['slug', 'subnets'])
    .where('tenant_id', '=', tenantId)
    .where('subnets', '!=', '[]')
    .$if(selfId !== undefined, (q) => q.where('id', '!=', selfId!))
    .execute();
  const problem = findSubnetOverlap([...others.map((o) => ({ slug: o.slug, subnets: parseSiteSubnets(o.subnets) })), { slug, subnets }]);
  if (problem) throw new ConflictError(`in tenant "${tenantSlug}", ${problem}`);
}

/** Stored subnets; an entry that no longer parses (it was checked when set) is skipped rather than failing every read. */
function parseSiteSubnets(json: string): SiteSubnet[] {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch {
    return [];
  }
  if (!Array.isArray(v)) return [];
  return v.flatMap((entry: unknown) => {
    try {
      return normaliseSiteSubnets([entry as SiteSubnet]);
    } catch {
      return [];
    }
  });
}

/** A locator per tenant that has sites with subnets. */
async function siteLocators(trx: Tx, tenantIds: readonly number[]): Promise<Map<number, SiteLocator>> {
  const byTenant = new Map<number, { id: number; subnets: SiteSubnet[] }[]>();
  for (const ids of chunks(tenantIds, IN_CHUNK)) {
    const rows = await trx.selectFrom('sites').select(['id', 'tenant_id', 'subnets']).where('tenant_id', 'in', ids).where('subnets', '!=', '[]').execute();
    for (const r of rows) {
      const site = { id: Number(r.id), subnets: parseSiteSubnets(r.subnets) };
      const list = byTenant.get(Number(r.tenant_id));
      if (list) list.push(site);
      else byTenant.set(Number(r.tenant_id), [site]);
    }
  }
  const out = new Map<number, SiteLocator>();
  for (const [tenantId, sites] of byTenant) {
    const locator = new SiteLocator(sites);
    if (!locator.empty) out.set(tenantId, locator);
  }
  return out;
}

/** The newest private address per (tenant, MAC) in a batch, for the sightings that carry one. */
function latestPrivateIps(sightings: readonly Sighting[]): Map<string, string> {
  const newest = new Map<string, { at: number; ip: string }>();
  for (const s of sightings) {
    if (!s.privateIp) continue;
    const at = Date.parse(s.at);
    if (Number.isNaN(at)) continue;
    const key = `${s.tenantId}|${normalizeMac(s.mac)}`;
    const prev = newest.get(key);
    if (!prev || at >= prev.at) newest.set(key, { at, ip: s.privateIp });
  }
  return new Map([...newest].map(([key, v]) => [key, v.ip]));
}

// ---------------------------------------------------------------------------------------------
// Bulk import

const IMPORT_KINDS: readonly ImportKind[] = ['sites', 'groups', 'models', 'devices'];

/** A parameter layer an import changes. */
interface ImportLayer {
  scope: Scope;
  update: ParameterUpdate;
  /** The layer existed before the import, so it may hold parameters already. */
  existed: boolean;
  /** Where a change counts as an update; undefined for a row the import created. */
  counted: { kind: ImportKind; key: string } | undefined;
}

/** State shared by the steps of one applyImport. */
interface ImportWork {
  dialect: Dialect;
  tenantId: number;
  tenantSlug: string;
  counts: ImportCounts;
  /** Keys of existing rows that changed, by kind (a row whose fields and parameters both change counts once). */
  updated: Record<ImportKind, Set<string>>;
  layers: ImportLayer[];
}

type ImportedDevice = Omit<ImportPlan['devices'][number], 'model'> & { model: string | null };

function noImportCounts(): ImportCounts {
  const zero = (): Record<ImportKind, number> => ({ sites: 0, groups: 0, models: 0, devices: 0 });
  return { created: zero(), updated: zero(), parametersSet: 0, parametersRemoved: 0 };
}

/**
 * A plan checked and normalised before the transaction: TypeError for nonsense, DomainError for
 * subnets that do not parse, ConflictError for a slug, model or MAC (after normalising) given twice.
 */
function checkImportPlan(plan: ImportPlan): { sites: ImportPlan['sites']; groups: ImportPlan['groups']; models: ImportPlan['models']; devices: ImportedDevice[] } {
  if (typeof plan !== 'object' || plan === null) throw new TypeError('import: the plan must be an object with sites, groups, models and devices');
  const sites = importList('sites', plan.sites).map((s, i) => {
    const slug = importSlug(`site ${i + 1}`, s?.slug);
    const where = `site "${slug}"`;
    return {
      slug,
      name: importText(`${where}: name`, s.name),
      ...defined({
        description: optionalText(`${where}: description`, s.description),
        location: optionalText(`${where}: location`, s.location),
        subnets: s.subnets === undefined ? undefined : normaliseSiteSubnets(s.subnets),
        parameters: checkParameterUpdate(where, s.parameters),
      }),
    };
  });
  const groups = importList('groups', plan.groups).map((g, i) => {
    const slug = importSlug(`group ${i + 1}`, g?.slug);
    return { slug, name: importText(`group "${slug}": name`, g.name), ...defined({ parameters: checkParameterUpdate(`group "${slug}"`, g.parameters) }) };
  });
  const models = importList('models', plan.models).map((m, i) => {
    const model = importSlug(`model ${i + 1}`, m?.model);
    return { model, ...defined({ parameters: checkParameterUpdate(`model ${model}`, m.parameters) }) };
  });
  // Built field by field: this runs for every row of a file of 100,000 devices.
  const devices = importList('devices', plan.devices).map((d, i): ImportedDevice => {
    const given: unknown = d?.mac;
    const mac = typeof given === 'string' ? parseMac(given) : null;
    if (mac === null) throw new TypeError(`import, device ${i + 1}: ${JSON.stringify(given)} is not a device MAC address: expected 12 hexadecimal digits, e.g. 0004f2a1b2c3`);
    const model = d.model == null ? null : importText(`device ${mac}: model`, d.model);
    const out: ImportedDevice = { mac, model: model === null || model.trim() === '' ? null : model };
    if (d.label !== undefined) out.label = importText(`device ${mac}: label`, d.label);
    if (d.site !== undefined) out.site = slugOrNull(`device ${mac}: site`, d.site);
    if (d.group !== undefined) out.group = slugOrNull(`device ${mac}: group`, d.group);
    if (d.parameters !== undefined) out.parameters = checkParameterUpdate(`device ${mac}`, d.parameters);
    return out;
  });
  onlyOnce(sites.map((s) => s.slug), (slug) => `site "${slug}"`);
  onlyOnce(groups.map((g) => g.slug), (slug) => `group "${slug}"`);
  onlyOnce(models.map((m) => m.model), (model) => `model ${model}`);
  onlyOnce(devices.map((d) => d.mac), (mac) => `device ${mac}`);
  return { sites, groups, models, devices };
}

function importList<T>(what: string, list: T[] | undefined): T[] {
  if (list === undefined) return [];
  if (!Array.isArray(list)) throw new TypeError(`import: ${what} must be a list`);
  return list;
}

function importText(what: string, v: unknown): string {
  if (typeof v !== 'string') throw new TypeError(`import, ${what}: expected text, got ${JSON.stringify(v) ?? String(v)}`);
  return v;
}

function importSlug(what: string, v: unknown): string {
  if (typeof v !== 'string' || v === '') throw new TypeError(`import, ${what}: expected a non-empty name, got ${JSON.stringify(v) ?? String(v)}`);
  return v;
}

function optionalText(what: string, v: unknown): string | undefined {
  return v === undefined ? undefined : importText(what, v);
}

function slugOrNull(what: string, v: unknown): string | null | undefined {
  return v === undefined || v === null ? v : importSlug(what, v);
}

function onlyOnce(keys: readonly string[], describe: (key: string) => string): void {
  const seen = new Set<string>();
  for (const key of keys) {
    if (seen.has(key)) throw new ConflictError(`${describe(key)} is given twice in the import: keep one`);
    seen.add(key);
  }
}

function checkParameterUpdate(where: string, u: ParameterUpdate | undefined): ParameterUpdate | undefined {
  if (u === undefined) return undefined;
  if (typeof u !== 'object' || u === null || (u.mode !== 'merge' && u.mode !== 'replace')) {
    throw new TypeError(`import, ${where}: parameters must be { mode: 'merge' | 'replace', values }`);
  }
  if (typeof u.values !== 'object' || u.values === null || Array.isArray(u.values)) throw new TypeError(`import, ${where}: parameter values must be an object of names to text`);
  for (const name in u.values) {
    if (Object.hasOwn(u.values, name) && typeof u.values[name] !== 'string') throw new TypeError(`import, ${where}: parameter ${name}: value must be a string`);
  }
  return { mode: u.mode, values: u.values };
}

/** For the MACs registered in a tenant (other than `except`), that tenant's slug; the lowest slug when several. */
async function registeredTenants(trx: Tx, dialect: Dialect, macs: readonly string[], except: number | undefined): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const macIsOneOf of matching(dialect, 'd.mac', macs, 'text')) {
    const rows = await trx
      .selectFrom('devices as d')
      .innerJoin('tenants as t', 't.id', 'd.tenant_id')
      .select(['d.mac', 't.slug'])
      .where(macIsOneOf)
      .where('d.registered', '=', 1)
      .$if(except !== undefined, (q) => q.where('d.tenant_id', '!=', except!))
      .execute();
    for (const r of rows) {
      const prev = out.get(r.mac);
      if (prev === undefined || compare(r.slug, prev) < 0) out.set(r.mac, r.slug);
    }
  }
  return out;
}

/** Upserts the plan's sites (after the overlap check over all the tenant's sites); returns every site id by slug. */
async function importSites(trx: Tx, work: ImportWork, sites: ImportPlan['sites']): Promise<Map<string, number>> {
  const rows = await trx.selectFrom('sites').selectAll().where('tenant_id', '=', work.tenantId).execute();
  const bySlug = new Map(rows.map((r) => [r.slug, r]));
  const writes: (Insertable<SitesTable> & { subnets: string })[] = [];
  for (const s of sites) {
    const cur = bySlug.get(s.slug);
    const next = {
      tenant_id: work.tenantId,
      slug: s.slug,
      name: s.name,
      description: s.description ?? cur?.description ?? '',
      location: s.location ?? cur?.location ?? '',
      subnets: s.subnets === undefined ? (cur?.subnets ?? '[]') : JSON.stringify(s.subnets),
      tftp_subnets: cur?.tftp_subnets ?? '[]',
    };
    if (!cur) {
      writes.push(next);
      work.counts.created.sites++;
    } else if (next.name !== cur.name || next.description !== cur.description || next.location !== cur.location || next.subnets !== cur.subnets) {
      writes.push(next);
      work.updated.sites.add(s.slug);
    }
  }
  if (sites.some((s) => s.subnets?.length)) {
    const after = new Map(rows.map((r) => [r.slug, r.subnets]));
    for (const w of writes) after.set(w.slug, w.subnets);
    const sited = [...after].filter(([, json]) => json !== '[]').map(([slug, json]) => ({ slug, subnets: parseSiteSubnets(json) }));
    const problem = findSubnetOverlap(sited);
    if (problem) throw new ConflictError(`in tenant "${work.tenantSlug}", ${problem}`);
  }
  const ids = new Map(rows.map((r) => [r.slug, Number(r.id)]));
  for (const chunk of chunks(writes, INSERT_CHUNK)) {
    const done = await trx
      .insertInto('sites')
      .values(chunk)
      .onConflict((oc) =>
        oc.columns(['tenant_id', 'slug']).doUpdateSet((eb) => ({
          name: eb.ref('excluded.name'),
          description: eb.ref('excluded.description'),
          location: eb.ref('excluded.location'),
          subnets: eb.ref('excluded.subnets'),
        })),
      )
      .returning(['id', 'slug'])
      .execute();
    for (const r of done) ids.set(r.slug, Number(r.id));
  }
  for (const s of sites) addImportLayer(work, 'site', ids.get(s.slug)!, s.parameters, bySlug.has(s.slug), { kind: 'sites', key: s.slug });
  return ids;
}

/** Upserts the plan's groups; returns every group id by slug. */
async function importGroups(trx: Tx, work: ImportWork, groups: ImportPlan['groups']): Promise<Map<string, number>> {
  const rows = await trx.selectFrom('device_groups').select(['id', 'slug', 'name']).where('tenant_id', '=', work.tenantId).execute();
  const bySlug = new Map(rows.map((r) => [r.slug, r]));
  const writes: Insertable<DeviceGroupsTable>[] = [];
  for (const g of groups) {
    const cur = bySlug.get(g.slug);
    if (!cur) work.counts.created.groups++;
    else if (cur.name !== g.name) work.updated.groups.add(g.slug);
    else continue;
    writes.push({ tenant_id: work.tenantId, slug: g.slug, name: g.name });
  }
  const ids = new Map(rows.map((r) => [r.slug, Number(r.id)]));
  for (const chunk of chunks(writes, INSERT_CHUNK)) {
    const done = await trx
      .insertInto('device_groups')
      .values(chunk)
      .onConflict((oc) => oc.columns(['tenant_id', 'slug']).doUpdateSet((eb) => ({ name: eb.ref('excluded.name') })))
      .returning(['id', 'slug'])
      .execute();
    for (const r of done) ids.set(r.slug, Number(r.id));
  }
  for (const g of groups) addImportLayer(work, 'group', ids.get(g.slug)!, g.parameters, bySlug.has(g.slug), { kind: 'groups', key: g.slug });
  return ids;
}

/** Creates the plan's model policies that do not exist yet (with the tenant's APP_FILE_PATH). */
async function importModels(trx: Tx, work: ImportWork, models: ImportPlan['models']): Promise<void> {
  const rows = await trx.selectFrom('model_policies').select(['id', 'model']).where('tenant_id', '=', work.tenantId).execute();
  const ids = new Map(rows.map((r) => [r.model, Number(r.id)]));
  const existed = new Set(ids.keys());
  const fresh = models.filter((m) => !existed.has(m.model)).map((m) => ({ tenant_id: work.tenantId, model: m.model, app_file_path: null }));
  for (const chunk of chunks(fresh, INSERT_CHUNK)) {
    for (const r of await trx.insertInto('model_policies').values(chunk).returning(['id', 'model']).execute()) ids.set(r.model, Number(r.id));
  }
  work.counts.created.models = fresh.length;
  for (const m of models) addImportLayer(work, 'model', ids.get(m.model)!, m.parameters, existed.has(m.model), { kind: 'models', key: m.model });
}

/**
 * Registers or updates the plan's devices. Rows are written in MAC order, the order inventory
 * batches lock them in. The model is only filled in: what the phone reported wins, also over a
 * model an inventory batch records meanwhile (PostgreSQL).
 */
async function importDevices(trx: Tx, work: ImportWork, devices: ImportedDevice[], siteIds: Map<string, number>, groupIds: Map<string, number>): Promise<void> {
  const existing = new Map<string, Pick<DeviceRow, 'id' | 'registered' | 'label' | 'site_id' | 'group_id' | 'model'>>();
  for (const macIsOneOf of matching(work.dialect, 'mac', devices.map((d) => d.mac), 'text')) {
    const rows = await trx
      .selectFrom('devices')
      .select(['id', 'mac', 'registered', 'label', 'site_id', 'group_id', 'model'])
      .where('tenant_id', '=', work.tenantId)
      .where(macIsOneOf)
      .execute();
    for (const r of rows) existing.set(r.mac, r);
  }
  const ref = (what: 'site' | 'group', ids: Map<string, number>, mac: string, slug: string | null | undefined, current: number | null): number | null => {
    if (slug === undefined) return current;
    if (slug === null) return null;
    const id = ids.get(slug);
    if (id === undefined) throw new NotFoundError(`device ${mac} names ${what} "${slug}", which does not exist in tenant "${work.tenantSlug}": create it, or add it to the import`);
    return id;
  };
  const writes: Insertable<DevicesTable>[] = [];
  for (const d of devices) {
    const cur = existing.get(d.mac);
    const curSite = cur?.site_id == null ? null : Number(cur.site_id);
    const curGroup = cur?.group_id == null ? null : Number(cur.group_id);
    const next = {
      tenant_id: work.tenantId,
      mac: d.mac,
      registered: 1,
      label: d.label ?? cur?.label ?? '',
      site_id: ref('site', siteIds, d.mac, d.site, curSite),
      group_id: ref('group', groupIds, d.mac, d.group, curGroup),
      model: cur?.model ?? d.model,
    };
    if (!cur || Number(cur.registered) !== 1) {
      work.counts.created.devices++;
    } else if (next.label !== cur.label || next.site_id !== curSite || next.group_id !== curGroup || next.model !== cur.model) {
      work.updated.devices.add(d.mac);
    } else continue;
    writes.push(next);
  }
  writes.sort((a, b) => compare(a.mac, b.mac));
  const ids = new Map([...existing].map(([mac, r]) => [mac, Number(r.id)]));
  for (const chunk of chunks(writes, INSERT_CHUNK)) {
    const done = await trx
      .insertInto('devices')
      .values(chunk)
      .onConflict((oc) =>
        oc.columns(['tenant_id', 'mac']).doUpdateSet((eb) => ({
          registered: 1,
          label: eb.ref('excluded.label'),
          site_id: eb.ref('excluded.site_id'),
          group_id: eb.ref('excluded.group_id'),
          model: sql<string | null>`coalesce(devices.model, excluded.model)`,
        })),
      )
      .returning(['id', 'mac'])
      .execute();
    for (const r of done) ids.set(r.mac, Number(r.id));
  }
  for (const d of devices) {
    const cur = existing.get(d.mac);
    const registered = cur !== undefined && Number(cur.registered) === 1;
    addImportLayer(work, 'device', ids.get(d.mac)!, d.parameters, cur !== undefined, registered ? { kind: 'devices', key: d.mac } : undefined);
  }
}

function addImportLayer(work: ImportWork, kind: ScopeKind, id: number, update: ParameterUpdate | undefined, existed: boolean, counted: ImportLayer['counted']): void {
  if (update) work.layers.push({ scope: { kind, id }, update, existed, counted: existed ? counted : undefined });
}

/** Writes the parameter layers the plan named: only values that are new or different, and what a replace drops. */
async function importParameters(trx: Tx, work: ImportWork): Promise<void> {
  const held = new Map<string, Map<string, { id: number; value: string }>>();
  const idsByKind = new Map<ScopeKind, number[]>();
  for (const l of work.layers) {
    if (!l.existed) continue;
    const ids = idsByKind.get(l.scope.kind);
    if (ids) ids.push(l.scope.id);
    else idsByKind.set(l.scope.kind, [l.scope.id]);
  }
  for (const [kind, ids] of idsByKind) {
    for (const idIsOneOf of matching(work.dialect, 'scope_id', ids, 'integer')) {
      const rows = await trx
        .selectFrom('parameters')
        .select(['id', 'scope_id', 'name', 'value'])
        .where('tenant_id', '=', work.tenantId)
        .where('scope', '=', kind)
        .where(idIsOneOf)
        .execute();
      for (const r of rows) {
        const key = `${kind}|${Number(r.scope_id)}`;
        let layer = held.get(key);
        if (!layer) held.set(key, (layer = new Map()));
        layer.set(r.name, { id: Number(r.id), value: r.value });
      }
    }
  }
  const upserts: Insertable<ParametersTable>[] = [];
  const removals: number[] = [];
  for (const l of work.layers) {
    const has = held.get(`${l.scope.kind}|${l.scope.id}`);
    const before = upserts.length + removals.length;
    for (const [name, value] of Object.entries(l.update.values)) {
      if (has?.get(name)?.value !== value) upserts.push({ tenant_id: work.tenantId, scope: l.scope.kind, scope_id: l.scope.id, name, value });
    }
    if (l.update.mode === 'replace' && has) {
      for (const [name, p] of has) if (!Object.hasOwn(l.update.values, name)) removals.push(p.id);
    }
    if (l.counted && upserts.length + removals.length > before) work.updated[l.counted.kind].add(l.counted.key);
  }
  for (const chunk of chunks(removals, IN_CHUNK)) await trx.deleteFrom('parameters').where('id', 'in', chunk).execute();
  for (const chunk of chunks(upserts, INSERT_CHUNK)) {
    await trx
      .insertInto('parameters')
      .values(chunk)
      .onConflict((oc) => oc.columns(['tenant_id', 'scope', 'scope_id', 'name']).doUpdateSet((eb) => ({ value: eb.ref('excluded.value') })))
      .execute();
  }
  work.counts.parametersSet = upserts.length;
  work.counts.parametersRemoved = removals.length;
}

/** scope_key of the global firmware library (tenant ids start at 1). */
const GLOBAL_LIBRARY = 0;

/** A library's scope_key: the tenant id, or GLOBAL_LIBRARY for null. */
function libraryKey(tenantId: number | null): number {
  if (tenantId === null) return GLOBAL_LIBRARY;
  if (!Number.isSafeInteger(tenantId) || tenantId <= 0) throw new TypeError(`bad tenant id ${String(tenantId)} for a firmware library`);
  return tenantId;
}

/** The releases of the given libraries, library by library in the order given, each by version; images by file name. */
async function firmwareOf(trx: Tx, keys: number[]): Promise<FirmwareRelease[]> {
  const releases = await trx.selectFrom('firmware_releases').selectAll().where('scope_key', 'in', keys).execute();
  if (!releases.length) return [];
  const images = await trx
    .selectFrom('firmware_images as i')
    .innerJoin('firmware_releases as r', 'r.id', 'i.release_id')
    .selectAll('i')
    .where('r.scope_key', 'in', keys)
    .execute();
  const byRelease = new Map<number, FirmwareImage[]>();
  for (const row of images) {
    const id = Number(row.release_id);
    const list = byRelease.get(id);
    if (list) list.push(toFirmwareImage(row));
    else byRelease.set(id, [toFirmwareImage(row)]);
  }
  return releases
    .map((r) => toFirmwareRelease(r, (byRelease.get(Number(r.id)) ?? []).sort((a, b) => compare(a.fileName, b.fileName))))
    .sort((a, b) => keys.indexOf(a.tenantId ?? GLOBAL_LIBRARY) - keys.indexOf(b.tenantId ?? GLOBAL_LIBRARY) || compare(a.version, b.version));
}

const ROLLOUT_STATUSES: readonly RolloutStatus[] = ['running', 'paused', 'completed', 'rolled-back'];
/** Statuses in which a rollout holds its devices: a device is in at most one such rollout of its tenant. */
const ACTIVE_ROLLOUT_STATUSES: readonly RolloutStatus[] = ['running', 'paused'];

function isActive(status: string): boolean {
  return (ACTIVE_ROLLOUT_STATUSES as readonly string[]).includes(status);
}

/** "HH:MM-HH:MM" (hours may have one digit, spaces around the parts are allowed), UTC; start and end differ. */
const WINDOW = /^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$/;

function isWindow(text: string): boolean {
  const m = WINDOW.exec(text);
  if (!m) return false;
  const [sh, sm, eh, em] = m.slice(1).map(Number) as [number, number, number, number];
  return sh < 24 && eh < 24 && sm < 60 && em < 60 && sh * 60 + sm !== eh * 60 + em;
}

/** A time as the store keeps it (ISO-8601, UTC, milliseconds), or TypeError. */
function isoTime(what: string, value: unknown): string {
  const t = typeof value === 'string' ? Date.parse(value) : NaN;
  if (Number.isNaN(t)) throw new TypeError(`${what}: bad time ${JSON.stringify(value)}`);
  return new Date(t).toISOString();
}

/**
 * Checks a new rollout and returns what is stored in normalized form. TypeError for: an empty
 * name or version; a selector other than an object of optional site/group/model strings; waves
 * that are not rising percentages in (0, 100] ending at 100; a wave interval or deadline that is
 * not a non-negative safe integer; a failure percentage outside [0, 100]; a window that is not
 * "HH:MM-HH:MM" with differing ends; a bad waveStartedAt; a member without a MAC or whose wave is
 * not an index into waves. ConflictError for a device listed twice. Members come back lower-case,
 * ordered by wave then MAC.
 */
function checkNewRollout(r: NewRollout): {
  selector: RolloutSelector;
  waves: number[];
  window: string | null;
  waveStartedAt: string;
  members: RolloutMember[];
} {
  if (typeof r.name !== 'string' || !r.name) throw new TypeError(`rollout: bad name ${JSON.stringify(r.name)}`);
  const what = `rollout "${r.name}"`;
  for (const [field, value] of [['fromVersion', r.fromVersion], ['toVersion', r.toVersion]] as const) {
    if (typeof value !== 'string' || !value) throw new TypeError(`${what}: bad ${field} ${JSON.stringify(value)}`);
  }

  const sel: unknown = r.selector;
  if (typeof sel !== 'object' || sel === null || Array.isArray(sel)) throw new TypeError(`${what}: the selector must be an object`);
  for (const [key, value] of Object.entries(sel)) {
    if (key !== 'site' && key !== 'group' && key !== 'model') throw new TypeError(`${what}: unknown selector field "${key}"`);
    if (value !== undefined && typeof value !== 'string') throw new TypeError(`${what}: selector field ${key} must be a string`);
  }
  const selector: RolloutSelector = defined({ site: r.selector.site, group: r.selector.group, model: r.selector.model });

  const waves: unknown = r.waves;
  const badWaves = () => new TypeError(`${what}: bad waves ${JSON.stringify(waves)}: expected rising percentages ending at 100, e.g. [1, 10, 100]`);
  if (!Array.isArray(waves) || !waves.length) throw badWaves();
  waves.forEach((w: unknown, i) => {
    if (typeof w !== 'number' || !Number.isFinite(w) || w <= 0 || w > 100 || (i > 0 && w <= (waves[i - 1] as number))) throw badWaves();
  });
  if (waves[waves.length - 1] !== 100) throw badWaves();

  for (const [field, value] of [['waveIntervalMs', r.waveIntervalMs], ['deadlineMs', r.deadlineMs]] as const) {
    if (!Number.isSafeInteger(value) || value < 0) throw new TypeError(`${what}: bad ${field} ${value}`);
  }
  const pct: unknown = r.maxFailurePercent;
  if (typeof pct !== 'number' || !Number.isFinite(pct) || pct < 0 || pct > 100) throw new TypeError(`${what}: bad maxFailurePercent ${String(pct)}`);
  const window = r.window ?? null;
  if (window !== null && (typeof window !== 'string' || !isWindow(window))) {
    throw new TypeError(`${what}: bad maintenance window ${JSON.stringify(window)}: expected HH:MM-HH:MM in UTC, e.g. 01:00-05:00`);
  }
  const waveStartedAt = isoTime(`${what}: waveStartedAt`, r.waveStartedAt);

  if (!Array.isArray(r.members)) throw new TypeError(`${what}: members must be a list`);
  const seen = new Set<string>();
  const members = r.members.map((m: unknown): RolloutMember => {
    const { mac, wave } = (m ?? {}) as Partial<RolloutMember>;
    if (typeof mac !== 'string' || !mac) throw new TypeError(`${what}: a member has no MAC`);
    const lower = normalizeMac(mac);
    if (!Number.isSafeInteger(wave) || wave! < 0 || wave! >= waves.length) {
      throw new TypeError(`${what}: device ${lower} is in wave ${String(wave)}, but the waves are numbered 0 to ${waves.length - 1}`);
    }
    if (seen.has(lower)) throw new ConflictError(`${what}: device ${lower} is listed more than once`);
    seen.add(lower);
    return { mac: lower, wave: wave! };
  });
  return { selector, waves: waves as number[], window, waveStartedAt, members: sortMembers(members) };
}

/** Checks a patch and returns the columns it sets (TypeError for an unknown status, a bad wave index or time, a non-string reason). */
function checkRolloutPatch(patch: RolloutPatch): Partial<Pick<RolloutsTable, 'status' | 'current_wave' | 'wave_started_at' | 'reason'>> {
  const { status, currentWave, waveStartedAt, reason } = patch;
  if (status !== undefined && !ROLLOUT_STATUSES.includes(status)) throw new TypeError(`rollout: unknown status ${JSON.stringify(status)}`);
  if (currentWave !== undefined && (!Number.isSafeInteger(currentWave) || currentWave < 0)) throw new TypeError(`rollout: bad wave index ${currentWave}`);
  if (reason !== undefined && reason !== null && typeof reason !== 'string') throw new TypeError('rollout: the reason must be a string or null');
  return defined({
    status,
    current_wave: currentWave,
    wave_started_at: waveStartedAt === undefined ? undefined : isoTime('rollout: waveStartedAt', waveStartedAt),
    reason,
  });
}

/** ConflictError naming the first device (by MAC) that is in another running or paused rollout of the tenant. */
async function checkNotInActiveRollout(trx: Tx, tenantId: number, tenantSlug: string, members: readonly RolloutMember[], selfId: number | undefined): Promise<void> {
  const macs = members.map((m) => m.mac).sort(compare);
  for (const chunk of chunks(macs, IN_CHUNK)) {
    const hit = await trx
      .selectFrom('rollout_members as m')
      .innerJoin('rollouts as r', 'r.id', 'm.rollout_id')
      .select(['m.mac', 'r.name', 'r.status'])
      .where('m.mac', 'in', chunk)
      .where('r.tenant_id', '=', tenantId)
      .where('r.status', 'in', ACTIVE_ROLLOUT_STATUSES)
      .$if(selfId !== undefined, (q) => q.where('r.id', '!=', selfId!))
      .orderBy('m.mac')
      .orderBy('r.name')
      .executeTakeFirst();
    if (hit) throw new ConflictError(`device ${hit.mac} is already in rollout "${hit.name}" (${hit.status}) of tenant "${tenantSlug}"`);
  }
}

/** Members of one rollout, by wave then MAC. */
async function membersOf(trx: Tx, rolloutId: number): Promise<RolloutMember[]> {
  const rows = await trx.selectFrom('rollout_members').select(['mac', 'wave']).where('rollout_id', '=', rolloutId).execute();
  return sortMembers(rows.map((r) => ({ mac: r.mac, wave: Number(r.wave) })));
}

/** All rollouts of a tenant with their members, by name. */
async function rolloutsOf(trx: Tx, tenantId: number): Promise<Rollout[]> {
  const rows = await trx.selectFrom('rollouts').selectAll().where('tenant_id', '=', tenantId).execute();
  if (!rows.length) return [];
  const members = await trx
    .selectFrom('rollout_members as m')
    .innerJoin('rollouts as r', 'r.id', 'm.rollout_id')
    .select(['m.rollout_id', 'm.mac', 'm.wave'])
    .where('r.tenant_id', '=', tenantId)
    .execute();
  const byRollout = new Map<number, RolloutMember[]>();
  for (const m of members) {
    const id = Number(m.rollout_id);
    const member = { mac: m.mac, wave: Number(m.wave) };
    const list = byRollout.get(id);
    if (list) list.push(member);
    else byRollout.set(id, [member]);
  }
  return rows.map((r) => toRollout(r, sortMembers(byRollout.get(Number(r.id)) ?? []))).sort((a, b) => compare(a.name, b.name));
}

const REACH_METHODS: readonly ReachMethod[] = ['notify', 'push'];
const REACH_OUTCOMES: readonly ReachOutcome[] = ['ok', 'rejected', 'timeout', 'error'];
const REACH_JOB_STATUSES: readonly ReachJobStatus[] = ['running', 'done', 'cancelled'];

/**
 * Checks a result and returns its row. TypeError for: a tenant id that is not a positive integer,
 * an empty MAC, an unknown method or outcome, a status that is not null or a whole number from 0
 * to 999, a detail or target that is not a string, a job id that is not null or a positive
 * integer, a bad time. The MAC becomes lower-case, the time ISO-8601 UTC.
 */
function checkReachResult(r: ReachResult): Omit<ReachResultRow, 'id'> {
  if (typeof r.mac !== 'string' || !r.mac) throw new TypeError('reach result: no MAC');
  const mac = normalizeMac(r.mac);
  const what = `reach result for ${mac}`;
  if (!Number.isSafeInteger(r.tenantId) || r.tenantId <= 0) throw new TypeError(`${what}: bad tenant id ${String(r.tenantId)}`);
  if (!REACH_METHODS.includes(r.method)) throw new TypeError(`${what}: unknown method ${JSON.stringify(r.method)}: expected ${REACH_METHODS.join(' or ')}`);
  if (!REACH_OUTCOMES.includes(r.outcome)) throw new TypeError(`${what}: unknown outcome ${JSON.stringify(r.outcome)}: expected one of ${REACH_OUTCOMES.join(', ')}`);
  const status = r.status ?? null;
  if (status !== null && (!Number.isSafeInteger(status) || status < 0 || status > 999)) throw new TypeError(`${what}: bad status ${String(status)}: expected a SIP or HTTP status code, or null`);
  for (const [field, value] of [['detail', r.detail], ['target', r.target]] as const) {
    if (typeof value !== 'string') throw new TypeError(`${what}: ${field} must be a string`);
  }
  const jobId = r.jobId ?? null;
  if (jobId !== null && (!Number.isSafeInteger(jobId) || jobId <= 0)) throw new TypeError(`${what}: bad job id ${String(jobId)}`);
  return {
    tenant_id: r.tenantId,
    mac,
    method: r.method,
    outcome: r.outcome,
    status,
    detail: r.detail,
    target: r.target,
    job_id: jobId,
    at: isoTime(`${what}: at`, r.at),
  };
}

/**
 * Checks a new job and returns what is stored in normalized form. TypeError for: an unknown
 * method; a selector that is not an object of strings; a rate that is not a finite number above 0;
 * a jitter outside 0..1; no devices, an empty MAC, or a MAC listed twice (in any case). MACs come
 * back lower-case, in the order given.
 */
function checkNewReachJob(j: NewReachJob): { selector: Record<string, string>; macs: string[] } {
  const what = 'reach job';
  if (!REACH_METHODS.includes(j.method)) throw new TypeError(`${what}: unknown method ${JSON.stringify(j.method)}: expected ${REACH_METHODS.join(' or ')}`);
  const sel: unknown = j.selector;
  if (typeof sel !== 'object' || sel === null || Array.isArray(sel)) throw new TypeError(`${what}: the selector must be an object of strings, e.g. { site: "hq" }`);
  const entries = Object.entries(sel);
  for (const [key, value] of entries) {
    if (typeof value !== 'string') throw new TypeError(`${what}: selector field ${key} must be a string`);
  }
  // fromEntries defines own properties, so even a field named __proto__ round-trips.
  const selector = Object.fromEntries(entries) as Record<string, string>;
  const rate: unknown = j.ratePerSecond;
  if (typeof rate !== 'number' || !Number.isFinite(rate) || rate <= 0) throw new TypeError(`${what}: bad rate ${String(rate)}: expected devices per second above 0, e.g. 2 or 0.5`);
  const jitter: unknown = j.jitter;
  if (typeof jitter !== 'number' || !Number.isFinite(jitter) || jitter < 0 || jitter > 1) throw new TypeError(`${what}: bad jitter ${String(jitter)}: expected a fraction from 0 to 1`);
  if (!Array.isArray(j.macs) || !j.macs.length) throw new TypeError(`${what}: no devices to reach`);
  const seen = new Set<string>();
  const macs = j.macs.map((m: unknown) => {
    if (typeof m !== 'string' || !m) throw new TypeError(`${what}: a device has no MAC`);
    const mac = normalizeMac(m);
    if (seen.has(mac)) throw new TypeError(`${what}: device ${mac} is listed more than once`);
    seen.add(mac);
    return mac;
  });
  return { selector, macs };
}

function isReachOutcome(x: string): x is ReachOutcome {
  return (REACH_OUTCOMES as readonly string[]).includes(x);
}

function noReachCounts(): ReachJobCounts {
  return { total: 0, done: 0, outcomes: { ok: 0, rejected: 0, timeout: 0, error: 0 } };
}

/** Counters of the tenant's jobs (or one of them) by job id, from their devices' outcomes. */
async function reachJobCounts(trx: Tx, tenantId: number, jobId?: number): Promise<Map<number, ReachJobCounts>> {
  const rows = await trx
    .selectFrom('reach_job_devices as d')
    .innerJoin('reach_jobs as j', 'j.id', 'd.job_id')
    .select((eb) => ['d.job_id', 'd.outcome', eb.fn.countAll().as('n')])
    .where('j.tenant_id', '=', tenantId)
    .$if(jobId !== undefined, (q) => q.where('d.job_id', '=', jobId!))
    .groupBy(['d.job_id', 'd.outcome'])
    .execute();
  const out = new Map<number, ReachJobCounts>();
  for (const r of rows) {
    const id = Number(r.job_id);
    let c = out.get(id);
    if (!c) out.set(id, (c = noReachCounts()));
    const n = Number(r.n);
    c.total += n;
    if (r.outcome !== null) {
      c.done += n;
      if (isReachOutcome(r.outcome)) c.outcomes[r.outcome] += n;
    }
  }
  return out;
}

/** The first of the given MACs (sorted) that is not a device of the job. */
async function firstNotInJob(trx: Tx, jobId: number, macs: readonly string[]): Promise<string | undefined> {
  for (const chunk of chunks(macs, IN_CHUNK)) {
    const held = new Set((await trx.selectFrom('reach_job_devices').select('mac').where('job_id', '=', jobId).where('mac', 'in', chunk).execute()).map((r) => r.mac));
    const missing = chunk.find((m) => !held.has(m));
    if (missing !== undefined) return missing;
  }
  return undefined;
}

/** `tenant "acme"` for messages, or `tenant 7` when there is no such tenant. */
async function tenantLabel(trx: Tx, tenantId: number): Promise<string> {
  const row = await trx.selectFrom('tenants').select('slug').where('id', '=', tenantId).executeTakeFirst();
  return row ? `tenant "${row.slug}"` : `tenant ${tenantId}`;
}

function sortMembers(members: RolloutMember[]): RolloutMember[] {
  return members.sort((a, b) => a.wave - b.wave || compare(a.mac, b.mac));
}

async function hostnamesOf(trx: Tx | Db, tenantId: number): Promise<string[]> {
  const rows = await trx.selectFrom('tenant_hostnames').select('hostname').where('tenant_id', '=', tenantId).execute();
  return rows.map((r) => r.hostname).sort(compare);
}

async function deleteScopeParameters(trx: Tx, tenantId: number, kind: ScopeKind, id: number): Promise<void> {
  await trx.deleteFrom('parameters').where('tenant_id', '=', tenantId).where('scope', '=', kind).where('scope_id', '=', id).execute();
}

/** Site and group ids given to a device must exist in the same tenant. */
async function checkDeviceRefs(trx: Tx, tenantId: number, tenantSlug: string, input: DeviceInput): Promise<void> {
  if (input.siteId != null) {
    const hit = await trx.selectFrom('sites').select('id').where('tenant_id', '=', tenantId).where('id', '=', input.siteId).executeTakeFirst();
    if (!hit) throw new NotFoundError(`site ${input.siteId} does not exist in tenant "${tenantSlug}"`);
  }
  if (input.groupId != null) {
    const hit = await trx
      .selectFrom('device_groups')
      .select('id')
      .where('tenant_id', '=', tenantId)
      .where('id', '=', input.groupId)
      .executeTakeFirst();
    if (!hit) throw new NotFoundError(`group ${input.groupId} does not exist in tenant "${tenantSlug}"`);
  }
}

/** Parameters may only be set on a layer that exists in the tenant (scope/scope_id has no foreign key). */
async function checkScope(trx: Tx, tenantId: number, tenantSlug: string, scope: Scope): Promise<void> {
  const table = { model: 'model_policies', site: 'sites', group: 'device_groups', device: 'devices' } as const;
  if (scope.kind === 'tenant') {
    if (scope.id !== tenantId) throw new NotFoundError(`tenant scope ${scope.id} is not tenant "${tenantSlug}"`);
    return;
  }
  const t = table[scope.kind];
  if (!t) throw new TypeError(`unknown parameter scope ${String(scope.kind)}`);
  const hit = await trx
    .selectFrom(t as 'sites')
    .select('id')
    .where('tenant_id', '=', tenantId)
    .where('id', '=', scope.id)
    .executeTakeFirst();
  if (!hit) throw new NotFoundError(`${scope.kind} ${scope.id} does not exist in tenant "${tenantSlug}"`);
}

function deviceFields(input: DeviceInput): Partial<Pick<DevicesTable, 'label' | 'site_id' | 'group_id' | 'app_file_path'>> {
  return defined({ label: input.label, site_id: input.siteId, group_id: input.groupId, app_file_path: input.appFilePath });
}

/** Drops keys whose value is undefined (null stays: it clears a column). */
function defined<T extends Record<string, unknown>>(o: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as { [K in keyof T]?: Exclude<T[K], undefined> };
}

function normalizeHostnames(hostnames: readonly string[]): string[] {
  return [...new Set(hostnames.map((h) => h.trim().toLowerCase()).filter(Boolean))].sort(compare);
}

function normalizeMac(mac: string): string {
  return mac.toLowerCase();
}

/** Code-unit order: the same on both dialects, whatever the PostgreSQL database's collation. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sortParameters(rows: ParameterRow[]): ParameterRow[] {
  return rows.sort(
    (a, b) => (SCOPE_ORDER[a.scope] ?? 9) - (SCOPE_ORDER[b.scope] ?? 9) || a.scopeId - b.scopeId || compare(a.name, b.name),
  );
}

function* chunks<T>(items: readonly T[], size: number): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}

/**
 * "`column` is one of `values`" as conditions, one query each: IN lists of IN_CHUNK on SQLite
 * (index lookups), a single `= any(array)` on PostgreSQL. Right after a bulk load PostgreSQL's
 * statistics are stale and it may scan all the tenant's rows for every IN list; with one array it
 * scans them at most once, testing each row against a hash of the values.
 */
function matching(dialect: Dialect, column: string, values: readonly (string | number)[], pgType: 'text' | 'integer'): RawBuilder<SqlBool>[] {
  if (!values.length) return [];
  if (dialect === 'postgres') return [sql<SqlBool>`${sql.ref(column)} = any(${values}::${sql.raw(pgType)}[])`];
  return [...chunks(values, IN_CHUNK)].map((chunk) => sql<SqlBool>`${sql.ref(column)} in (${sql.join(chunk)})`);
}

function isRetryable(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '40P01' || code === '40001'; // deadlock_detected, serialization_failure
}

/** Fallback when an explicit check did not catch it (e.g. a race): constraint errors by code. */
function mapDriverError(err: unknown): unknown {
  if (err instanceof ConflictError || err instanceof NotFoundError) return err;
  const e = err as { code?: unknown; message?: unknown; detail?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  const detail = typeof e?.detail === 'string' ? e.detail : typeof e?.message === 'string' ? e.message : String(err);
  if (code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    return new ConflictError(`already exists: ${detail}`, { cause: err });
  }
  if (code === '23503' || code === 'SQLITE_CONSTRAINT_FOREIGNKEY') {
    return new NotFoundError(`refers to a row that does not exist: ${detail}`, { cause: err });
  }
  return err;
}

// ---------------------------------------------------------------------------------------------
// Row mapping

function toTenant(r: TenantRow, hostnames: string[]): Tenant {
  return {
    id: Number(r.id),
    slug: r.slug,
    name: r.name,
    provUsername: r.prov_username,
    provPasswordHash: r.prov_password_hash,
    provDigestHa1: r.prov_digest_ha1,
    pathPrefix: r.path_prefix,
    hostnames,
    unknownDevices: r.unknown_devices as UnknownDevicePolicy,
    appFilePath: r.app_file_path,
    extraConfigFiles: parseStringArray(r.extra_config_files),
    revision: Number(r.revision),
    createdAt: r.created_at,
    logMaxBytes: Number(r.log_max_bytes),
    logSegments: Number(r.log_segments),
    logMaxAgeDays: Number(r.log_max_age_days),
    overridePolicy: r.override_policy as OverridePolicy,
    overridePatterns: parseStringArray(r.override_patterns),
    stripDisallowedOverrides: Number(r.strip_disallowed_overrides) === 1,
    tftpSubnets: parseStringArray(r.tftp_subnets),
    tftpSecrets: Number(r.tftp_secrets) === 1,
    factoryLogin: Number(r.factory_login) === 1,
    rehomeDevices: Number(r.rehome_devices) === 1,
  };
}

function parseStringArray(json: string): string[] {
  try {
    const v: unknown = JSON.parse(json);
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

function toSite(r: Selectable<DeviceGroupsTable> & Partial<Pick<Selectable<SitesTable>, 'tftp_subnets' | 'description' | 'location' | 'subnets'>>): Site {
  const base = { id: Number(r.id), tenantId: Number(r.tenant_id), slug: r.slug, name: r.name };
  // Groups share the code but not the columns: their rows come back as plain DeviceGroups.
  if (r.tftp_subnets === undefined) return base as Site;
  return {
    ...base,
    tftpSubnets: parseStringArray(r.tftp_subnets),
    description: r.description ?? '',
    location: r.location ?? '',
    subnets: parseSiteSubnets(r.subnets ?? '[]'),
  };
}

function toModel(r: ModelRow): ModelPolicy {
  return { id: Number(r.id), tenantId: Number(r.tenant_id), model: r.model, appFilePath: r.app_file_path };
}

function toDevice(r: DeviceRow): Device {
  return {
    id: Number(r.id),
    tenantId: Number(r.tenant_id),
    mac: r.mac,
    registered: Number(r.registered) === 1,
    label: r.label,
    siteId: r.site_id == null ? null : Number(r.site_id),
    groupId: r.group_id == null ? null : Number(r.group_id),
    appFilePath: r.app_file_path,
    firstSeen: r.first_seen,
    lastSeen: r.last_seen,
    lastIp: r.last_ip,
    model: r.model,
    firmware: r.firmware,
    updaterVersion: r.updater_version,
    phase: r.phase as Phase | null,
    serial: r.serial,
    lastFile: r.last_file,
    userAgent: r.user_agent,
  };
}

function toParameter(r: ParameterDbRow): ParameterRow {
  return { scope: r.scope as ScopeKind, scopeId: Number(r.scope_id), name: r.name, value: r.value };
}

function toFile(r: FileRow): StoredFile {
  return {
    tenantId: Number(r.tenant_id),
    path: r.path,
    blobKey: r.blob_key,
    size: Number(r.size),
    contentType: r.content_type,
    createdAt: r.created_at,
  };
}

function toPhoneUpload(r: Selectable<PhoneUploadsTable>): PhoneUpload {
  return {
    tenantId: Number(r.tenant_id),
    mac: r.mac,
    path: r.path,
    version: Number(r.version),
    blobKey: r.blob_key,
    size: Number(r.size),
    problem: r.problem,
    createdAt: r.created_at,
  };
}

function toPhoneLog(r: Selectable<PhoneLogsTable>): PhoneLog {
  return { tenantId: Number(r.tenant_id), mac: r.mac, path: r.path, length: Number(r.length), base: Number(r.base), updatedAt: r.updated_at };
}

function toFirmwareRelease(r: FirmwareReleaseRow, images: FirmwareImage[]): FirmwareRelease {
  return {
    id: Number(r.id),
    tenantId: r.tenant_id == null ? null : Number(r.tenant_id),
    version: r.version,
    layout: r.layout as FirmwareLayout,
    source: r.source,
    createdAt: r.created_at,
    images,
  };
}

function toFirmwareImage(r: FirmwareImageRow): FirmwareImage {
  return {
    fileName: r.file_name,
    kind: r.kind as FirmwareImageKind,
    partNumber: r.part_number,
    models: parseStringArray(r.models),
    blobKey: r.blob_key,
    size: Number(r.size),
  };
}

function toRollout(r: RolloutRow, members: RolloutMember[]): Rollout {
  return {
    id: Number(r.id),
    tenantId: Number(r.tenant_id),
    name: r.name,
    fromVersion: r.from_version,
    toVersion: r.to_version,
    selector: parseSelector(r.selector),
    waves: parseNumberArray(r.waves),
    waveIntervalMs: Number(r.wave_interval_ms),
    deadlineMs: Number(r.deadline_ms),
    maxFailurePercent: Number(r.max_failure_percent),
    window: r.window,
    status: r.status as RolloutStatus,
    currentWave: Number(r.current_wave),
    waveStartedAt: r.wave_started_at,
    reason: r.reason,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    members,
  };
}

function parseNumberArray(json: string): number[] {
  try {
    const v: unknown = JSON.parse(json);
    return Array.isArray(v) ? v.filter((x): x is number => typeof x === 'number') : [];
  } catch {
    return [];
  }
}

function parseSelector(json: string): RolloutSelector {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch {
    return {};
  }
  if (typeof v !== 'object' || v === null) return {};
  const o = v as Record<string, unknown>;
  const str = (x: unknown) => (typeof x === 'string' ? x : undefined);
  return defined({ site: str(o.site), group: str(o.group), model: str(o.model) });
}

function toReachResult(r: ReachResultRow): ReachResult {
  return {
    tenantId: Number(r.tenant_id),
    mac: r.mac,
    method: r.method as ReachMethod,
    outcome: r.outcome as ReachOutcome,
    status: r.status == null ? null : Number(r.status),
    detail: r.detail,
    target: r.target,
    jobId: r.job_id == null ? null : Number(r.job_id),
    at: r.at,
  };
}

function toReachJob(r: ReachJobRow, counts: ReachJobCounts): ReachJob {
  return {
    id: Number(r.id),
    tenantId: Number(r.tenant_id),
    method: r.method as ReachMethod,
    selector: parseStringRecord(r.selector),
    ratePerSecond: Number(r.rate),
    jitter: Number(r.jitter),
    status: r.status as ReachJobStatus,
    total: counts.total,
    done: counts.done,
    outcomes: counts.outcomes,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function parseStringRecord(json: string): Record<string, string> {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch {
    return {};
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return {};
  return Object.fromEntries(Object.entries(v).filter(([, x]) => typeof x === 'string')) as Record<string, string>;
}

// ---------------------------------------------------------------------------------------------
// Administrators

/** The user columns of a join with admin_users as `u`, renamed where they would clash. */
const USER_COLUMNS = ['u.username', 'u.password_hash', 'u.role', 'u.tenant_id', 'u.created_at as user_created_at', 'u.disabled'] as const;

type UserJoinRow = { user_id: number; username: string; password_hash: string; role: string; tenant_id: number | null; user_created_at: string; disabled: number };

function userOfJoin(r: UserJoinRow): AdminUser {
  return toAdminUser({ id: r.user_id, username: r.username, password_hash: r.password_hash, role: r.role, tenant_id: r.tenant_id, created_at: r.user_created_at, disabled: r.disabled });
}

/** The user of that name whatever its case: lower() on both sides, so each dialect folds alike (the index is on lower(username)). */
function adminUserNamed(db: Tx | Db, username: string): Promise<Selectable<AdminUsersTable> | undefined> {
  return db
    .selectFrom('admin_users')
    .selectAll()
    .where(sql<SqlBool>`lower(username) = lower(${username})`)
    .executeTakeFirst();
}

function isActiveSuperAdmin(role: string, disabled: number): boolean {
  return role === 'super-admin' && Number(disabled) !== 1;
}

/** Role and tenant of a user, checked together. TypeError for an empty name, an unknown role, a role and tenant that do not go together, or a bad tenant id. */
function checkAdminUser(username: unknown, v: { role: unknown; tenantId: unknown }): { username: string; role: Role; tenantId: number | null } {
  if (typeof username !== 'string' || !username) throw new TypeError('admin user: no user name');
  const what = `admin user "${username}"`;
  if (!isRole(v.role)) throw new TypeError(`${what}: unknown role ${JSON.stringify(v.role)}`);
  const tenantId = v.tenantId ?? null;
  if (tenantId !== null && (typeof tenantId !== 'number' || !Number.isSafeInteger(tenantId) || tenantId <= 0)) throw new TypeError(`${what}: bad tenant id ${String(tenantId)}`);
  try {
    checkRoleScope(v.role, tenantId);
  } catch (err) {
    if (err instanceof DomainError) throw new TypeError(`${what}: ${err.message}`);
    throw err;
  }
  return { username, role: v.role, tenantId };
}

async function requireTenantRow(trx: Tx, tenantId: number): Promise<void> {
  const row = await trx.selectFrom('tenants').select('id').where('id', '=', tenantId).executeTakeFirst();
  if (!row) throw new NotFoundError(`tenant ${tenantId} does not exist`);
}

/**
 * Checks an audit entry and returns its row. TypeError for: a bad time; an empty user name,
 * action or target; a user or tenant id that is not null or a whole number; an address that is not
 * null or a string; before or after values that JSON cannot hold (a cycle, a bigint).
 */
function checkAuditEntry(e: NewAuditEntry): Omit<Selectable<AuditLogTable>, 'id'> {
  const what = `audit entry ${JSON.stringify(e?.action)}`;
  for (const [field, value] of [['username', e.username], ['action', e.action], ['target', e.target]] as const) {
    if (typeof value !== 'string' || !value) throw new TypeError(`${what}: ${field} must be a non-empty string`);
  }
  for (const [field, value] of [['userId', e.userId], ['tenantId', e.tenantId]] as const) {
    if (value !== null && value !== undefined && !Number.isSafeInteger(value)) throw new TypeError(`${what}: bad ${field} ${String(value)}`);
  }
  if (e.ip !== null && e.ip !== undefined && typeof e.ip !== 'string') throw new TypeError(`${what}: the address must be a string or null`);
  return {
    at: isoTime(`${what}: at`, e.at),
    user_id: e.userId ?? null,
    username: e.username,
    tenant_id: e.tenantId ?? null,
    action: e.action,
    target: e.target,
    before_json: auditJson(what, 'before', e.before),
    after_json: auditJson(what, 'after', e.after),
    ip: e.ip ?? null,
  };
}

function auditJson(what: string, field: string, value: unknown): string | null {
  if (value === undefined || value === null) return null;
  try {
    return JSON.stringify(value);
  } catch (err) {
    throw new TypeError(`${what}: ${field} is not JSON: ${(err as Error).message}`);
  }
}

/** The stored JSON, or the text itself should it not parse (never the case for rows appendAudit wrote). */
function parseAuditJson(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function toAdminUser(r: Selectable<AdminUsersTable>): AdminUser {
  return {
    id: Number(r.id),
    username: r.username,
    passwordHash: r.password_hash,
    role: r.role as Role,
    tenantId: r.tenant_id === null ? null : Number(r.tenant_id),
    createdAt: r.created_at,
    disabled: Number(r.disabled) === 1,
  };
}

function toApiToken(r: Selectable<ApiTokensTable>): ApiToken {
  return {
    id: Number(r.id),
    userId: Number(r.user_id),
    name: r.name,
    prefix: r.prefix,
    createdAt: r.created_at,
    lastUsedAt: r.last_used_at,
    revokedAt: r.revoked_at,
    expiresAt: r.expires_at,
  };
}

function toAdminSession(r: Selectable<AdminSessionsTable>): AdminSession {
  return { id: r.id, userId: Number(r.user_id), csrfToken: r.csrf_token, createdAt: r.created_at, expiresAt: r.expires_at, lastSeenAt: r.last_seen_at };
}

function toAuditEntry(r: Selectable<AuditLogTable>): AuditEntry {
  return {
    id: Number(r.id),
    at: r.at,
    userId: r.user_id === null ? null : Number(r.user_id),
    username: r.username,
    tenantId: r.tenant_id === null ? null : Number(r.tenant_id),
    action: r.action,
    target: r.target,
    before: parseAuditJson(r.before_json),
    after: parseAuditJson(r.after_json),
    ip: r.ip,
  };
}
