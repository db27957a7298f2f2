// Devices of a tenant: list with filters, read (inventory), register, edit (If-Match). The ETag of
// a device covers what administrators set (registration, label, site, group), not the inventory
// the phones report: a phone polling must not make an administrator's edit fail.

import type { FastifyInstance } from 'fastify';
import { requireMac } from '../../domain/mac.js';
import { normalizeModel } from '../../domain/models.js';
import type { Device, Tenant } from '../../store/store.js';
import type { AdminContext } from '../admin-context.js';
import { audit } from '../audit-log.js';
import { addDevice, updateDevice, type DeviceSettings } from '../structure.js';
import { principalOf } from './auth-plugin.js';
import { etagOf, requireIfMatch } from './etag.js';
import { PAGE_QUERY_PROPERTIES, replyPage } from './pagination.js';
import { ApiProblem } from './problem-json.js';
import { TENANT_PARAMS } from './routes-tenants.js';
import { errorResponses, IF_MATCH_HEADERS, pageSchema } from './schemas.js';
import { tenantFor } from './tenant-access.js';
import { deviceView } from './views.js';

const DEVICE_PARAMS = {
  type: 'object',
  required: ['tenant', 'mac'],
  properties: { ...TENANT_PARAMS.properties, mac: { type: 'string', minLength: 12, maxLength: 17, description: '12 hex digits, with or without : or - separators' } },
} as const;

const EDITABLE = {
  label: { type: 'string', maxLength: 200 },
  site: { type: ['string', 'null'], maxLength: 64, description: "a site's slug, or null for none" },
  group: { type: ['string', 'null'], maxLength: 64, description: "a group's slug, or null for none" },
} as const;

type DeviceView = ReturnType<typeof deviceView>;

/** What an edit is based on: the administrator-set fields. */
function editTag(v: DeviceView): string {
  return etagOf({ mac: v.mac, registered: v.registered, label: v.label, site: v.site, group: v.group, appFilePath: v.appFilePath });
}

async function slugMap(ctx: AdminContext, t: Tenant): Promise<Map<string, string>> {
  const [sites, groups] = await Promise.all([ctx.store.listSites(t.id), ctx.store.listGroups(t.id)]);
  return new Map([...sites.map((s) => [`site:${s.id}`, s.slug] as const), ...groups.map((g) => [`group:${g.id}`, g.slug] as const)]);
}

/** The tenant's device with this MAC, or 404 problem+json. */
export async function requireDeviceIn(ctx: AdminContext, t: Tenant, mac: string): Promise<Device> {
  const d = await ctx.store.getDevice(t.id, requireMac(mac));
  if (!d) throw new ApiProblem(404, `no device ${requireMac(mac)} in tenant "${t.slug}" (see GET /api/v1/tenants/${t.slug}/devices)`);
  return d;
}

/** A MAC prefix as typed (any case, : - . separators) → lower-case hex, or 400. */
function macPrefix(text: string): string {
  const hex = text.replace(/[:.-]/g, '').toLowerCase();
  if (!/^[0-9a-f]{1,12}$/.test(hex)) throw new ApiProblem(400, `invalid mac filter "${text}": give 1 to 12 hex digits, e.g. 0004f2`);
  return hex;
}

/** online: seen within onlineHours; offline: seen before that; never: registered, never seen. */
export type DeviceStatus = 'online' | 'offline' | 'never';

interface ListQuery {
  limit: number;
  cursor?: string;
  mac?: string;
  site?: string;
  model?: string;
  firmware?: string;
  registered?: boolean;
  status?: DeviceStatus;
  onlineHours: number;
  seenAfter?: string;
  seenBefore?: string;
}

/** How long after its last request a device still counts as online (the dashboard's default window). */
export const DEFAULT_ONLINE_HOURS = 24;

/** The status and last-seen filters as one test on a device, or 400 when they cannot match anything sensible. */
function seenFilter(q: ListQuery, now: number): (d: Device) => boolean {
  const after = q.seenAfter === undefined ? undefined : Date.parse(q.seenAfter);
  const before = q.seenBefore === undefined ? undefined : Date.parse(q.seenBefore);
  if (after !== undefined && before !== undefined && after >= before) {
    throw new ApiProblem(400, `invalid last-seen filter: seenAfter (${q.seenAfter}) must be earlier than seenBefore (${q.seenBefore})`);
  }
  const onlineSince = now - q.onlineHours * 3_600_000;
  return (d) => {
    const seen = d.lastSeen === null ? undefined : Date.parse(d.lastSeen);
    if (q.status === 'never' && !(d.registered && seen === undefined)) return false;
    if (q.status === 'online' && !(seen !== undefined && seen >= onlineSince)) return false;
    if (q.status === 'offline' && !(seen !== undefined && seen < onlineSince)) return false;
    // A device never seen has no last-seen time to be after or before anything.
    if (after !== undefined && !(seen !== undefined && seen >= after)) return false;
    if (before !== undefined && !(seen !== undefined && seen < before)) return false;
    return true;
  };
}

export function registerDeviceRoutes(app: FastifyInstance, ctx: AdminContext): void {
  app.get(
    '/api/v1/tenants/:tenant/devices',
    {
      schema: {
        summary: "List a tenant's devices (registered and only seen) by MAC, with filters",
        tags: ['devices'],
        params: TENANT_PARAMS,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            ...PAGE_QUERY_PROPERTIES,
            mac: { type: 'string', minLength: 1, maxLength: 17, description: 'MAC prefix' },
            site: { type: 'string', minLength: 1, maxLength: 64, description: "a site's slug, or - for devices without a site" },
            model: { type: 'string', minLength: 1, maxLength: 64 },
            firmware: { type: 'string', minLength: 1, maxLength: 64, description: 'exact firmware version the phone reported' },
            registered: { type: 'boolean' },
            status: {
              type: 'string',
              enum: ['online', 'offline', 'never'],
              description: 'online: seen within onlineHours; offline: seen, but not within onlineHours; never: registered and never seen',
            },
            onlineHours: { type: 'integer', minimum: 1, maximum: 8760, default: DEFAULT_ONLINE_HOURS, description: 'how recent a request makes a device online (status), 1 to 8760 hours' },
            seenAfter: { type: 'string', format: 'date-time', description: 'last seen at or after this time (ISO 8601 with a time zone, e.g. 2026-11-22T08:00:00Z)' },
            seenBefore: { type: 'string', format: 'date-time', description: 'last seen before this time (ISO 8601 with a time zone); devices never seen match neither' },
          },
        },
        response: { 200: pageSchema('Device'), ...errorResponses(404) },
      },
    },
    async (request, reply) => {
      const { tenant } = request.params as { tenant: string };
      const q = request.query as ListQuery;
      const t = await tenantFor(ctx, principalOf(request), tenant, 'read');
      const slugs = await slugMap(ctx, t);
      const prefix = q.mac === undefined ? undefined : macPrefix(q.mac);
      let siteId: number | null | undefined;
      if (q.site !== undefined && q.site !== '-') {
        const site = await ctx.store.getSite(t.id, q.site);
        if (!site) throw new ApiProblem(400, `invalid site filter "${q.site}": tenant "${t.slug}" has no such site (see GET /api/v1/tenants/${t.slug}/sites)`);
        siteId = site.id;
      } else if (q.site === '-') siteId = null;
      const model = q.model === undefined ? undefined : normalizeModel(q.model);
      const seen = seenFilter(q, Date.now());
      const devices = (await ctx.store.listDevices(t.id)).filter(
        (d) =>
          (prefix === undefined || d.mac.startsWith(prefix)) &&
          (siteId === undefined || d.siteId === siteId) &&
          (model === undefined || d.model === model) &&
          (q.firmware === undefined || d.firmware === q.firmware) &&
          (q.registered === undefined || d.registered === q.registered) &&
          seen(d),
      );
      return replyPage(request, reply, devices, (d) => d.mac, (d) => deviceView(d, slugs));
    },
  );

  app.get(
    '/api/v1/tenants/:tenant/devices/:mac',
    { schema: { summary: 'One device with its inventory', tags: ['devices'], params: DEVICE_PARAMS, response: { 200: { $ref: 'Device#' }, ...errorResponses(404) } } },
    async (request, reply) => {
      const { tenant, mac } = request.params as { tenant: string; mac: string };
      const t = await tenantFor(ctx, principalOf(request), tenant, 'read');
      const view = deviceView(await requireDeviceIn(ctx, t, mac), await slugMap(ctx, t));
      reply.header('etag', editTag(view));
      return view;
    },
  );

  app.post(
    '/api/v1/tenants/:tenant/devices',
    {
      schema: {
        summary: 'Register a device (or adopt one only seen on the wire)',
        tags: ['devices'],
        params: TENANT_PARAMS,
        body: { type: 'object', required: ['mac'], additionalProperties: false, properties: { mac: DEVICE_PARAMS.properties.mac, ...EDITABLE } },
        response: { 201: { $ref: 'Device#' }, ...errorResponses(404, 409) },
      },
    },
    async (request, reply) => {
      const { tenant } = request.params as { tenant: string };
      const body = request.body as DeviceSettings & { mac: string };
      const principal = principalOf(request);
      const t = await tenantFor(ctx, principal, tenant, 'write');
      const mac = requireMac(body.mac);
      const existing = await ctx.store.getDevice(t.id, mac);
      // Registering a registered device again is the store's ConflictError (409).
      const { mac: _mac, ...settings } = body;
      const device = await addDevice(ctx, t, mac, settings);
      const view = deviceView(device, await slugMap(ctx, t));
      await audit(ctx, principal, { action: 'device.add', tenantId: t.id, target: `device ${mac}`, ...(existing ? { before: { registered: false } } : {}), after: editable(view), ip: request.ip });
      reply.code(201).header('location', `/api/v1/tenants/${t.slug}/devices/${mac}`).header('etag', editTag(view));
      return view;
    },
  );

  app.patch(
    '/api/v1/tenants/:tenant/devices/:mac',
    {
      schema: {
        summary: "Change a device's label, site or group (If-Match required)",
        tags: ['devices'],
        params: DEVICE_PARAMS,
        headers: IF_MATCH_HEADERS,
        body: { type: 'object', additionalProperties: false, minProperties: 1, properties: EDITABLE },
        response: { 200: { $ref: 'Device#' }, ...errorResponses(404, 412, 428) },
      },
    },
    async (request, reply) => {
      const { tenant, mac } = request.params as { tenant: string; mac: string };
      const principal = principalOf(request);
      const t = await tenantFor(ctx, principal, tenant, 'write');
      const current = await requireDeviceIn(ctx, t, mac);
      const before = deviceView(current, await slugMap(ctx, t));
      requireIfMatch(request, editTag(before));
      const updated = await updateDevice(ctx, t, current.mac, request.body as DeviceSettings);
      const after = deviceView(updated, await slugMap(ctx, t));
      await audit(ctx, principal, { action: 'device.set', tenantId: t.id, target: `device ${current.mac}`, before: editable(before), after: editable(after), ip: request.ip });
      reply.header('etag', editTag(after));
      return after;
    },
  );
}

function editable(v: DeviceView) {
  return { registered: v.registered, label: v.label, site: v.site, group: v.group };
}
