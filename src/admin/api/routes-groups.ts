// Device groups of a tenant: list, create, read, rename or change the name (If-Match), remove
// (If-Match). Every change is audited.

import type { FastifyInstance } from 'fastify';
import type { DeviceGroup, Tenant } from '../../store/store.js';
import type { AdminContext } from '../admin-context.js';
import { audit } from '../audit-log.js';
import { addGroup, updateGroup } from '../structure.js';
import { principalOf } from './auth-plugin.js';
import { etagOf, requireIfMatch } from './etag.js';
import { PAGE_QUERY_PROPERTIES, replyPage } from './pagination.js';
import { ApiProblem } from './problem-json.js';
import { TENANT_PARAMS } from './routes-tenants.js';
import { errorResponses, IF_MATCH_HEADERS, pageSchema } from './schemas.js';
import { tenantFor } from './tenant-access.js';
import { groupView } from './views.js';

const GROUP_PARAMS = {
  type: 'object',
  required: ['tenant', 'group'],
  properties: { ...TENANT_PARAMS.properties, group: { type: 'string', minLength: 1, maxLength: 64, description: "the group's slug" } },
} as const;

async function requireGroupIn(ctx: AdminContext, t: Tenant, slug: string): Promise<DeviceGroup> {
  const group = await ctx.store.getGroup(t.id, slug);
  if (!group) throw new ApiProblem(404, `no group "${slug}" in tenant "${t.slug}" (see GET /api/v1/tenants/${t.slug}/groups)`);
  return group;
}

/** Routes of /api/v1/tenants/{tenant}/groups. */
export function registerGroupRoutes(app: FastifyInstance, ctx: AdminContext): void {
  app.get(
    '/api/v1/tenants/:tenant/groups',
    {
      schema: {
        summary: "List a tenant's device groups",
        tags: ['groups'],
        params: TENANT_PARAMS,
        querystring: { type: 'object', additionalProperties: false, properties: { ...PAGE_QUERY_PROPERTIES } },
        response: { 200: pageSchema('Group'), ...errorResponses(404) },
      },
    },
    async (request, reply) => {
      const { tenant } = request.params as { tenant: string };
      const q = request.query as { limit: number; cursor?: string };
      const t = await tenantFor(ctx, principalOf(request), tenant, 'read');
      const groups = (await ctx.store.listGroups(t.id));
      return replyPage(request, reply, groups, (g) => g.slug, groupView);
    },
  );

  app.post(
    '/api/v1/tenants/:tenant/groups',
    {
      schema: {
        summary: 'Create a device group',
        tags: ['groups'],
        params: TENANT_PARAMS,
        body: {
          type: 'object',
          required: ['slug'],
          additionalProperties: false,
          properties: {
            slug: { type: 'string', minLength: 1, maxLength: 64, description: 'lower-case letters, digits and -' },
            name: { type: 'string', minLength: 1, maxLength: 200 },
          },
        },
        response: { 201: { $ref: 'Group#' }, ...errorResponses(404, 409) },
      },
    },
    async (request, reply) => {
      const { tenant } = request.params as { tenant: string };
      const body = request.body as { slug: string; name?: string };
      const principal = principalOf(request);
      const t = await tenantFor(ctx, principal, tenant, 'write');
      const view = groupView(await addGroup(ctx, t, body.slug, body.name));
      await audit(ctx, principal, { action: 'group.add', tenantId: t.id, target: `group ${view.slug}`, after: view, ip: request.ip });
      reply.code(201).header('location', `/api/v1/tenants/${t.slug}/groups/${view.slug}`).header('etag', etagOf(view));
      return view;
    },
  );

  app.get(
    '/api/v1/tenants/:tenant/groups/:group',
    { schema: { summary: 'One device group', tags: ['groups'], params: GROUP_PARAMS, response: { 200: { $ref: 'Group#' }, ...errorResponses(404) } } },
    async (request, reply) => {
      const { tenant, group } = request.params as { tenant: string; group: string };
      const t = await tenantFor(ctx, principalOf(request), tenant, 'read');
      const view = groupView(await requireGroupIn(ctx, t, group));
      reply.header('etag', etagOf(view));
      return view;
    },
  );

  app.patch(
    '/api/v1/tenants/:tenant/groups/:group',
    {
      schema: {
        summary: 'Rename a device group or change its display name (If-Match required); its devices and parameters follow',
        tags: ['groups'],
        params: GROUP_PARAMS,
        headers: IF_MATCH_HEADERS,
        body: {
          type: 'object',
          additionalProperties: false,
          minProperties: 1,
          properties: {
            slug: { type: 'string', minLength: 1, maxLength: 64, description: 'the new slug: lower-case letters, digits and -' },
            name: { type: 'string', minLength: 1, maxLength: 200 },
          },
        },
        response: { 200: { $ref: 'Group#' }, ...errorResponses(404, 409, 412, 428) },
      },
    },
    async (request, reply) => {
      const { tenant, group } = request.params as { tenant: string; group: string };
      const principal = principalOf(request);
      const t = await tenantFor(ctx, principal, tenant, 'write');
      const before = groupView(await requireGroupIn(ctx, t, group));
      requireIfMatch(request, etagOf(before));
      const after = groupView(await updateGroup(ctx, t, group, request.body as { slug?: string; name?: string }));
      await audit(ctx, principal, { action: 'group.set', tenantId: t.id, target: `group ${group}`, before, after, ip: request.ip });
      // A rename moves the resource: say where it lives now.
      if (after.slug !== before.slug) reply.header('content-location', `/api/v1/tenants/${t.slug}/groups/${after.slug}`);
      reply.header('etag', etagOf(after));
      return after;
    },
  );

  app.delete(
    '/api/v1/tenants/:tenant/groups/:group',
    {
      schema: {
        summary: 'Remove a device group (If-Match required); its devices fall back to no group',
        tags: ['groups'],
        params: GROUP_PARAMS,
        headers: IF_MATCH_HEADERS,
        response: { 204: { description: 'Removed.', type: 'null' }, ...errorResponses(404, 412, 428) },
      },
    },
    async (request, reply) => {
      const { tenant, group } = request.params as { tenant: string; group: string };
      const principal = principalOf(request);
      const t = await tenantFor(ctx, principal, tenant, 'write');
      const current = await requireGroupIn(ctx, t, group);
      const before = groupView(current);
      requireIfMatch(request, etagOf(before));
      await ctx.store.deleteGroup(t.id, current.id);
      await audit(ctx, principal, { action: 'group.remove', tenantId: t.id, target: `group ${group}`, before, ip: request.ip });
      return reply.code(204).send();
    },
  );
}
