// Model policies of a tenant (a per-model APP_FILE_PATH; parameters hang on them via
// ?scope=model:X): list, read, create or change (PUT; If-Match when it exists), remove (If-Match).

import type { FastifyInstance } from 'fastify';
import { normalizeModel } from '../../domain/models.js';
import type { ModelPolicy, Tenant } from '../../store/store.js';
import type { AdminContext } from '../admin-context.js';
import { audit } from '../audit-log.js';
import { setModelPolicy } from '../structure.js';
import { principalOf } from './auth-plugin.js';
import { etagOf, requireIfMatch } from './etag.js';
import { PAGE_QUERY_PROPERTIES, replyPage } from './pagination.js';
import { ApiProblem } from './problem-json.js';
import { TENANT_PARAMS } from './routes-tenants.js';
import { errorResponses, IF_MATCH_HEADERS, pageSchema } from './schemas.js';
import { tenantFor } from './tenant-access.js';
import { modelPolicyView } from './views.js';

const MODEL_PARAMS = {
  type: 'object',
  required: ['tenant', 'model'],
  properties: { ...TENANT_PARAMS.properties, model: { type: 'string', minLength: 1, maxLength: 64, description: 'as phones report it, e.g. VVX_500 (vvx500 is accepted)' } },
} as const;

async function findPolicy(ctx: AdminContext, t: Tenant, model: string): Promise<ModelPolicy | undefined> {
  return ctx.store.getModelPolicy(t.id, normalizeModel(model));
}

async function requirePolicyIn(ctx: AdminContext, t: Tenant, model: string): Promise<ModelPolicy> {
  const policy = await findPolicy(ctx, t, model);
  if (!policy) throw new ApiProblem(404, `no policy for model "${model}" in tenant "${t.slug}" (see GET /api/v1/tenants/${t.slug}/models)`);
  return policy;
}

/** Routes of /api/v1/tenants/{tenant}/models. */
export function registerModelRoutes(app: FastifyInstance, ctx: AdminContext): void {
  app.get(
    '/api/v1/tenants/:tenant/models',
    {
      schema: {
        summary: "List a tenant's model policies",
        tags: ['models'],
        params: TENANT_PARAMS,
        querystring: { type: 'object', additionalProperties: false, properties: { ...PAGE_QUERY_PROPERTIES } },
        response: { 200: pageSchema('ModelPolicy'), ...errorResponses(404) },
      },
    },
    async (request, reply) => {
      const { tenant } = request.params as { tenant: string };
      const q = request.query as { limit: number; cursor?: string };
      const t = await tenantFor(ctx, principalOf(request), tenant, 'read');
      const models = (await ctx.store.listModelPolicies(t.id));
      return replyPage(request, reply, models, (m) => m.model, modelPolicyView);
    },
  );

  app.get(
    '/api/v1/tenants/:tenant/models/:model',
    { schema: { summary: 'One model policy', tags: ['models'], params: MODEL_PARAMS, response: { 200: { $ref: 'ModelPolicy#' }, ...errorResponses(404) } } },
    async (request, reply) => {
      const { tenant, model } = request.params as { tenant: string; model: string };
      const t = await tenantFor(ctx, principalOf(request), tenant, 'read');
      const view = modelPolicyView(await requirePolicyIn(ctx, t, model));
      reply.header('etag', etagOf(view));
      return view;
    },
  );

  app.put(
    '/api/v1/tenants/:tenant/models/:model',
    {
      schema: {
        summary: 'Create a model policy (201), or change one (200, If-Match required)',
        tags: ['models'],
        params: MODEL_PARAMS,
        headers: IF_MATCH_HEADERS,
        body: {
          type: 'object',
          required: ['appFilePath'],
          additionalProperties: false,
          properties: { appFilePath: { type: ['string', 'null'], maxLength: 255, description: "this model's APP_FILE_PATH, or null for the tenant's" } },
        },
        response: { 200: { $ref: 'ModelPolicy#' }, 201: { $ref: 'ModelPolicy#' }, ...errorResponses(404, 412, 428) },
      },
    },
    async (request, reply) => {
      const { tenant, model } = request.params as { tenant: string; model: string };
      const { appFilePath } = request.body as { appFilePath: string | null };
      const principal = principalOf(request);
      const t = await tenantFor(ctx, principal, tenant, 'write');
      const existing = await findPolicy(ctx, t, model);
      const before = existing ? modelPolicyView(existing) : null;
      // Creating needs no tag (there is nothing to have read); changing does, like every edit.
      if (before) requireIfMatch(request, etagOf(before));
      const after = modelPolicyView(await setModelPolicy(ctx, t, model, appFilePath));
      await audit(ctx, principal, { action: 'model.set', tenantId: t.id, target: `model ${after.model}`, before, after, ip: request.ip });
      reply.code(before ? 200 : 201).header('etag', etagOf(after));
      if (!before) reply.header('location', `/api/v1/tenants/${t.slug}/models/${after.model}`);
      return after;
    },
  );

  app.delete(
    '/api/v1/tenants/:tenant/models/:model',
    {
      schema: {
        summary: 'Remove a model policy (If-Match required)',
        tags: ['models'],
        params: MODEL_PARAMS,
        headers: IF_MATCH_HEADERS,
        response: { 204: { description: 'Removed.', type: 'null' }, ...errorResponses(404, 412, 428) },
      },
    },
    async (request, reply) => {
      const { tenant, model } = request.params as { tenant: string; model: string };
      const principal = principalOf(request);
      const t = await tenantFor(ctx, principal, tenant, 'write');
      const current = await requirePolicyIn(ctx, t, model);
      const before = modelPolicyView(current);
      requireIfMatch(request, etagOf(before));
      await ctx.store.deleteModelPolicy(t.id, current.id);
      await audit(ctx, principal, { action: 'model.remove', tenantId: t.id, target: `model ${current.model}`, before, ip: request.ip });
      return reply.code(204).send();
    },
  );
}
