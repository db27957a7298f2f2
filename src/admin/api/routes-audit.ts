// The audit log, newest first, paged by entry id (the cursor is the last id of the previous page).
// A tenant-scoped administrator sees its tenant's entries; one who may read every tenant sees all,
// or one tenant's (?tenant=slug), or those of no tenant (?tenant=-: users, global firmware).

import type { FastifyInstance } from 'fastify';
import type { AdminContext } from '../admin-context.js';
import { listAudit, MAX_AUDIT_PAGE, type AuditListQuery } from '../audit-log.js';
import { principalOf } from './auth-plugin.js';
import { nextLink } from './pagination.js';
import { errorResponses, pageSchema } from './schemas.js';
import { tenantFor } from './tenant-access.js';
import { auditEntryView } from './views.js';

/** Routes of /api/v1/audit. */
export function registerAuditRoutes(app: FastifyInstance, ctx: AdminContext): void {
  app.get(
    '/api/v1/audit',
    {
      schema: {
        summary: 'Audit log entries the caller may read, newest first',
        tags: ['audit'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            tenant: { type: 'string', minLength: 1, maxLength: 64, description: 'a tenant slug, or - for changes outside any tenant' },
            limit: { type: 'integer', minimum: 1, maximum: MAX_AUDIT_PAGE, default: 100, description: `entries per page, 1 to ${MAX_AUDIT_PAGE}` },
            cursor: { type: 'string', pattern: '^[1-9][0-9]{0,15}$', description: 'the "next" value of the previous page' },
          },
        },
        response: { 200: pageSchema('AuditEntry'), ...errorResponses(404) },
      },
    },
    async (request, reply) => {
      const q = request.query as { tenant?: string; limit: number; cursor?: string };
      const principal = principalOf(request);
      const query: AuditListQuery = { limit: Math.min(q.limit + 1, MAX_AUDIT_PAGE) };
      if (q.cursor !== undefined) query.before = Number(q.cursor);
      if (q.tenant === '-') query.tenantId = null;
      else if (q.tenant !== undefined) query.tenantId = (await tenantFor(ctx, principal, q.tenant, 'read')).id;
      // One more than asked tells whether there is a next page (except at the largest page size).
      const entries = await listAudit(ctx, principal, query);
      const more = entries.length > q.limit || (q.limit === MAX_AUDIT_PAGE && entries.length === MAX_AUDIT_PAGE);
      const items = entries.slice(0, q.limit);
      const next = more && items.length ? String(items[items.length - 1]!.id) : null;
      if (next !== null) reply.header('link', nextLink(request.url, next));
      const slugs = new Map((await ctx.store.listTenants()).map((t) => [t.id, t.slug]));
      return { items: items.map((e) => auditEntryView(e, slugs)), next };
    },
  );
}
