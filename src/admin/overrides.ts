import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { requireMac, type Mac } from '../domain/mac.js';
import { effectiveWithOverrides, parseOverrideFile, renderEmptyOverrideFile, type FirmwareStamp, type OverrideKind } from '../domain/override-file.js';
import { isOverrideAllowed } from '../domain/override-policy.js';
import { PHONE_DIRECTORIES } from '../domain/phone-path.js';
import { quoteInput } from '../domain/quote-input.js';
import { resolvePolicy, type LayerKind } from '../domain/resolve-policy.js';
import { TenantSnapshot } from '../provisioning/tenant-snapshot.js';
import type { PhoneUpload, Tenant } from '../store/store.js';
import type { AdminContext } from './admin-context.js';
import { AdminError } from './admin-error.js';

// The override files a phone uploads (`overrides/<mac>-phone.cfg`, `-web.cfg`), seen from the
// server's side: what they say, every stored version, and the two admin actions on them. Both
// actions record a new version (the newest is what the phone is served); nothing is ever deleted.

export const OVERRIDE_KINDS: readonly OverrideKind[] = Object.freeze(['phone', 'web'] as const);

export function overridePath(mac: Mac, kind: OverrideKind): string {
  return `${PHONE_DIRECTORIES.overrides}/${mac}-${kind}.cfg`;
}

function kindOfPath(path: string): OverrideKind | undefined {
  const m = /^overrides\/[0-9a-f]{12}-(phone|web)\.cfg$/.exec(path);
  return m ? (m[1] as OverrideKind) : undefined;
}

export function requireOverrideKind(input: string): OverrideKind {
  if (input === 'phone' || input === 'web') return input;
  throw new AdminError(`unknown override kind ${quoteInput(input)}: expected phone (<mac>-phone.cfg, changes made on the phone) or web (<mac>-web.cfg, its web UI)`);
}

export function requireOverrideKinds(input: string | undefined): OverrideKind[] {
  if (input === undefined || input === 'both') return [...OVERRIDE_KINDS];
  return [requireOverrideKind(input)];
}

/** The empty override file's blob key (a SHA-256 of its bytes, as the blob store keys them). */
const EMPTY_FILE = new Map(OVERRIDE_KINDS.map((k) => [k, Buffer.from(renderEmptyOverrideFile(k), 'utf8')] as const));
const EMPTY_KEY = new Map(OVERRIDE_KINDS.map((k) => [k, createHash('sha256').update(EMPTY_FILE.get(k)!).digest('hex')] as const));

/** The newest version of one override file and what it says. */
export interface OverrideFileState {
  kind: OverrideKind;
  path: string;
  version: number;
  size: number;
  createdAt: string;
  /** Why the content is malformed (it is stored and served all the same), or null. Its parameters are then not known. */
  problem: string | null;
  /** The parameters it sets, in file order (empty when malformed, and after a clear). */
  parameters: { name: string; value: string }[];
  /** The firmware that wrote it, from its header comment, when it says. */
  firmware?: FirmwareStamp;
  /** True when the content is the empty override file `override clear` records. */
  empty: boolean;
}

export interface DeviceOverrides {
  tenant: string;
  mac: Mac;
  phone: OverrideFileState | null;
  web: OverrideFileState | null;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function stateOf(ctx: AdminContext, up: PhoneUpload, kind: OverrideKind): Promise<OverrideFileState> {
  const base = { kind, path: up.path, version: up.version, size: up.size, createdAt: up.createdAt, empty: up.blobKey === EMPTY_KEY.get(kind) };
  if (up.problem !== null) return { ...base, problem: up.problem, parameters: [] };
  let text: string;
  try {
    text = (await readAll(ctx.blobs.read(up.blobKey))).toString('utf8');
  } catch (err) {
    return { ...base, problem: `stored bytes unreadable: ${(err as Error).message}`, parameters: [] };
  }
  const parsed = parseOverrideFile(text);
  if (!parsed.ok) return { ...base, problem: parsed.error, parameters: [] };
  const parameters = [...parsed.params].map(([name, value]) => ({ name, value }));
  return parsed.firmware ? { ...base, problem: null, parameters, firmware: parsed.firmware } : { ...base, problem: null, parameters };
}

/** What the device's newest `-phone.cfg` and `-web.cfg` say; a malformed one is reported, never thrown. */
export async function deviceOverrides(ctx: AdminContext, t: Tenant, macInput: string): Promise<DeviceOverrides> {
  const mac = requireMac(macInput);
  const [phone, web] = await Promise.all(
    OVERRIDE_KINDS.map(async (kind) => {
      const up = await ctx.store.latestPhoneUpload(t.id, overridePath(mac, kind));
      return up ? stateOf(ctx, up, kind) : null;
    }),
  );
  return { tenant: t.slug, mac, phone: phone ?? null, web: web ?? null };
}

/** A readable override file's parameters as a map, or undefined (none stored, or malformed): what the phone applies. */
export function overrideParams(state: OverrideFileState | null): Map<string, string> | undefined {
  if (!state || state.problem !== null) return undefined;
  return new Map(state.parameters.map((p) => [p.name, p.value]));
}

export interface OverrideVersion {
  kind: OverrideKind;
  path: string;
  version: number;
  size: number;
  createdAt: string;
  problem: string | null;
  /** The newest version of its file: what the phone is served. */
  served: boolean;
  /** The empty override file (`override clear` records it). */
  empty: boolean;
}

/** Every stored version of the device's override files, by path then version. */
export async function listOverrideVersions(ctx: AdminContext, t: Tenant, macInput: string): Promise<OverrideVersion[]> {
  const mac = requireMac(macInput);
  const all = await ctx.store.listPhoneUploads(t.id, mac);
  const newest = new Map<string, number>();
  for (const u of all) newest.set(u.path, Math.max(newest.get(u.path) ?? 0, u.version));
  const out: OverrideVersion[] = [];
  for (const u of all) {
    const kind = kindOfPath(u.path);
    if (!kind) continue;
    out.push({
      kind,
      path: u.path,
      version: u.version,
      size: u.size,
      createdAt: u.createdAt,
      problem: u.problem,
      served: newest.get(u.path) === u.version,
      empty: u.blobKey === EMPTY_KEY.get(kind),
    });
  }
  return out;
}

export type ClearOutcome =
  | { kind: OverrideKind; path: string; outcome: 'cleared'; version: number }
  | { kind: OverrideKind; path: string; outcome: 'already-empty'; version: number }
  | { kind: OverrideKind; path: string; outcome: 'none-stored' };

/**
 * "Reset Local Config" from the server's side: the newest version of each chosen file becomes the
 * empty override file, so the phone drops its local changes when it next reads it. Earlier
 * versions stay (restore one with restoreOverride). A file the phone never uploaded is left
 * alone, and one that is already empty gets no new version.
 */
export async function clearOverrides(ctx: AdminContext, t: Tenant, macInput: string, which: OverrideKind | 'both'): Promise<ClearOutcome[]> {
  const mac = requireMac(macInput);
  const kinds = which === 'both' ? OVERRIDE_KINDS : [requireOverrideKind(which)];
  const out: ClearOutcome[] = [];
  for (const kind of kinds) {
    const path = overridePath(mac, kind);
    const latest = await ctx.store.latestPhoneUpload(t.id, path);
    if (!latest) {
      out.push({ kind, path, outcome: 'none-stored' });
      continue;
    }
    if (latest.blobKey === EMPTY_KEY.get(kind)) {
      out.push({ kind, path, outcome: 'already-empty', version: latest.version });
      continue;
    }
    const blob = await ctx.blobs.put(EMPTY_FILE.get(kind)!);
    const rec = await ctx.store.recordPhoneUpload({ tenantId: t.id, mac, path, blobKey: blob.key, size: blob.size, problem: null });
    out.push({ kind, path, outcome: 'cleared', version: rec.version });
  }
  return out;
}

/** Serves an earlier version again, by recording it as the newest one (the versions in between stay). */
export async function restoreOverride(ctx: AdminContext, t: Tenant, macInput: string, kindInput: string, version: number): Promise<PhoneUpload> {
  const mac = requireMac(macInput);
  const kind = requireOverrideKind(kindInput);
  if (!Number.isSafeInteger(version) || version < 1) throw new AdminError(`invalid version ${quoteInput(version)}: expected a version number such as 1 (see: polyprov override list ${mac})`);
  const path = overridePath(mac, kind);
  const versions = (await ctx.store.listPhoneUploads(t.id, mac)).filter((u) => u.path === path);
  const wanted = versions.find((u) => u.version === version);
  if (!wanted) {
    const have = versions.length ? `its versions are ${versions.map((u) => u.version).join(', ')}` : 'the phone has not uploaded one';
    throw new AdminError(`${path} has no version ${version} in tenant "${t.slug}": ${have}`);
  }
  if (!(await ctx.blobs.stat(wanted.blobKey))) throw new AdminError(`the bytes of ${path} version ${version} are missing from the blob store: it cannot be restored`);
  return ctx.store.recordPhoneUpload({ tenantId: t.id, mac, path, blobKey: wanted.blobKey, size: wanted.size, problem: wanted.problem });
}

export interface OverrideConflict {
  mac: Mac;
  parameter: string;
  /** What central policy gives the device: the winning layer's value. */
  server: { value: string; layer: LayerKind; ref: string };
  /** What the phone applies instead (-phone.cfg over -web.cfg). */
  override: { value: string; source: OverrideKind; path: string; version: number };
}

/** An override the tenant's override policy does not allow (reported whether or not it is stripped). */
export interface DisallowedOverride {
  mac: Mac;
  parameter: string;
  value: string;
  /** The file that sets it (each file's parameters are listed, so a name can appear for both). */
  source: OverrideKind;
  path: string;
  version: number;
}

export interface MalformedOverride {
  mac: Mac;
  path: string;
  version: number;
  problem: string;
}

export interface ConflictReport {
  tenant: string;
  /** Devices whose overrides were read (those with at least one override file). */
  devicesWithOverrides: number;
  /** Parameters a phone overrides with a value other than the one central policy gives it, by MAC then name. */
  conflicts: OverrideConflict[];
  /** Overrides the tenant's policy forbids, by MAC, then name, then phone before web. */
  disallowed: DisallowedOverride[];
  /** The tenant's override policy, as the report applied it. */
  policy: { overridePolicy: Tenant['overridePolicy']; overridePatterns: string[]; stripDisallowedOverrides: boolean };
  /** Newest override files that could not be read: what they override is unknown. */
  malformed: MalformedOverride[];
}

const CONCURRENT_READS = 8;

/**
 * The overrides that conflict with central policy, across the tenant's devices: a parameter the
 * server sets (any layer, built-in defaults included) that the phone's effective override gives
 * another value. Parameters set only by an override are local choices, not conflicts. Policy is
 * resolved as the core and explain resolve it (TenantSnapshot.layersFor, the device's model from
 * the inventory).
 */
export async function overrideConflicts(ctx: AdminContext, t: Tenant): Promise<ConflictReport> {
  const snap = new TenantSnapshot(await ctx.store.loadTenantPolicy(t.id));
  const devices = await ctx.store.listDevices(t.id);
  const report: ConflictReport = {
    tenant: t.slug,
    devicesWithOverrides: 0,
    conflicts: [],
    disallowed: [],
    policy: { overridePolicy: t.overridePolicy, overridePatterns: [...t.overridePatterns], stripDisallowedOverrides: t.stripDisallowedOverrides },
    malformed: [],
  };
  const perDevice: { conflicts: OverrideConflict[]; disallowed: DisallowedOverride[]; malformed: MalformedOverride[] }[] = new Array(devices.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < devices.length; i = next++) {
      const d = devices[i]!;
      const o = await deviceOverrides(ctx, t, d.mac);
      if (!o.phone && !o.web) continue;
      report.devicesWithOverrides++;
      const malformed = [o.phone, o.web]
        .filter((s): s is OverrideFileState => s !== null && s.problem !== null)
        .map((s) => ({ mac: d.mac, path: s.path, version: s.version, problem: s.problem! }));
      const resolved = resolvePolicy(snap.layersFor(snap.devicesByMac.get(d.mac), d.model ?? undefined));
      const server = new Map(resolved.map((p) => [p.name, p]));
      const effective = effectiveWithOverrides(new Map(resolved.map((p) => [p.name, p.value])), overrideParams(o.web), overrideParams(o.phone));
      const conflicts: OverrideConflict[] = [];
      for (const [name, eff] of effective) {
        const s = server.get(name);
        if (eff.source === 'server' || !s || s.value === eff.value) continue;
        const file = eff.source === 'phone' ? o.phone! : o.web!;
        conflicts.push({
          mac: d.mac,
          parameter: name,
          server: { value: s.value, layer: s.layer, ref: s.ref },
          override: { value: eff.value, source: eff.source, path: file.path, version: file.version },
        });
      }
      conflicts.sort((a, b) => (a.parameter < b.parameter ? -1 : a.parameter > b.parameter ? 1 : 0));
      const disallowed: DisallowedOverride[] = [];
      for (const file of [o.phone, o.web]) {
        if (!file || file.problem !== null) continue;
        for (const p of file.parameters) {
          if (isOverrideAllowed(p.name, t.overridePolicy, t.overridePatterns)) continue;
          disallowed.push({ mac: d.mac, parameter: p.name, value: p.value, source: file.kind, path: file.path, version: file.version });
        }
      }
      disallowed.sort((a, b) => (a.parameter < b.parameter ? -1 : a.parameter > b.parameter ? 1 : 0));
      perDevice[i] = { conflicts, disallowed, malformed };
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENT_READS, devices.length) }, worker));
  // listDevices is ordered by MAC, so the report is too.
  for (const r of perDevice) {
    if (!r) continue;
    report.conflicts.push(...r.conflicts);
    report.disallowed.push(...r.disallowed);
    report.malformed.push(...r.malformed);
  }
  return report;
}
