import { basename } from 'node:path';
import { pipeline as chain, Transform, Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { classifyFileRelease, type FileReleaseContents } from '../domain/file-release.js';
import { classifyRelease, type ImageKind, type ReleaseContents } from '../domain/firmware-release.js';
import { FIRMWARE_ALLOW_DOWNGRADE, FIRMWARE_LOOP, FIRMWARE_TARGET } from '../domain/firmware-policy.js';
import { firmwareVersionKey, parseFirmwareVersion } from '../domain/firmware-version.js';
import { prerequisiteWarnings, type PrerequisiteRule } from '../domain/firmware-prerequisites.js';
import type { Device, FirmwareImage, FirmwareRelease, ParameterRow, Rollout, Tenant, TenantPolicyData } from '../store/store.js';
import type { AdminContext } from './admin-context.js';
import { AdminError } from './admin-error.js';
import { devicesInScope, resolveScope, type ScopeSelector } from './parameters.js';
import { openReleaseSource, ReleaseTooLarge, type ReleaseSource } from './release-source.js';
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

/** How large a release may be once unpacked, and how many files its source may hold. */
export interface ReleaseLimits {
  /** Bytes of all the images it stores (default DEFAULT_MAX_UNPACKED_BYTES). */
  maxUnpackedBytes?: number;
  /** Zip entries, or files of a folder (default DEFAULT_MAX_ENTRIES). */
  maxEntries?: number;
}

/** 2 GiB: Poly's releases with every model in one zip stay well below it. */
export const DEFAULT_MAX_UNPACKED_BYTES = 2 * 1024 ** 3;
/** Poly's release zips hold a few dozen files; a Rove release a few hundred. */
export const DEFAULT_MAX_ENTRIES = 10_000;

export interface ImportOptions extends ReleaseLimits {
  /** The version, when neither sip.ver nor the source's name tells it. */
  version?: string;
  /** Keep every file by its path (Poly Rove firmware, say) instead of looking for UC Software images. */
  files?: boolean;
}

export { ReleaseTooLarge };

const MIB = 1024 * 1024;
const mib = (bytes: number) => `${(bytes / MIB).toFixed(bytes < 10 * MIB ? 2 : 0)} MiB`;
const RAISE_LIMIT = 'if the release is genuine, import it on the server with polyprov firmware import --max-unpacked-mib <MiB>';

/**
 * Imports a UC Software release (a zip as Poly publishes it, a folder, or loose image files) into
 * a library. Images are streamed into the blob store (content-addressed: the key is the SHA-256,
 * kept as the checksum); the release row is written last, so a failed import leaves no release.
 *
 * Sizes are checked twice: the sizes the source lists, before a byte is read, and the bytes its
 * streams really give, counted as they flow (a zip's headers can lie; a file can grow). A zip is
 * unpacked once without storing anything to count them, so a zip that lies in its last entry
 * cannot leave the blobs of the ones before it behind; the second pass stores and counts again.
 */
export async function importRelease(ctx: AdminContext, lib: Library, paths: readonly string[], opts: ImportOptions = {}, progress: ImportProgress = {}): Promise<FirmwareRelease> {
  const maxBytes = opts.maxUnpackedBytes ?? DEFAULT_MAX_UNPACKED_BYTES;
  const source = await openReleaseSource(paths, { maxEntries: opts.maxEntries ?? DEFAULT_MAX_ENTRIES });
  const contents: ReleaseContents = opts.files
    ? plainFiles(classifyFileRelease({ files: source.files, sourceName: source.name, ...(opts.version ? { version: opts.version } : {}) }))
    : classifyRelease({
        files: source.files,
        sourceName: source.name,
        ...(source.sipVer !== undefined ? { sipVer: source.sipVer } : {}),
        ...(opts.version ? { version: opts.version } : {}),
      });
  const declared = contents.images.reduce((n, i) => n + i.size, 0);
  if (declared > maxBytes) {
    throw new ReleaseTooLarge(`${source.name} unpacks to ${mib(declared)} (${contents.images.length} image(s), as its listing says), more than the limit of ${mib(maxBytes)}: ${RAISE_LIMIT}`);
  }
  const key = firmwareVersionKey(contents.version);
  const same = (await ctx.store.listFirmwareReleases(libraryId(lib))).find((r) => firmwareVersionKey(r.version) === key);
  if (same) throw new AdminError(`${libraryName(lib)} already has firmware ${same.version} (remove it first: polyprov firmware remove ${same.version})`);
  progress.classified?.(contents);
  const byPath = new Map(contents.images.map((i) => [i.path, i]));
  if (source.sizesDeclared) await readCounted(source, byPath, maxBytes, async (bytes) => void (await pipeline(bytes, new Writable({ write: (_c, _e, done) => done() }))));
  const images: FirmwareImage[] = [];
  await readCounted(source, byPath, maxBytes, async (bytes, image) => {
    const blob = await ctx.blobs.put(bytes);
    if (blob.size !== image.size) throw new AdminError(`${image.path}: read ${blob.size} bytes, the listing said ${image.size}; the source changed during the import`);
    images.push({ fileName: image.fileName, kind: image.kind, partNumber: image.partNumber, models: image.models, blobKey: blob.key, size: blob.size });
    progress.stored?.(image.fileName, blob.size);
  });
  if (images.length !== byPath.size) throw new AdminError(`only ${images.length} of ${byPath.size} images could be read from ${source.name}`);
  return ctx.store.addFirmwareRelease({ tenantId: libraryId(lib), version: contents.version, layout: opts.files ? 'files' : contents.layout, source: basename(source.name), images });
}

type ListedImage = ReleaseContents['images'][number];

/**
 * Reads every image of the source through a count of its bytes: an image that gives more than its
 * listed size, or a release past `maxBytes` in all, fails its stream at once (so a blob being
 * written is dropped with its temporary file) and the import with it.
 */
async function readCounted(source: ReleaseSource, byPath: ReadonlyMap<string, ListedImage>, maxBytes: number, use: (bytes: Readable, image: ListedImage) => Promise<void>): Promise<void> {
  let total = 0;
  await source.readEach(new Set(byPath.keys()), async (path, bytes) => {
    const image = byPath.get(path)!;
    let own = 0;
    // A zip's listing is its headers; a folder's is what stat said a moment ago.
    const mismatch = (how: string) =>
      new AdminError(
        source.sizesDeclared
          ? `${source.name}: ${path} unpacks to ${how} the ${image.size} bytes its listing declares (refused after ${own}): the zip is damaged or made to hide its size; rebuild it from the release Poly publishes`
          : `${path}: ${how} the ${image.size} bytes it had when listed; the source changed during the import, import it again once it is complete`,
      );
    const count = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        own += chunk.length;
        total += chunk.length;
        if (own > image.size) return done(mismatch('more than'));
        if (total > maxBytes) return done(new ReleaseTooLarge(`${source.name} unpacks to more than the limit of ${mib(maxBytes)} (refused after ${mib(total)}): ${RAISE_LIMIT}`));
        done(null, chunk);
      },
      flush(done) {
        done(own < image.size ? mismatch('fewer bytes than') : null);
      },
    });
    // Chained both ways: a refused count also stops the source's stream (and its file or inflater).
    await use(chain(bytes, count, () => undefined), image);
  });
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

/** The same version, however spelled (6.4.6 and 6.4.6.0); false for a value that is no version. */
function sameVersion(value: string, key: string): boolean {
  try {
    return firmwareVersionKey(value) === key;
  } catch {
    return false;
  }
}

/** A policy layer as people name it: `site "hq"`, `model VVX_450`, `device 0004f2a1b2c3`. */
function layerName(policy: TenantPolicyData, row: ParameterRow): string {
  const id = row.scopeId;
  const gone = `${row.scope} #${id} (since removed)`;
  switch (row.scope) {
    case 'tenant':
      return 'tenant layer';
    case 'site': {
      const site = policy.sites.find((x) => x.id === id);
      return site ? `site "${site.slug}"` : gone;
    }
    case 'group': {
      const group = policy.groups.find((x) => x.id === id);
      return group ? `group "${group.slug}"` : gone;
    }
    case 'model': {
      const model = policy.models.find((x) => x.id === id);
      return model ? `model ${model.model}` : gone;
    }
    case 'device': {
      const device = policy.devices.find((x) => x.id === id);
      return device ? `device ${device.mac}` : gone;
    }
  }
}

/** Where a version is the target: `tenant acme, site "hq"`, one line per layer. */
export async function targetsOf(ctx: AdminContext, tenants: readonly Tenant[], version: string): Promise<string[]> {
  const key = firmwareVersionKey(version);
  const out: string[] = [];
  for (const t of tenants) {
    const policy = await ctx.store.loadTenantPolicy(t.id);
    for (const row of policy.parameters) if (row.name === FIRMWARE_TARGET && sameVersion(row.value, key)) out.push(`tenant ${t.slug}, ${layerName(policy, row)}`);
  }
  return out;
}

/**
 * The rollouts that need a version: an unfinished one needs both its versions (the new one to
 * release, the old one to roll back to); a finished one still sends its devices to the version it
 * ended on (completed: the new one, rolled back: the old one) until it is removed.
 */
export async function rolloutsUsing(ctx: AdminContext, tenants: readonly Tenant[], version: string): Promise<{ tenant: Tenant; rollout: Rollout }[]> {
  const key = firmwareVersionKey(version);
  const out: { tenant: Tenant; rollout: Rollout }[] = [];
  for (const t of tenants) {
    for (const r of await ctx.store.listRollouts(t.id)) {
      const from = sameVersion(r.fromVersion, key);
      const to = sameVersion(r.toVersion, key);
      const unfinished = r.status === 'running' || r.status === 'paused';
      if ((unfinished && (from || to)) || (r.status === 'completed' && to) || (r.status === 'rolled-back' && from)) out.push({ tenant: t, rollout: r });
    }
  }
  return out;
}

function rolloutLine({ tenant, rollout: r }: { tenant: Tenant; rollout: Rollout }): string {
  const what = `rollout "${r.name}" of tenant ${tenant.slug} (${r.status}, from ${r.fromVersion} to ${r.toVersion})`;
  return r.status === 'running' || r.status === 'paused'
    ? `${what}: let it complete, or roll it back, then remove it (polyprov rollout remove ${r.name} -t ${tenant.slug})`
    : `${what}, which still sends its devices there: set the target as policy, then remove it (polyprov rollout remove ${r.name} -t ${tenant.slug})`;
}

/**
 * Removes a release that no policy targets and no rollout needs; its blobs stay
 * (content-addressed, maybe shared). A tenant's release can be used only in that tenant; a
 * global one in any tenant that lacks its own copy of the version.
 */
export async function removeRelease(ctx: AdminContext, lib: Library, version: string): Promise<void> {
  const r = await requireRelease(ctx, lib, version);
  const tenants = lib ? [lib] : await tenantsOnGlobal(ctx, r.version);
  const using = await targetsOf(ctx, tenants, r.version);
  const rollouts = (await rolloutsUsing(ctx, tenants, r.version)).map(rolloutLine);
  if (using.length > 0) {
    const also = rollouts.length > 0 ? `; it is also needed by ${rollouts.join('; ')}` : '';
    throw new AdminError(`firmware ${r.version} is still the target of: ${using.join('; ')} (polyprov firmware target unset … first)${also}`);
  }
  if (rollouts.length > 0) throw new AdminError(`firmware ${r.version} is needed by ${rollouts.join('; ')}`);
  await ctx.store.deleteFirmwareRelease(libraryId(lib), r.version);
}

/** The tenants whose phones get the global copy of a version: those without their own. */
async function tenantsOnGlobal(ctx: AdminContext, version: string): Promise<Tenant[]> {
  const out: Tenant[] = [];
  const key = firmwareVersionKey(version);
  for (const t of await ctx.store.listTenants()) {
    if (!(await ctx.store.listFirmwareReleases(t.id)).some((r) => firmwareVersionKey(r.version) === key)) out.push(t);
  }
  return out;
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
