// A device's own overrides (the -phone.cfg and -web.cfg files it uploads): what they say and every
// stored version, clearing them (the phone drops its local changes when it next reads the file),
// and serving an earlier version again.

import type { FastifyInstance } from 'fastify';
import type { Tenant } from '../../store/store.js';
import type { AdminContext } from '../admin-context.js';
import { audit } from '../audit-log.js';
import { clearOverrides, deviceOverrides, listOverrideVersions, restoreOverride, type DeviceOverrides, type OverrideFileState } from '../overrides.js';
import { principalOf } from './auth-plugin.js';
import { requireDeviceIn } from './routes-devices.js';
import { DEVICE_PATH_PARAMS, errorResponses } from './schemas.js';
import { tenantFor } from './tenant-access.js';

const FILE_STATE_SCHEMA = {
  type: ['object', 'null'],
  description: 'the newest version of the file, or null when the phone never uploaded one',
  required: ['kind', 'path', 'version', 'size', 'createdAt', 'problem', 'parameters', 'empty'],
  properties: {
    kind: { type: 'string', enum: ['phone', 'web'] },
    path: { type: 'string' },
    version: { type: 'integer' },
    size: { type: 'integer' },
    createdAt: { type: 'string' },
    problem: { type: ['string', 'null'], description: 'why the content is malformed (it is served all the same)' },
    parameters: { type: 'array', items: { type: 'object', required: ['name', 'value'], properties: { name: { type: 'string' }, value: { type: 'string' } } } },
    firmware: { type: 'object', additionalProperties: true, description: 'the firmware that wrote it, when its header says' },
    empty: { type: 'boolean', description: 'the empty file a clear records' },
  },
} as const;

const VERSION_SCHEMA = {
  type: 'object',
  required: ['kind', 'path', 'version', 'size', 'createdAt', 'problem', 'served', 'empty'],
  properties: {
    kind: { type: 'string', enum: ['phone', 'web'] },
    path: { type: 'string' },
    version: { type: 'integer' },
    size: { type: 'integer' },
    createdAt: { type: 'string' },
    problem: { type: ['string', 'null'] },
    served: { type: 'boolean', description: 'the newest version: what the phone is served' },
    empty: { type: 'boolean' },
  },
} as const;

const OVERRIDES_SCHEMA = {
  type: 'object',
  required: ['mac', 'phone', 'web', 'versions'],
  properties: { mac: { type: 'string' }, phone: FILE_STATE_SCHEMA, web: FILE_STATE_SCHEMA, versions: { type: 'array', items: VERSION_SCHEMA } },
} as const;

/** What the audit records of a device's overrides: each file's version and parameters. */
function audited(o: Pick<DeviceOverrides, 'phone' | 'web'>) {
  const file = (s: OverrideFileState | null) => (s ? { version: s.version, empty: s.empty, parameters: Object.fromEntries(s.parameters.map((p) => [p.name, p.value])) } : null);
  return { phone: file(o.phone), web: file(o.web) };
}

async function overridesView(ctx: AdminContext, t: Tenant, mac: string) {
  const [o, versions] = await Promise.all([deviceOverrides(ctx, t, mac), listOverrideVersions(ctx, t, mac)]);
  return { mac: o.mac, phone: o.phone, web: o.web, versions };
}

export function registerOverrideRoutes(app: FastifyInstance, ctx: AdminContext): void {
  app.get(
    '/api/v1/tenants/:tenant/devices/:mac/overrides',
    { schema: { summary: "A device's own overrides and their stored versions", tags: ['overrides'], params: DEVICE_PATH_PARAMS, response: { 200: OVERRIDES_SCHEMA, ...errorResponses(404) } } },
    async (request) => {
      const { tenant, mac } = request.params as { tenant: string; mac: string };
      const t = await tenantFor(ctx, principalOf(request), tenant, 'read');
      const d = await requireDeviceIn(ctx, t, mac);
      return overridesView(ctx, t, d.mac);
    },
  );

  app.post(
    '/api/v1/tenants/:tenant/devices/:mac/overrides/clear',
    {
      schema: {
        summary: "Clear a device's overrides: its files become empty, earlier versions stay (restore one later)",
        tags: ['overrides'],
        params: DEVICE_PATH_PARAMS,
        body: { type: 'object', additionalProperties: false, properties: { which: { type: 'string', enum: ['phone', 'web', 'both'], default: 'both' } } },
        response: { 200: OVERRIDES_SCHEMA, ...errorResponses(404) },
      },
    },
    async (request) => {
      const { tenant, mac } = request.params as { tenant: string; mac: string };
      const { which } = (request.body ?? { which: 'both' }) as { which: 'phone' | 'web' | 'both' };
      const principal = principalOf(request);
      const t = await tenantFor(ctx, principal, tenant, 'write');
      const d = await requireDeviceIn(ctx, t, mac);
      const before = await deviceOverrides(ctx, t, d.mac);
      const outcomes = await clearOverrides(ctx, t, d.mac, which);
      const view = await overridesView(ctx, t, d.mac);
      if (outcomes.some((o) => o.outcome === 'cleared')) {
        await audit(ctx, principal, { action: 'override.clear', tenantId: t.id, target: `overrides of device ${d.mac}`, before: audited(before), after: audited(view), ip: request.ip });
      }
      return view;
    },
  );

  app.post(
    '/api/v1/tenants/:tenant/devices/:mac/overrides/restore',
    {
      schema: {
        summary: 'Serve an earlier version of an override file again (recorded as its newest version)',
        tags: ['overrides'],
        params: DEVICE_PATH_PARAMS,
        body: {
          type: 'object',
          required: ['version'],
          additionalProperties: false,
          properties: { version: { type: 'integer', minimum: 1 }, kind: { type: 'string', enum: ['phone', 'web'], default: 'phone', description: 'phone: <mac>-phone.cfg; web: <mac>-web.cfg' } },
        },
        response: { 200: OVERRIDES_SCHEMA, ...errorResponses(404) },
      },
    },
    async (request) => {
      const { tenant, mac } = request.params as { tenant: string; mac: string };
      const body = request.body as { version: number; kind: 'phone' | 'web' };
      const principal = principalOf(request);
      const t = await tenantFor(ctx, principal, tenant, 'write');
      const d = await requireDeviceIn(ctx, t, mac);
      const before = await deviceOverrides(ctx, t, d.mac);
      await restoreOverride(ctx, t, d.mac, body.kind, body.version);
      const view = await overridesView(ctx, t, d.mac);
      await audit(ctx, principal, { action: 'override.restore', tenantId: t.id, target: `${body.kind} overrides of device ${d.mac} (version ${body.version})`, before: audited(before), after: audited(view), ip: request.ip });
      return view;
    },
  );
}
