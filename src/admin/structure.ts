import { DomainError } from '../domain/domain-error.js';
import { requireMac } from '../domain/mac.js';
import { parseLensSubnets } from '../domain/site-subnets.js';
import { normalizeModel } from '../domain/models.js';
import type { Device, DeviceGroup, DeviceInput, ModelPolicy, Site, Tenant } from '../store/store.js';
import type { AdminContext } from './admin-context.js';
import { AdminError } from './admin-error.js';
import { tftpSubnetList } from './tenants.js';
import { validateFileReference, validateSlug } from './validate-names.js';

// Sites, device groups, model policies and devices of one tenant: the layers parameters hang on.

export async function addSite(ctx: AdminContext, t: Tenant, slug: string, name?: string): Promise<Site> {
  return ctx.store.createSite(t.id, validateSlug('site', slug), name ?? slug);
}

export interface SiteSettings {
  name?: string;
  tftpSubnets?: string[];
  description?: string;
  location?: string;
  /** Poly Lens JSON (`{"public-subnet-list":[…]}`): devices whose address falls in them join the site. */
  subnetsJson?: string;
}

/** Changes a site's name, TFTP allow-list (`[]` lifts it), description, location or subnets. */
export async function updateSite(ctx: AdminContext, t: Tenant, slug: string, s: SiteSettings): Promise<Site> {
  const site = await requireSite(ctx, t, slug);
  let subnets;
  try {
    subnets = s.subnetsJson !== undefined ? parseLensSubnets(s.subnetsJson) : undefined;
  } catch (err) {
    if (err instanceof DomainError) throw new AdminError(`site "${slug}": ${err.message}`);
    throw err;
  }
  return ctx.store.updateSite(t.id, site.id, {
    ...(s.name !== undefined ? { name: s.name } : {}),
    ...(s.tftpSubnets !== undefined ? { tftpSubnets: tftpSubnetList(s.tftpSubnets) } : {}),
    ...(s.description !== undefined ? { description: s.description } : {}),
    ...(s.location !== undefined ? { location: s.location } : {}),
    ...(subnets !== undefined ? { subnets } : {}),
  });
}

export async function requireSite(ctx: AdminContext, t: Tenant, slug: string): Promise<Site> {
  const s = await ctx.store.getSite(t.id, slug);
  if (!s) throw new AdminError(`no site "${slug}" in tenant "${t.slug}" (see: polyprov site list)`);
  return s;
}

export async function addGroup(ctx: AdminContext, t: Tenant, slug: string, name?: string): Promise<DeviceGroup> {
  return ctx.store.createGroup(t.id, validateSlug('group', slug), name ?? slug);
}

/** What updateGroup changes: a new slug (a rename) and/or display name; undefined keeps. */
export interface GroupSettings {
  slug?: string;
  name?: string;
}

/** Renames a group and/or changes its display name; its devices and parameters follow (ConflictError for a slug in use). */
export async function updateGroup(ctx: AdminContext, t: Tenant, slug: string, s: GroupSettings): Promise<DeviceGroup> {
  const g = await requireGroup(ctx, t, slug);
  return ctx.store.updateGroup(t.id, g.id, {
    ...(s.slug !== undefined ? { slug: validateSlug('group', s.slug) } : {}),
    ...(s.name !== undefined ? { name: s.name } : {}),
  });
}

export async function requireGroup(ctx: AdminContext, t: Tenant, slug: string): Promise<DeviceGroup> {
  const g = await ctx.store.getGroup(t.id, slug);
  if (!g) throw new AdminError(`no group "${slug}" in tenant "${t.slug}" (see: polyprov group list)`);
  return g;
}

export async function setModelPolicy(ctx: AdminContext, t: Tenant, model: string, appFilePath?: string | null): Promise<ModelPolicy> {
  const m = normalizeModel(model);
  const patch = appFilePath === undefined ? {} : { appFilePath: appFilePath ? validateFileReference('APP_FILE_PATH', appFilePath) : null };
  return ctx.store.upsertModelPolicy(t.id, m, patch);
}

export async function requireModelPolicy(ctx: AdminContext, t: Tenant, model: string): Promise<ModelPolicy> {
  const m = await ctx.store.getModelPolicy(t.id, normalizeModel(model));
  if (!m) throw new AdminError(`no policy for model "${model}" in tenant "${t.slug}" (see: polyprov model list)`);
  return m;
}

export interface DeviceSettings {
  label?: string;
  site?: string | null;
  group?: string | null;
  appFilePath?: string | null;
}

async function deviceInput(ctx: AdminContext, t: Tenant, s: DeviceSettings): Promise<DeviceInput> {
  const input: DeviceInput = {};
  if (s.label !== undefined) input.label = s.label;
  if (s.site !== undefined) input.siteId = s.site ? (await requireSite(ctx, t, s.site)).id : null;
  if (s.group !== undefined) input.groupId = s.group ? (await requireGroup(ctx, t, s.group)).id : null;
  if (s.appFilePath !== undefined) input.appFilePath = s.appFilePath ? validateFileReference('APP_FILE_PATH', s.appFilePath) : null;
  return input;
}

/** Registers a device, or adopts one the server has only seen on the wire. */
export async function addDevice(ctx: AdminContext, t: Tenant, mac: string, s: DeviceSettings): Promise<Device> {
  return ctx.store.registerDevice(t.id, requireMac(mac), await deviceInput(ctx, t, s));
}

export async function updateDevice(ctx: AdminContext, t: Tenant, mac: string, s: DeviceSettings): Promise<Device> {
  const d = await requireDevice(ctx, t, mac);
  return ctx.store.updateDevice(t.id, d.id, await deviceInput(ctx, t, s));
}

export async function requireDevice(ctx: AdminContext, t: Tenant, mac: string): Promise<Device> {
  const m = requireMac(mac);
  const d = await ctx.store.getDevice(t.id, m);
  if (!d) throw new AdminError(`no device ${m} in tenant "${t.slug}" (see: polyprov device list)`);
  return d;
}
