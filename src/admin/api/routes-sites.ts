// Sites of a tenant: list, create, read, edit (If-Match), remove (If-Match). Every change is audited.

import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Site, Tenant } from '../../store/store.js';
import type { AdminContext } from '../admin-context.js';
import { audit } from '../audit-log.js';
import { updateSite } from '../structure.js';
import { tftpSubnetList } from '../tenants.js';
import { validateSlug } from '../validate-names.js';
import { principalOf } from './auth-plugin.js';
import { etagOf, requireIfMatch } from './etag.js';
import { PAGE_QUERY_PROPERTIES, replyPage } from './pagination.js';
import { ApiProblem } from './problem-json.js';
import { errorResponses, IF_MATCH_HEADERS, pageSchema } from './schemas.js';
import { tenantFor } from './tenant-access.js';
import { TENANT_PARAMS } from './routes-tenants.js';
import { siteView } from './views.js';

const SITE_PARAMS = {
  type: 'object',
  required: ['tenant', 'site'],
  properties: { ...TENANT_PARAMS.properties, site: { type: 'string', minLength: 1, maxLength: 64, description: "the site's slug" } },
} as const;

const SITE_FIELDS = {
  name: { type: 'string', minLength: 1, maxLength: 200 },
  description: { type: 'string', maxLength: 2000 },
  location: { type: 'string', maxLength: 500 },
  tftpSubnets: { type: 'array', maxItems: 1000, items: { type: 'string', maxLength: 64 }, description: 'CIDR subnets; [] lifts the restriction' },
} as const;

type SiteBody = { name?: string; description?: string; location?: string; tftpSubnets?: string[] };

async function requireSiteIn(ctx: AdminContext, t: Tenant, slug: string): Promise<Site> {
  const site = await ctx.store.getSite(t.id, slug);
  if (!site) throw new ApiProblem(404, `no site "${slug}" in tenant "${t.slug}" (see GET /api/v1/tenants/${t.slug}/sites)`);
  return site;
}

function changeOptions(request: FastifyRequest) {
  return { ip: request.ip };
}

export function registerSiteRoutes(app: FastifyInstance, ctx: AdminContext): void {
  app.get(
    '/api/v1/tenants/:tenant/sites',
    {
      schema: {
        summary: "List a tenant's sites",
        tags: ['sites'],
        params: TENANT_PARAMS,
        querystring: { type: 'object', additionalProperties: false, properties: { ...PAGE_QUERY_PROPERTIES } },
        response: { 200: pageSchema('Site'), ...errorResponses(404) },
      },
    },
    async (request, reply) => {
      const { tenant } = request.params as { tenant: string };
      const q = request.query as { limit: number; cursor?: string };
      const t = await tenantFor(ctx, principalOf(request), tenant, 'read');
      const sites = (await ctx.store.listSites(t.id));
      return replyPage(request, reply, sites, (s) => s.slug, siteView);
    },
  );

  app.post(
    '/api/v1/tenants/:tenant/sites',
    {
      schema: {
        summary: 'Create a site',
        tags: ['sites'],
        params: TENANT_PARAMS,
        body: {
          type: 'object',
          required: ['slug'],
          additionalProperties: false,
          properties: { slug: { type: 'string', minLength: 1, maxLength: 64, description: 'lower-case letters, digits and -' }, ...SITE_FIELDS },
        },
        response: { 201: { $ref: 'Site#' }, ...errorResponses(404, 409) },
      },
    },
    async (request, reply) => {
      const { tenant } = request.params as { tenant: string };
      const body = request.body as SiteBody & { slug: string };
      const principal = principalOf(request);
      const t = await tenantFor(ctx, principal, tenant, 'write');
      const site = await ctx.store.createSite(t.id, validateSlug('site', body.slug), body.name ?? body.slug, {
        ...(body.tftpSubnets !== undefined ? { tftpSubnets: tftpSubnetList(body.tftpSubnets) } : {}),
        ...(body.description !== undefined ? { description: body.description } : {}),
        ...(body.location !== undefined ? { location: body.location } : {}),
      });
      const view = siteView(site);
      await audit(ctx, principal, { action: 'site.add', tenantId: t.id, target: `site ${site.slug}`, after: view, ...changeOptions(request) });
      reply.code(201).header('location', `/api/v1/tenants/${t.slug}/sites/${site.slug}`).header('etag', etagOf(view));
      return view;
    },
  );

  app.get(
    '/api/v1/tenants/:tenant/sites/:site',
    {
      schema: { summary: 'One site', tags: ['sites'], params: SITE_PARAMS, response: { 200: { $ref: 'Site#' }, ...errorResponses(404) } },
    },
    async (request, reply) => {
      const { tenant, site } = request.params as { tenant: string; site: string };
      const t = await tenantFor(ctx, principalOf(request), tenant, 'read');
      const view = siteView(await requireSiteIn(ctx, t, site));
      reply.header('etag', etagOf(view));
      return view;
    },
  );

  app.patch(
    '/api/v1/tenants/:tenant/sites/:site',
    {
      schema: {
        summary: 'Change a site (If-Match required)',
        tags: ['sites'],
        params: SITE_PARAMS,
        headers: IF_MATCH_HEADERS,
        body: { type: 'object', additionalProperties: false, minProperties: 1, properties: SITE_FIELDS },
        response: { 200: { $ref: 'Site#' }, ...errorResponses(404, 409, 412, 428) },
      },
    },
    async (request, reply) => {
      const { tenant, site } = request.params as { tenant: string; site: string };
      const principal = principalOf(request);
      const t = await tenantFor(ctx, principal, tenant, 'write');
      const before = siteView(await requireSiteIn(ctx, t, site));
      requireIfMatch(request, etagOf(before));
      const after = siteView(await updateSite(ctx, t, site, request.body as SiteBody));
      await audit(ctx, principal, { action: 'site.set', tenantId: t.id, target: `site ${site}`, before, after, ...changeOptions(request) });
      reply.header('etag', etagOf(after));
      return after;
    },
  );

  app.delete(
    '/api/v1/tenants/:tenant/sites/:site',
    {
      schema: {
        summary: 'Remove a site (If-Match required); its devices fall back to no site',
        tags: ['sites'],
        params: SITE_PARAMS,
        headers: IF_MATCH_HEADERS,
        response: { 204: { description: 'Removed.', type: 'null' }, ...errorResponses(404, 412, 428) },
      },
    },
    async (request, reply) => {
      const { tenant, site } = request.params as { tenant: string; site: string };
      const principal = principalOf(request);
      const t = await tenantFor(ctx, principal, tenant, 'write');
      const current = await requireSiteIn(ctx, t, site);
      const before = siteView(current);
      requireIfMatch(request, etagOf(before));
      await ctx.store.deleteSite(t.id, current.id);
      await audit(ctx, principal, { action: 'site.remove', tenantId: t.id, target: `site ${site}`, before, ...changeOptions(request) });
      return reply.code(204).send();
    },
  );
}
