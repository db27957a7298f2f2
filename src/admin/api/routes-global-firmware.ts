// The global firmware library, shared by every tenant: list, read, import a zip, remove. Writes are
// a super-admin's (can(…, 'write', null)). Reads follow the same rule table: a super-admin or an
// all-tenant reader; a tenant's admins and readers are refused (403) here and read the global
// releases through their tenant's list (GET /api/v1/tenants/{tenant}/firmware?library=global),
// which also says which of them their own copies shadow. Removal is refused while any tenant
// without its own copy targets the version or a rollout needs it, as `polyprov firmware remove
// --global` is: both call admin/firmware.ts.

import type { FastifyInstance, FastifyRequest } from 'fastify';
import { can, type Action, type Principal } from '../../domain/admin-roles.js';
import { compareFirmwareVersions, parseFirmwareVersion } from '../../domain/firmware-version.js';
import type { AdminContext } from '../admin-context.js';
import { audit } from '../audit-log.js';
import { listReleases, removeRelease } from '../firmware.js';
import { principalOf } from './auth-plugin.js';
import { etagOf, requireIfMatch } from './etag.js';
import { nextLink, PAGE_QUERY_PROPERTIES } from './pagination.js';
import { ApiProblem } from './problem-json.js';
import { importedView, RELEASE_SCHEMA, registerReleaseUpload, releaseView, type FirmwareRouteOptions } from './routes-firmware.js';
import { errorResponses, IF_MATCH_HEADERS } from './schemas.js';

const GLOBAL_VERSION_PARAMS = {
  type: 'object',
  required: ['version'],
  properties: { version: { type: 'string', minLength: 1, maxLength: 64, description: 'a UC Software version, e.g. 6.4.6.1234' } },
} as const;

/** The principal, when it may `action` on the global library; 403 saying where else to look otherwise. */
function globalLibraryFor(request: FastifyRequest, action: Action): Principal {
  const principal = principalOf(request);
  if (can(principal, action, null)) return principal;
  const who = `${principal.username} (${principal.role})`;
  if (action === 'read') throw new ApiProblem(403, `${who} may not read the global firmware library directly: see GET /api/v1/tenants/{tenant}/firmware?library=global for the global releases your tenant can use`);
  throw new ApiProblem(403, `${who} may not change the global firmware library: ask a super-admin (a tenant's own library is POST /api/v1/tenants/{tenant}/firmware)`);
}

/** The global release of a version, or 404 naming where the versions are listed. */
async function globalRelease(ctx: AdminContext, version: string) {
  const v = parseFirmwareVersion(version);
  const r = await ctx.store.getFirmwareRelease(null, v);
  if (!r) throw new ApiProblem(404, `no firmware ${v} in the global library (see GET /api/v1/firmware; import it with POST /api/v1/firmware or polyprov firmware import --global)`);
  return r;
}

export function registerGlobalFirmwareRoutes(app: FastifyInstance, ctx: AdminContext, opts: FirmwareRouteOptions = {}): void {
  registerReleaseUpload(
    app,
    ctx,
    {
      url: '/api/v1/firmware',
      summary: 'Import a release zip as Poly publishes it into the global library every tenant shares (super-admin; the body is the zip, application/zip)',
      libraryFor: async (request) => ({ lib: null, principal: globalLibraryFor(request, 'write') }),
      location: (_lib, version) => `/api/v1/firmware/${version}`,
    },
    opts.limits,
  );

  app.get(
    '/api/v1/firmware',
    {
      schema: {
        summary: 'The global firmware library, newest first (super-admin or all-tenant reader; a tenant sees it through its own list)',
        tags: ['firmware'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            limit: PAGE_QUERY_PROPERTIES.limit,
            cursor: { type: 'string', pattern: '^[0-9.]{1,64}$', description: 'the "next" value of the previous page' },
          },
        },
        response: {
          200: {
            type: 'object',
            required: ['items', 'next'],
            properties: { items: { type: 'array', items: RELEASE_SCHEMA, description: 'library is always "global" and shadowed false here' }, next: { type: ['string', 'null'] } },
          },
          ...errorResponses(),
        },
      },
    },
    async (request, reply) => {
      globalLibraryFor(request, 'read');
      const q = request.query as { limit: number; cursor?: string };
      let releases = (await listReleases(ctx, null)).map((r) => releaseView(r, false)).sort((a, b) => compareFirmwareVersions(b.version, a.version));
      if (q.cursor !== undefined) {
        const after = parseFirmwareVersion(q.cursor);
        releases = releases.filter((r) => compareFirmwareVersions(r.version, after) < 0);
      }
      const items = releases.slice(0, q.limit);
      const next = releases.length > q.limit ? items[items.length - 1]!.version : null;
      if (next !== null) reply.header('link', nextLink(request.url, next));
      return { items, next };
    },
  );

  app.get(
    '/api/v1/firmware/:version',
    {
      schema: {
        summary: 'One release of the global library, with its ETag',
        tags: ['firmware'],
        params: GLOBAL_VERSION_PARAMS,
        querystring: { type: 'object', additionalProperties: false, properties: {} },
        response: { 200: RELEASE_SCHEMA, ...errorResponses(404) },
      },
    },
    async (request, reply) => {
      globalLibraryFor(request, 'read');
      const view = releaseView(await globalRelease(ctx, (request.params as { version: string }).version), false);
      reply.header('etag', etagOf(view));
      return view;
    },
  );

  app.delete(
    '/api/v1/firmware/:version',
    {
      schema: {
        summary: 'Remove a release from the global library (super-admin, If-Match: its ETag); refused while a tenant without its own copy targets it or a rollout needs it',
        tags: ['firmware'],
        params: GLOBAL_VERSION_PARAMS,
        headers: IF_MATCH_HEADERS,
        response: { 204: { description: 'Removed.', type: 'null' }, ...errorResponses(404, 412, 428) },
      },
    },
    async (request, reply) => {
      const principal = globalLibraryFor(request, 'write');
      const release = await globalRelease(ctx, (request.params as { version: string }).version);
      const before = releaseView(release, false);
      requireIfMatch(request, etagOf(before));
      await removeRelease(ctx, null, release.version);
      await audit(ctx, principal, { action: 'firmware.remove', tenantId: null, target: `firmware ${release.version}`, before: importedView(before), ip: request.ip });
      return reply.code(204).send();
    },
  );
}
