import { basename } from 'node:path';
import { classifyFileRelease, type FileReleaseContents } from '../domain/file-release.js';
import { classifyRelease, type ImageKind, type ReleaseContents } from '../domain/firmware-release.js';
import { FIRMWARE_ALLOW_DOWNGRADE, FIRMWARE_LOOP, FIRMWARE_TARGET } from '../domain/firmware-policy.js';
import { firmwareVersionKey, parseFirmwareVersion } from '../domain/firmware-version.js';
import { prerequisiteWarnings, type PrerequisiteRule } from '../domain/firmware-prerequisites.js';
import type { Device, FirmwareImage, FirmwareRelease, Tenant } from '../store/store.js';
import type { AdminContext } from './admin-context.js';
import { AdminError } from './admin-error.js';
import { devicesInScope, resolveScope, type ScopeSelector } from './parameters.js';
import { openReleaseSource } from './release-source.js';
import { TenantSnapshot } from '../provisioning/tenant-snapshot.js';

// The firmware library (a tenant's own, or the global one every tenant shares) and the target
// version as policy. Services here are what the CLI calls now and the REST API will call later.

/** A library: a tenant's, or null for the global one. */
export type Library = Tenant | null;

const libraryName = (lib: Library) => (lib ? `tenant "${lib.slug}"` : 'the global library');
const libraryId = (lib: Library) => lib?.id ?? null;

export interface ImportProgress {
  /** Called once the release is classified, before anything is stored. */
  classified?(contents: ReleaseContents): void;
  /** Called after each image is stored. */
  stored?(fileName: string, size: number): void;
}

export interface ImportOptions {
  /** The version, when neither sip.ver nor the source's name tells it. */
  version?: string;
  /** Keep every file by its path (Poly Rove firmware, say) instead of looking for UC Software images. */
  files?: boolean;
}

/**
 * Imports a UC Software release (a zip as Poly publishes it, a folder, or loose image files) into
 * a library. Images are streamed into the blob store (content-addressed: the key is the SHA-256,
 * kept as the checksum); the release row is written last, so a failed import leaves no release.
 */
export async function importRelease(ctx: AdminContext, lib: Library, paths: readonly string[], opts: ImportOptions = {}, progress: ImportProgress = {}): Promise<FirmwareRelease> {
  const source = await openReleaseSource(paths);
  const contents: ReleaseContents = opts.files
    ? plainFiles(classifyFileRelease({ files: source.files, sourceName: source.name, ...(opts.version ? { version: opts.version } : {}) }))
    : classifyRelease({
        files: source.files,
        sourceName: source.name,
        ...(source.sipVer !== undefined ? { sipVer: source.sipVer } : {}),
        ...(opts.version ? { version: opts.version } : {}),
      });
  const key = firmwareVersionKey(contents.version);
  const same = (await ctx.store.listFirmwareReleases(libraryId(lib))).find((r) => firmwareVersionKey(r.version) === key);
  if (same) throw new AdminError(`${libraryName(lib)} already has firmware ${same.version} (remove it first: polyprov firmware remove ${same.version})`);
  progress.classified?.(contents);
  const byPath = new Map(contents.images.map((i) => [i.path, i]));
  const images: FirmwareImage[] = [];
  await source.readEach(new Set(byPath.keys()), async (path, bytes) => {
    const image = byPath.get(path)!;
    const blob = await ctx.blobs.put(bytes);
    if (blob.size !== image.size) throw new AdminError(`${path}: read ${blob.size} bytes, the listing said ${image.size}; the source changed during the import`);
    images.push({ fileName: image.fileName, kind: image.kind, partNumber: image.partNumber, models: image.models, blobKey: blob.key, size: blob.size });
    progress.stored?.(image.fileName, blob.size);
  });
  if (images.length !== byPath.size) throw new AdminError(`only ${images.length} of ${byPath.size} images could be read from ${source.name}`);
  return ctx.store.addFirmwareRelease({ tenantId: libraryId(lib), version: contents.version, layout: opts.files ? 'files' : contents.layout, source: basename(source.name), images });
}

/** A file release in the shape of a classified one: every file an image of kind 'file'. */
function plainFiles(c: FileReleaseContents): ReleaseContents {
  return {
    version: c.version,
    layout: 'combined',
    images: c.files.map((f) => ({ path: f.path, fileName: f.fileName, kind: 'file' as ImageKind, partNumber: null, models: [], size: f.size })),
    unknownParts: [],
    ignored: [],
  };
}

export async function listReleases(ctx: AdminContext, lib: Library): Promise<FirmwareRelease[]> {
  return ctx.store.listFirmwareReleases(libraryId(lib));
}

export async function requireRelease(ctx: AdminContext, lib: Library, version: string): Promise<FirmwareRelease> {
  const v = parseFirmwareVersion(version);
  const r = await ctx.store.getFirmwareRelease(libraryId(lib), v);
  if (!r) throw new AdminError(`${libraryName(lib)} has no firmware ${v} (see: polyprov firmware list${lib ? ` -t ${lib.slug}` : ' --global'})`);
  return r;
}

/** Where a version is the target: "tenant acme, model VVX_500", one line per layer. */
export async function targetsOf(ctx: AdminContext, tenants: readonly Tenant[], version: string): Promise<string[]> {
  const out: string[] = [];
  for (const t of tenants) {
    for (const row of await ctx.store.listParameters(t.id)) {
      if (row.name === FIRMWARE_TARGET && row.value === version) out.push(`tenant ${t.slug}, ${row.scope}${row.scope === 'tenant' ? '' : ` #${row.scopeId}`}`);
    }
  }
  return out;
}

/** Removes a release that no policy targets; its blobs stay (content-addressed, maybe shared). */
export async function removeRelease(ctx: AdminContext, lib: Library, version: string): Promise<void> {
  const r = await requireRelease(ctx, lib, version);
  // A tenant's release can be the target only in that tenant; a global one in any tenant that lacks its own copy.
  const tenants = lib ? [lib] : await ctx.store.listTenants();
  const using = await targetsOf(ctx, tenants, r.version);
  if (using.length > 0) throw new AdminError(`firmware ${r.version} is still the target of: ${using.join('; ')} (polyprov firmware target unset … first)`);
  await ctx.store.deleteFirmwareRelease(libraryId(lib), r.version);
}

/** The release a tenant's phones get for a version: the tenant's own copy, else the global one. */
export async function findRelease(ctx: AdminContext, t: Tenant, version: string): Promise<FirmwareRelease | undefined> {
  return (await ctx.store.getFirmwareRelease(t.id, version)) ?? (await ctx.store.getFirmwareRelease(null, version));
}

/**
 * Sets the target version at one layer; it must exist in the tenant's or the global library.
 * Returns the release and a warning per prerequisite (Updater, BootROM, intermediate release) that
 * devices of that layer may lack, from what they have reported.
 */
export async function setFirmwareTarget(
  ctx: AdminContext,
  t: Tenant,
  sel: ScopeSelector,
  version: string,
  opts: { allowDowngrade?: boolean } = {},
): Promise<{ release: FirmwareRelease; warnings: string[] }> {
  const v = parseFirmwareVersion(version);
  const release = await findRelease(ctx, t, v);
  if (!release) throw new AdminError(`no firmware ${v} in tenant "${t.slug}"'s library or the global one (import it first: polyprov firmware import)`);
  const scope = await resolveScope(ctx, t, sel, true);
  await ctx.store.setParameters(t.id, scope, { [FIRMWARE_TARGET]: v, ...(opts.allowDowngrade ? { [FIRMWARE_ALLOW_DOWNGRADE]: '1' } : {}) });
  if (opts.allowDowngrade === false) await ctx.store.unsetParameters(t.id, scope, [FIRMWARE_ALLOW_DOWNGRADE]);
  return { release, warnings: prerequisiteReport(v, await devicesInScope(ctx, t, sel, scope)) };
}

/** One line per prerequisite some of these devices may lack for `version`, with counts. */
export function prerequisiteReport(version: string, devices: readonly Device[]): string[] {
  const byRule = new Map<PrerequisiteRule, { missing: number; unknown: number }>();
  for (const d of devices) {
    for (const w of prerequisiteWarnings(version, { model: d.model, running: d.firmware, updater: d.updaterVersion })) {
      const n = byRule.get(w.rule) ?? { missing: 0, unknown: 0 };
      n[w.state] += 1;
      byRule.set(w.rule, n);
    }
  }
  return [...byRule].map(([rule, n]) => {
    const needs = Object.entries(rule.needs).map(([what, v]) => `${what === 'running' ? 'a running version' : `the ${what === 'bootrom' ? 'BootROM' : 'Updater'}`} ${v} or later`).join(', ');
    const counts = [n.missing && `${n.missing} reported an older one`, n.unknown && `${n.unknown} never reported theirs`].filter(Boolean).join(', ');
    return `${n.missing + n.unknown} device(s) may not take ${version}: it needs ${needs} (${counts}). ${rule.why} [${rule.source}]`;
  });
}

/** Removes the target (and any downgrade permission or upgrade-loop hold) from one layer; false when it had none. */
export async function unsetFirmwareTarget(ctx: AdminContext, t: Tenant, sel: ScopeSelector): Promise<boolean> {
  const scope = await resolveScope(ctx, t, sel, false);
  return (await ctx.store.unsetParameters(t.id, scope, [FIRMWARE_TARGET, FIRMWARE_ALLOW_DOWNGRADE, FIRMWARE_LOOP])) > 0;
}

export interface FleetRow {
  /** What the phones report ("never seen" when they never fetched a file). */
  running: string;
  /** What their policy (or rollout) targets ("none" without a target). */
  target: string;
  devices: number;
}

/** How many of the tenant's phones run which version against which target, from the inventory. */
export async function firmwareFleet(ctx: AdminContext, t: Tenant): Promise<FleetRow[]> {
  const snap = new TenantSnapshot(await ctx.store.loadTenantPolicy(t.id));
  const rows = new Map<string, FleetRow>();
  for (const d of await ctx.store.listDevices(t.id)) {
    const running = d.firmware ?? 'never seen';
    const target = snap.settingFor(FIRMWARE_TARGET, snap.devicesByMac.get(d.mac), d.model ?? undefined) ?? 'none';
    const key = `${running}|${target}`;
    const row = rows.get(key) ?? { running, target, devices: 0 };
    row.devices += 1;
    rows.set(key, row);
  }
  return [...rows.values()].sort((a, b) => b.devices - a.devices || (a.running < b.running ? -1 : 1));
}
