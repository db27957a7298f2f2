import { DomainError } from '../domain/domain-error.js';
import { parseSubnetList } from '../domain/ip-subnet.js';
import { requireOverridePolicy, validateOverridePattern } from '../domain/override-policy.js';
import { digestHa1, generatePassword, hashPassword } from '../provisioning/credentials.js';
import type { Tenant, TenantPatch, UnknownDevicePolicy } from '../store/store.js';
import type { AdminContext } from './admin-context.js';
import { AdminError } from './admin-error.js';
import {
  validateConfigFileList,
  validateFileReference,
  validateHostname,
  validatePassword,
  validatePathPrefix,
  validateSlug,
  validateUsername,
} from './validate-names.js';

export interface TenantSettings {
  name?: string;
  username?: string;
  password?: string;
  pathPrefix?: string | null;
  hostnames?: string[];
  unknownDevices?: string;
  appFilePath?: string;
  extraConfigFiles?: string[];
  /** Bytes, or a size such as `10MiB`, `512k`, `2KB` (units are powers of 1024). */
  logMaxBytes?: number | string;
  logSegments?: number | string;
  logMaxAgeDays?: number | string;
  /** allow-all (default), allow-list or deny-list. */
  overridePolicy?: string;
  /** Parameter names with `*` segments: `reg.*.label`, `up.*`. */
  overridePatterns?: string[];
  stripDisallowedOverrides?: boolean;
  /** Client subnets (CIDR) that choose the tenant over TFTP. */
  tftpSubnets?: string[];
  tftpSecrets?: boolean;
  factoryLogin?: boolean;
  /** Move a device to another site when its address moves into that site's subnets. */
  rehomeDevices?: boolean;
}

/** At most this many TFTP subnets per tenant or site. */
export const MAX_TFTP_SUBNETS = 1000;

/** Validated and written the canonical way (`10.1.0.0/16`), duplicates dropped. */
export function tftpSubnetList(list: string[]): string[] {
  if (list.length > MAX_TFTP_SUBNETS) throw new AdminError(`too many TFTP subnets (${list.length}): at most ${MAX_TFTP_SUBNETS}`);
  try {
    return [...new Set(parseSubnetList(list).map((s) => s.text))];
  } catch (error) {
    if (error instanceof DomainError) throw new AdminError(`invalid TFTP subnet: ${error.message}`);
    throw error;
  }
}

/** The most patterns one tenant's override policy may list. */
export const MAX_OVERRIDE_PATTERNS = 500;

function overridePatterns(list: string[]): string[] {
  if (list.length > MAX_OVERRIDE_PATTERNS) throw new AdminError(`too many override patterns (${list.length}): at most ${MAX_OVERRIDE_PATTERNS}`);
  try {
    return [...new Set(list.map((p) => validateOverridePattern(p.trim())))];
  } catch (error) {
    if (error instanceof DomainError) throw new AdminError(error.message);
    throw error;
  }
}

function overridePolicy(v: string) {
  try {
    return requireOverridePolicy(v);
  } catch (error) {
    if (error instanceof DomainError) throw new AdminError(error.message);
    throw error;
  }
}

/** Bounds of the log retention settings (see provisioning/phone-logs.ts for what they do). */
export const LOG_RETENTION_LIMITS = {
  logMaxBytes: { min: 1024, max: 1024 ** 4 },
  logSegments: { min: 0, max: 1000 },
  logMaxAgeDays: { min: 0, max: 36_500 },
} as const;

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1024, kib: 1024, m: 1024 ** 2, mb: 1024 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3, gib: 1024 ** 3 };

/** `10485760`, `10MiB`, `10 MB`, `512k`: a whole number of bytes (units are powers of 1024). */
export function parseByteSize(what: string, v: number | string): number {
  if (typeof v === 'number') return v;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(v);
  const unit = m ? SIZE_UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new AdminError(`invalid ${what} "${v}": expected bytes or a size such as 10MiB, 512KiB, 2k`);
  return Math.round(Number(m[1]) * unit);
}

function wholeNumber(what: string, v: number | string, limits: { min: number; max: number }, hint = ''): number {
  const n = typeof v === 'number' ? v : /^\s*\d+\s*$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < limits.min || n > limits.max) {
    throw new AdminError(`invalid ${what} "${v}": expected a whole number from ${limits.min} to ${limits.max}${hint}`);
  }
  return n;
}

function unknownPolicy(v: string): UnknownDevicePolicy {
  if (v === 'serve' || v === 'refuse') return v;
  throw new AdminError(`invalid unknown-device policy "${v}": expected "serve" (tenant defaults) or "refuse"`);
}

async function toPatch(s: TenantSettings): Promise<TenantPatch> {
  const patch: TenantPatch = {};
  if (s.name !== undefined) patch.name = s.name;
  if (s.pathPrefix !== undefined) patch.pathPrefix = s.pathPrefix === null || s.pathPrefix === '' ? null : validatePathPrefix(s.pathPrefix);
  if (s.hostnames !== undefined) patch.hostnames = [...new Set(s.hostnames.map(validateHostname))];
  if (s.unknownDevices !== undefined) patch.unknownDevices = unknownPolicy(s.unknownDevices);
  if (s.appFilePath !== undefined) patch.appFilePath = validateFileReference('APP_FILE_PATH', s.appFilePath);
  if (s.extraConfigFiles !== undefined) patch.extraConfigFiles = validateConfigFileList(s.extraConfigFiles);
  if (s.logMaxBytes !== undefined) {
    patch.logMaxBytes = wholeNumber('log size cap', parseByteSize('log size cap', s.logMaxBytes), LOG_RETENTION_LIMITS.logMaxBytes, ' bytes (1KiB to 1TiB)');
  }
  if (s.logSegments !== undefined) patch.logSegments = wholeNumber('number of log segments', s.logSegments, LOG_RETENTION_LIMITS.logSegments);
  if (s.logMaxAgeDays !== undefined) patch.logMaxAgeDays = wholeNumber('maximum log age', s.logMaxAgeDays, LOG_RETENTION_LIMITS.logMaxAgeDays, ' days (0: no age limit)');
  if (s.overridePolicy !== undefined) patch.overridePolicy = overridePolicy(s.overridePolicy);
  if (s.overridePatterns !== undefined) patch.overridePatterns = overridePatterns(s.overridePatterns);
  if (s.stripDisallowedOverrides !== undefined) patch.stripDisallowedOverrides = s.stripDisallowedOverrides;
  if (s.tftpSubnets !== undefined) patch.tftpSubnets = tftpSubnetList(s.tftpSubnets);
  if (s.tftpSecrets !== undefined) patch.tftpSecrets = s.tftpSecrets;
  if (s.factoryLogin !== undefined) patch.factoryLogin = s.factoryLogin;
  if (s.rehomeDevices !== undefined) patch.rehomeDevices = s.rehomeDevices;
  return patch;
}

async function credentialPatch(username: string, password: string): Promise<{ provUsername: string; provPasswordHash: string; provDigestHa1: string }> {
  validateUsername(username);
  validatePassword(password);
  return { provUsername: username, provPasswordHash: await hashPassword(password), provDigestHa1: digestHa1(username, password) };
}

/** Creates a tenant; when no password is given one is generated and returned (it is stored only as hashes). */
export async function addTenant(ctx: AdminContext, slug: string, s: TenantSettings): Promise<{ tenant: Tenant; password: string }> {
  validateSlug('tenant', slug);
  const password = s.password ?? generatePassword();
  const patch = await toPatch(s);
  const tenant = await ctx.store.createTenant({
    slug,
    name: s.name ?? slug,
    ...(await credentialPatch(s.username ?? slug, password)),
    pathPrefix: patch.pathPrefix ?? null,
    hostnames: patch.hostnames ?? [],
    unknownDevices: patch.unknownDevices ?? 'serve',
    appFilePath: patch.appFilePath ?? 'sip.ld',
    extraConfigFiles: patch.extraConfigFiles ?? [],
    ...(patch.logMaxBytes !== undefined ? { logMaxBytes: patch.logMaxBytes } : {}),
    ...(patch.logSegments !== undefined ? { logSegments: patch.logSegments } : {}),
    ...(patch.logMaxAgeDays !== undefined ? { logMaxAgeDays: patch.logMaxAgeDays } : {}),
    ...(patch.overridePolicy !== undefined ? { overridePolicy: patch.overridePolicy } : {}),
    ...(patch.overridePatterns !== undefined ? { overridePatterns: patch.overridePatterns } : {}),
    ...(patch.stripDisallowedOverrides !== undefined ? { stripDisallowedOverrides: patch.stripDisallowedOverrides } : {}),
    ...(patch.tftpSubnets !== undefined ? { tftpSubnets: patch.tftpSubnets } : {}),
    ...(patch.tftpSecrets !== undefined ? { tftpSecrets: patch.tftpSecrets } : {}),
    ...(patch.factoryLogin !== undefined ? { factoryLogin: patch.factoryLogin } : {}),
    ...(patch.rehomeDevices !== undefined ? { rehomeDevices: patch.rehomeDevices } : {}),
  });
  return { tenant, password };
}

export async function updateTenant(ctx: AdminContext, slug: string, s: TenantSettings): Promise<Tenant> {
  const tenant = await requireTenant(ctx, slug);
  const patch = await toPatch(s);
  if (s.username !== undefined || s.password !== undefined) {
    if (s.password === undefined) throw new AdminError('changing the user name needs the password too (the Digest hash covers both)');
    Object.assign(patch, await credentialPatch(s.username ?? tenant.provUsername, s.password));
  }
  return ctx.store.updateTenant(tenant.id, patch);
}

export async function removeTenant(ctx: AdminContext, slug: string): Promise<void> {
  const tenant = await requireTenant(ctx, slug);
  await ctx.store.deleteTenant(tenant.id);
}

/**
 * The tenant a command is about. With no slug given, the only tenant is meant; with several,
 * the user must say which.
 */
export async function requireTenant(ctx: AdminContext, slug: string | undefined): Promise<Tenant> {
  if (slug) {
    const t = await ctx.store.getTenantBySlug(slug);
    if (!t) throw new AdminError(`no tenant "${slug}" (see: polyprov tenant list)`);
    return t;
  }
  const all = await ctx.store.listTenants();
  if (all.length === 1) return all[0]!;
  if (all.length === 0) throw new AdminError('no tenant exists yet: create one with "polyprov tenant add <slug>"');
  throw new AdminError(`several tenants exist (${all.map((t) => t.slug).join(', ')}): choose one with --tenant`);
}
