// Parameters of one layer of a tenant (?scope=…): read with its ETag, set (merging, If-Match),
// replace the whole layer (If-Match; one store transaction, so a phone never reads it half
// replaced), unset one name (If-Match). Setting refuses names Poly's
// templates do not know unless `force`.

import type { FastifyInstance, FastifyRequest } from 'fastify';
import { normalizeModel } from '../../domain/models.js';
import type { Tenant } from '../../store/store.js';
import type { AdminContext } from '../admin-context.js';
import { AdminError } from '../admin-error.js';
import { audit } from '../audit-log.js';
import { replaceParameters, resolveScope, setParameters, unsetParameters, type ScopeSelector } from '../parameters.js';
import { principalOf } from './auth-plugin.js';
import { etagOf, requireIfMatch } from './etag.js';
import { SCOPE_QUERY, scopeOf } from './parameter-scope.js';
import { ApiProblem } from './problem-json.js';
import { TENANT_PARAMS } from './routes-tenants.js';
import { errorResponses, IF_MATCH_HEADERS } from './schemas.js';
import { tenantFor } from './tenant-access.js';


interface Layer {
  scope: string;
  parameters: Record<string, string>;
}

/** The layer's parameters; a model without a policy has an empty layer (setting one creates the policy). */
async function readLayer(ctx: AdminContext, t: Tenant, scopeText: string, sel: ScopeSelector): Promise<Layer> {
  if (sel.model !== undefined && !(await ctx.store.getModelPolicy(t.id, normalizeModel(sel.model)))) return { scope: scopeText, parameters: {} };
  let scope;
  try {
    scope = await resolveScope(ctx, t, sel, false);
  } catch (err) {
    // The layer's owner (site, group, device) does not exist: the layer is not found.
    if (err instanceof AdminError) throw new ApiProblem(404, err.message.replace(/\(see: polyprov [^)]*\)/, `(see GET /api/v1/tenants/${t.slug})`));
    throw err;
  }
  const rows = await ctx.store.listParameters(t.id, scope);
  const parameters: Record<string, string> = {};
  for (const r of rows) Object.defineProperty(parameters, r.name, { value: r.value, enumerable: true, writable: true, configurable: true });
  return { scope: scopeText, parameters };
}


/** The body of PATCH (at least one name) and PUT (the whole layer, maybe empty). */
function valuesBody(minProperties: number, description: string) {
  return {
    type: 'object',
    required: ['values'],
    additionalProperties: false,
    properties: {
      values: { type: 'object', minProperties, maxProperties: 5000, additionalProperties: { type: 'string', maxLength: 8192 }, description },
      force: { type: 'boolean', default: false, description: 'store names and values the catalog of Poly parameters refuses (they come back as warnings)' },
    },
  } as const;
}

export function registerParameterRoutes(app: FastifyInstance, ctx: AdminContext): void {
  /** The layer an edit names, read after the write check and matched against If-Match. */
  async function layerEdit(request: FastifyRequest) {
    const { tenant } = request.params as { tenant: string };
    const principal = principalOf(request);
    const t = await tenantFor(ctx, principal, tenant, 'write');
    const { text, sel } = scopeOf(request);
    const before = await readLayer(ctx, t, text, sel);
    requireIfMatch(request, etagOf(before));
    return { principal, t, text, sel, before };
  }

  app.get(
    '/api/v1/tenants/:tenant/parameters',
    {
      schema: {
        summary: 'The parameters one layer sets',
        tags: ['parameters'],
        params: TENANT_PARAMS,
        querystring: SCOPE_QUERY,
        response: { 200: { $ref: 'ParameterLayer#' }, ...errorResponses(404) },
      },
    },
    async (request, reply) => {
      const { tenant } = request.params as { tenant: string };
      const t = await tenantFor(ctx, principalOf(request), tenant, 'read');
      const { text, sel } = scopeOf(request);
      const layer = await readLayer(ctx, t, text, sel);
      reply.header('etag', etagOf(layer));
      return layer;
    },
  );

  app.patch(
    '/api/v1/tenants/:tenant/parameters',
    {
      schema: {
        summary: 'Set parameters at one layer (If-Match required); other names are kept',
        tags: ['parameters'],
        params: TENANT_PARAMS,
        querystring: SCOPE_QUERY,
        headers: IF_MATCH_HEADERS,
        body: valuesBody(1, 'name → value'),
        response: { 200: { $ref: 'ParameterLayer#' }, ...errorResponses(404, 412, 428) },
      },
    },
    async (request, reply) => {
      const { principal, t, text, sel, before } = await layerEdit(request);
      const body = request.body as { values: Record<string, string>; force: boolean };
      const result = await setParameters(
        ctx,
        t,
        sel,
        Object.entries(body.values).map(([n, v]) => `${n}=${v}`),
        { force: body.force },
      );
      const after = await readLayer(ctx, t, text, sel);
      const old = Object.fromEntries(Object.keys(result.values).map((n) => [n, before.parameters[n] ?? null]));
      await audit(ctx, principal, { action: 'parameter.set', tenantId: t.id, target: `parameters of ${text}`, before: old, after: result.values, ip: request.ip });
      reply.header('etag', etagOf(after));
      return { ...after, warnings: result.warnings };
    },
  );

  app.put(
    '/api/v1/tenants/:tenant/parameters',
    {
      schema: {
        summary: 'Replace the parameters of one layer (If-Match required): names missing from values are removed',
        description:
          "Only names that are new or change are checked against the catalog (force stores what it refuses); names kept as they are stay even if they were forced once. polyprov's own settings (polyprov.*, e.g. the firmware target) are kept: they have their own routes. The layer is replaced in one transaction: a phone reads the old layer or the new one, never a mix.",
        tags: ['parameters'],
        params: TENANT_PARAMS,
        querystring: SCOPE_QUERY,
        headers: IF_MATCH_HEADERS,
        body: valuesBody(0, 'name → value: the whole layer ({} removes every parameter)'),
        response: { 200: { $ref: 'ParameterLayer#' }, ...errorResponses(404, 412, 428) },
      },
    },
    async (request, reply) => {
      const { principal, t, text, sel, before } = await layerEdit(request);
      const body = request.body as { values: Record<string, string>; force: boolean };
      const result = await replaceParameters(ctx, t, sel, body.values, { force: body.force });
      const after = await readLayer(ctx, t, text, sel);
      if (result.changed) await audit(ctx, principal, { action: 'parameter.replace', tenantId: t.id, target: `parameters of ${text}`, before: before.parameters, after: after.parameters, ip: request.ip });
      reply.header('etag', etagOf(after));
      return { ...after, warnings: result.warnings };
    },
  );

  app.delete(
    '/api/v1/tenants/:tenant/parameters/:name',
    {
      schema: {
        summary: 'Remove one parameter from one layer (If-Match: the ETag of the layer)',
        tags: ['parameters'],
        params: { type: 'object', required: ['tenant', 'name'], properties: { ...TENANT_PARAMS.properties, name: { type: 'string', minLength: 1, maxLength: 200 } } },
        querystring: SCOPE_QUERY,
        headers: IF_MATCH_HEADERS,
        response: { 200: { $ref: 'ParameterLayer#' }, ...errorResponses(404, 412, 428) },
      },
    },
    async (request, reply) => {
      const { tenant, name } = request.params as { tenant: string; name: string };
      const principal = principalOf(request);
      const t = await tenantFor(ctx, principal, tenant, 'write');
      const { text, sel } = scopeOf(request);
      const before = await readLayer(ctx, t, text, sel);
      requireIfMatch(request, etagOf(before));
      if (!Object.hasOwn(before.parameters, name)) throw new ApiProblem(404, `${text} does not set ${name} (see GET /api/v1/tenants/${t.slug}/parameters?scope=${encodeURIComponent(text)})`);
      await unsetParameters(ctx, t, sel, [name]);
      const after = await readLayer(ctx, t, text, sel);
      await audit(ctx, principal, { action: 'parameter.unset', tenantId: t.id, target: `parameters of ${text}`, before: { [name]: before.parameters[name] }, after: { [name]: null }, ip: request.ip });
      reply.header('etag', etagOf(after));
      return after;
    },
  );
}
