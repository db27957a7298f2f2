// Resync jobs of a tenant: start one (it runs in the background at its pace; the answer is the job,
// 202), list and read them, and a device's latest reach results. A job outlives the request that
// started it, so a failure of the run goes to the logger, never to the client.

import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { requireDeviceIn } from './routes-devices.js';
import { requireMac } from '../../domain/mac.js';
import type { Tenant } from '../../store/store.js';
import type { AdminContext } from '../admin-context.js';
import { audit } from '../audit-log.js';
import { createResync, reachStatus, runResync, type ResyncRunOptions } from '../reach.js';
import { principalOf } from './auth-plugin.js';
import { nextLink, PAGE_QUERY_PROPERTIES } from './pagination.js';
import { ApiProblem } from './problem-json.js';
import { TENANT_PARAMS } from './routes-tenants.js';
import { DEVICE_PATH_PARAMS, errorResponses, pageSchema } from './schemas.js';
import { tenantFor } from './tenant-access.js';
import { reachJobView, reachResultView } from './views.js';

/** What the resync routes need besides the services. */
export interface ResyncRouteOptions {
  /** Where background runs log their failures. */
  logger: Logger;
  /** Passed to every run (tests bind SIP to loopback and shorten its timers). */
  reach?: Partial<ResyncRunOptions>;
}

interface ResyncBody {
  via: 'notify' | 'push';
  macs?: string[];
  site?: string;
  group?: string;
  model?: string;
  all?: boolean;
  rate: number;
  jitter: number;
}

const JOB_PARAMS = {
  type: 'object',
  required: ['tenant', 'id'],
  properties: { ...TENANT_PARAMS.properties, id: { type: 'integer', minimum: 1 } },
} as const;


/** 400 naming the MACs that are not devices of `t`: a job never names another tenant's phones. */
async function requireDevicesOf(ctx: AdminContext, t: Tenant, macs: readonly string[]): Promise<void> {
  const known = new Set((await ctx.store.listDevices(t.id)).map((d) => d.mac));
  const unknown = [...new Set(macs.map((m) => requireMac(m)))].filter((m) => !known.has(m));
  if (unknown.length) {
    const shown = unknown.slice(0, 10).join(', ') + (unknown.length > 10 ? ` and ${unknown.length - 10} more` : '');
    throw new ApiProblem(400, `${shown} ${unknown.length === 1 ? 'is not a device' : 'are not devices'} of tenant "${t.slug}" (see GET /api/v1/tenants/${t.slug}/devices)`);
  }
}

/** Exactly one way of choosing devices: a list, a layer, or (explicitly) the whole tenant. */
function selection(b: ResyncBody): { macs?: string[]; scope?: { site?: string; group?: string; model?: string } } {
  const layer = { ...(b.site !== undefined ? { site: b.site } : {}), ...(b.group !== undefined ? { group: b.group } : {}), ...(b.model !== undefined ? { model: b.model } : {}) };
  const ways = [b.macs !== undefined, Object.keys(layer).length > 0, b.all === true].filter(Boolean).length;
  if (ways !== 1) throw new ApiProblem(400, 'choose the devices one way: give macs, or site/group/model, or all: true for the whole tenant');
  if (b.macs !== undefined) return { macs: b.macs };
  return Object.keys(layer).length ? { scope: layer } : {};
}

export function registerResyncRoutes(app: FastifyInstance, ctx: AdminContext, opts: ResyncRouteOptions): void {
  app.post(
    '/api/v1/tenants/:tenant/resync',
    {
      schema: {
        summary: 'Start a resync job: NOTIFY check-sync or Push to the chosen devices, at a set pace (runs in the background)',
        tags: ['resync'],
        params: TENANT_PARAMS,
        body: {
          type: 'object',
          required: ['via', 'rate', 'jitter'],
          additionalProperties: false,
          properties: {
            via: { type: 'string', enum: ['notify', 'push'] },
            macs: { type: 'array', minItems: 1, maxItems: 100_000, items: { type: 'string', minLength: 12, maxLength: 17 } },
            site: { type: 'string', minLength: 1, maxLength: 64 },
            group: { type: 'string', minLength: 1, maxLength: 64 },
            model: { type: 'string', minLength: 1, maxLength: 64 },
            all: { type: 'boolean', description: 'every device of the tenant (must be said explicitly)' },
            rate: { type: 'number', exclusiveMinimum: 0, maximum: 10_000, description: 'devices per second' },
            jitter: { type: 'number', minimum: 0, maximum: 1, description: 'how much each pause may vary, as a fraction of it' },
          },
        },
        response: { 202: { $ref: 'ReachJob#' }, ...errorResponses(404) },
      },
    },
    async (request, reply) => {
      const { tenant } = request.params as { tenant: string };
      const body = request.body as ResyncBody;
      const principal = principalOf(request);
      const t = await tenantFor(ctx, principal, tenant, 'write');
      const chosen = selection(body);
      if (chosen.macs) await requireDevicesOf(ctx, t, chosen.macs);
      const job = await createResync(ctx, t, { method: body.via, ...chosen, ratePerSecond: body.rate, jitter: body.jitter });
      const view = reachJobView(job);
      await audit(ctx, principal, { action: 'resync.start', tenantId: t.id, target: `resync job ${job.id}`, after: view, ip: request.ip });
      // Not awaited: the job is stored, so its progress is visible (GET …/resync/{id}) however long it runs.
      runResync(ctx, t, job.id, { ...opts.reach, logger: opts.reach?.logger ?? opts.logger }).catch((err: unknown) =>
        opts.logger.error({ err, tenant: t.slug, job: job.id }, 'resync job failed'),
      );
      reply.code(202).header('location', `/api/v1/tenants/${t.slug}/resync/${job.id}`);
      return view;
    },
  );

  app.get(
    '/api/v1/tenants/:tenant/resync',
    {
      schema: {
        summary: "A tenant's resync jobs, newest first (paged by job id)",
        tags: ['resync'],
        params: TENANT_PARAMS,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { limit: PAGE_QUERY_PROPERTIES.limit, cursor: { type: 'string', pattern: '^[1-9][0-9]{0,15}$', description: 'the "next" value of the previous page' } },
        },
        response: { 200: pageSchema('ReachJob'), ...errorResponses(404) },
      },
    },
    async (request, reply) => {
      const { tenant } = request.params as { tenant: string };
      const q = request.query as { limit: number; cursor?: string };
      const t = await tenantFor(ctx, principalOf(request), tenant, 'read');
      const jobs = (await ctx.store.listReachJobs(t.id)).filter((j) => q.cursor === undefined || j.id < Number(q.cursor));
      const items = jobs.slice(0, q.limit);
      const next = jobs.length > q.limit ? String(items[items.length - 1]!.id) : null;
      if (next !== null) reply.header('link', nextLink(request.url, next));
      return { items: items.map(reachJobView), next };
    },
  );

  app.get(
    '/api/v1/tenants/:tenant/resync/:id',
    { schema: { summary: 'One resync job and its progress', tags: ['resync'], params: JOB_PARAMS, response: { 200: { $ref: 'ReachJob#' }, ...errorResponses(404) } } },
    async (request) => {
      const { tenant, id } = request.params as { tenant: string; id: number };
      const t = await tenantFor(ctx, principalOf(request), tenant, 'read');
      const job = await ctx.store.getReachJob(t.id, id);
      if (!job) throw new ApiProblem(404, `no resync job ${id} in tenant "${t.slug}" (see GET /api/v1/tenants/${t.slug}/resync)`);
      return reachJobView(job);
    },
  );

  app.get(
    '/api/v1/tenants/:tenant/devices/:mac/reach',
    {
      schema: {
        summary: "A device's latest NOTIFY and Push results",
        tags: ['resync'],
        params: DEVICE_PATH_PARAMS,
        response: { 200: { type: 'object', required: ['items'], properties: { items: { type: 'array', items: { $ref: 'ReachResult#' } } } }, ...errorResponses(404) },
      },
    },
    async (request) => {
      const { tenant, mac } = request.params as { tenant: string; mac: string };
      const t = await tenantFor(ctx, principalOf(request), tenant, 'read');
      const d = await requireDeviceIn(ctx, t, mac);
      return { items: (await reachStatus(ctx, t, d.mac)).map(reachResultView) };
    },
  );
}
