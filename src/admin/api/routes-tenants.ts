// Tenants, as the principal may see them: a tenant-scoped administrator lists only its own. A
// super-admin creates and removes tenants; a tenant's own admin may change its settings, except
// those that decide which tenant a phone's request belongs to (path prefix, host names, TFTP
// subnets, factory login): changing those could take requests away from another tenant, so they
// stay with a super-admin. Every change is audited; passwords never are (masked).

import type { FastifyInstance, FastifyRequest } from 'fastify';
import { can } from '../../domain/admin-roles.js';
import type { AdminContext } from '../admin-context.js';
import { audit } from '../audit-log.js';
import { addTenant, removeTenant, updateTenant, type TenantSettings } from '../tenants.js';
import { principalOf } from './auth-plugin.js';
import { etagOf, requireIfMatch } from './etag.js';
import { PAGE_QUERY_PROPERTIES, replyPage } from './pagination.js';
import { ApiProblem } from './problem-json.js';
import { errorResponses, IF_MATCH_HEADERS, pageSchema } from './schemas.js';
import { readableTenants, tenantFor } from './tenant-access.js';
import { tenantView } from './views.js';

export const TENANT_PARAMS = {
  type: 'object',
  required: ['tenant'],
  properties: { tenant: { type: 'string', minLength: 1, maxLength: 64, description: "the tenant's slug" } },
} as const;

const SIZE = { anyOf: [{ type: 'integer', minimum: 0 }, { type: 'string', maxLength: 32 }], description: 'bytes, or a size such as 10MiB, 512k' } as const;
const COUNT = { anyOf: [{ type: 'integer', minimum: 0 }, { type: 'string', maxLength: 16 }] } as const;
const NAMES = (max: number, description: string) => ({ type: 'array', maxItems: max, items: { type: 'string', minLength: 1, maxLength: 255 }, description }) as const;

/** The settings a console or integrator edits; the services validate each one and say what is wrong. */
const SETTINGS_FIELDS = {
  name: { type: 'string', minLength: 1, maxLength: 200 },
  username: { type: 'string', minLength: 1, maxLength: 64, description: 'the provisioning user name phones send (changing it needs password too)' },
  password: { type: 'string', minLength: 1, maxLength: 1024, description: 'the provisioning password phones send' },
  pathPrefix: { type: ['string', 'null'], maxLength: 64, description: 'first path segment that selects the tenant; null or "" clears (super-admin)' },
  hostnames: NAMES(100, 'host names that select the tenant (super-admin)'),
  unknownDevices: { type: 'string', enum: ['serve', 'refuse'], description: 'what unregistered MACs get' },
  appFilePath: { type: 'string', minLength: 1, maxLength: 255 },
  extraConfigFiles: NAMES(100, 'files of the tree read after the generated configuration'),
  logMaxBytes: SIZE,
  logSegments: COUNT,
  logMaxAgeDays: COUNT,
  overridePolicy: { type: 'string', enum: ['allow-all', 'allow-list', 'deny-list'] },
  overridePatterns: NAMES(500, 'parameter names with * segments, e.g. reg.*.label'),
  stripDisallowedOverrides: { type: 'boolean' },
  tftpSubnets: NAMES(1000, 'client subnets (CIDR) that choose the tenant over TFTP (super-admin)'),
  tftpSecrets: { type: 'boolean' },
  factoryLogin: { type: 'boolean', description: "accept the phones' factory login PlcmSpIp (super-admin)" },
  rehomeDevices: { type: 'boolean' },
} as const;

/** Settings that choose which tenant a request belongs to: only a super-admin changes them. */
const ROUTING_SETTINGS = ['pathPrefix', 'hostnames', 'tftpSubnets', 'factoryLogin'] as const;

const TENANT_WITH_PASSWORD = {
  type: 'object',
  required: ['tenant'],
  properties: { tenant: { $ref: 'Tenant#' }, password: { type: 'string', description: 'the generated provisioning password: shown this once' } },
} as const;

/** The view an audit entry records; a changed password shows as changed, never its value (maskSecrets). */
function audited(view: ReturnType<typeof tenantView>, settings?: TenantSettings) {
  return settings?.password !== undefined ? { ...view, password: settings.password } : view;
}

function requireManageTenants(request: FastifyRequest, doing: string): void {
  const principal = principalOf(request);
  if (!can(principal, 'manage-tenants', null)) throw new ApiProblem(403, `${principal.username} (${principal.role}) may not ${doing}: ask a super-admin`);
}

export function registerTenantRoutes(app: FastifyInstance, ctx: AdminContext): void {
  app.get(
    '/api/v1/tenants',
    {
      schema: {
        summary: 'List the tenants the caller may read',
        tags: ['tenants'],
        querystring: { type: 'object', additionalProperties: false, properties: { ...PAGE_QUERY_PROPERTIES } },
        response: { 200: pageSchema('Tenant'), ...errorResponses() },
      },
    },
    async (request, reply) => {
      const q = request.query as { limit: number; cursor?: string };
      const tenants = readableTenants(principalOf(request), await ctx.store.listTenants());
      return replyPage(request, reply, tenants, (t) => t.slug, tenantView);
    },
  );

  app.post(
    '/api/v1/tenants',
    {
      schema: {
        summary: 'Create a tenant (super-admin); without a password one is generated and answered once',
        tags: ['tenants'],
        body: {
          type: 'object',
          required: ['slug'],
          additionalProperties: false,
          properties: { slug: { type: 'string', minLength: 1, maxLength: 64, description: 'lower-case letters, digits and -' }, ...SETTINGS_FIELDS },
        },
        response: { 201: TENANT_WITH_PASSWORD, ...errorResponses(409) },
      },
    },
    async (request, reply) => {
      requireManageTenants(request, 'create tenants');
      const { slug, ...settings } = request.body as TenantSettings & { slug: string };
      const { tenant, password } = await addTenant(ctx, slug, settings);
      const view = tenantView(tenant);
      await audit(ctx, principalOf(request), { action: 'tenant.add', tenantId: tenant.id, target: `tenant ${tenant.slug}`, after: audited(view, { password }), ip: request.ip });
      reply.code(201).header('location', `/api/v1/tenants/${tenant.slug}`).header('etag', etagOf(view));
      return settings.password === undefined ? { tenant: view, password } : { tenant: view };
    },
  );

  app.get(
    '/api/v1/tenants/:tenant',
    {
      schema: {
        summary: 'One tenant',
        tags: ['tenants'],
        params: TENANT_PARAMS,
        response: { 200: { $ref: 'Tenant#' }, ...errorResponses(404) },
      },
    },
    async (request, reply) => {
      const { tenant: slug } = request.params as { tenant: string };
      const view = tenantView(await tenantFor(ctx, principalOf(request), slug, 'read'));
      reply.header('etag', etagOf(view));
      return view;
    },
  );

  app.patch(
    '/api/v1/tenants/:tenant',
    {
      schema: {
        summary: "Change a tenant's settings (If-Match required); path prefix, host names, TFTP subnets and factory login need a super-admin",
        tags: ['tenants'],
        params: TENANT_PARAMS,
        headers: IF_MATCH_HEADERS,
        body: { type: 'object', additionalProperties: false, minProperties: 1, properties: SETTINGS_FIELDS },
        response: { 200: { $ref: 'Tenant#' }, ...errorResponses(404, 409, 412, 428) },
      },
    },
    async (request, reply) => {
      const { tenant: slug } = request.params as { tenant: string };
      const settings = request.body as TenantSettings;
      const principal = principalOf(request);
      const t = await tenantFor(ctx, principal, slug, 'write');
      const routing = ROUTING_SETTINGS.filter((k) => settings[k] !== undefined);
      if (routing.length && !can(principal, 'manage-tenants', null)) {
        throw new ApiProblem(403, `${principal.username} (${principal.role}) may not change ${routing.join(', ')}: they decide which tenant a phone's request belongs to, so only a super-admin may`);
      }
      const before = tenantView(t);
      requireIfMatch(request, etagOf(before));
      const after = tenantView(await updateTenant(ctx, t.slug, settings));
      await audit(ctx, principal, { action: 'tenant.set', tenantId: t.id, target: `tenant ${t.slug}`, before, after: audited(after, settings), ip: request.ip });
      reply.header('etag', etagOf(after));
      return after;
    },
  );

  app.delete(
    '/api/v1/tenants/:tenant',
    {
      schema: {
        summary: 'Remove a tenant and everything in it: sites, devices, parameters, files, its administrators (super-admin, If-Match required)',
        tags: ['tenants'],
        params: TENANT_PARAMS,
        headers: IF_MATCH_HEADERS,
        response: { 204: { description: 'Removed.', type: 'null' }, ...errorResponses(404, 412, 428) },
      },
    },
    async (request, reply) => {
      const { tenant: slug } = request.params as { tenant: string };
      const principal = principalOf(request);
      const t = await tenantFor(ctx, principal, slug, 'manage-tenants');
      const before = tenantView(t);
      requireIfMatch(request, etagOf(before));
      await removeTenant(ctx, t.slug);
      await audit(ctx, principal, { action: 'tenant.remove', tenantId: t.id, target: `tenant ${t.slug}`, before, ip: request.ip });
      return reply.code(204).send();
    },
  );
}
