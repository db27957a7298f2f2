// Tenants, as the principal may see them: a tenant-scoped administrator lists only its own.

import type { FastifyInstance } from 'fastify';
import type { AdminContext } from '../admin-context.js';
import { principalOf } from './auth-plugin.js';
import { etagOf } from './etag.js';
import { nextLink, PAGE_QUERY_PROPERTIES, pageOf } from './pagination.js';
import { errorResponses, pageSchema } from './schemas.js';
import { readableTenants, tenantFor } from './tenant-access.js';
import { tenantView } from './views.js';

export const TENANT_PARAMS = {
  type: 'object',
  required: ['tenant'],
  properties: { tenant: { type: 'string', minLength: 1, maxLength: 64, description: "the tenant's slug" } },
} as const;

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
      const tenants = readableTenants(principalOf(request), await ctx.store.listTenants()).sort((a, b) => (a.slug < b.slug ? -1 : a.slug > b.slug ? 1 : 0));
      const page = pageOf(tenants, (t) => t.slug, q.limit, q.cursor);
      if (page.next !== null) reply.header('link', nextLink(request.url, page.next));
      return { items: page.items.map(tenantView), next: page.next };
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
}
