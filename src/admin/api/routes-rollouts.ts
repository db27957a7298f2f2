// Staged firmware rollouts of a tenant: list, create (its first wave is released at once), read
// its status report, pause, resume, roll back and remove. Changes of an existing rollout need
// If-Match on the rollout's ETag, which covers its settings and state (status, wave, reason), not
// what its phones report, so a phone booting never makes an administrator's tag stale.
// Everything goes through admin/rollouts.ts, so the API validates and warns exactly as the CLI.

import type { FastifyInstance, FastifyRequest } from 'fastify';
import { parseDuration, parseWaves } from '../../domain/rollout-plan.js';
import type { Rollout, RolloutSelector, Tenant } from '../../store/store.js';
import type { AdminContext } from '../admin-context.js';
import { audit } from '../audit-log.js';
import { createRollout, pauseRollout, removeRollout, resumeRollout, rollBackRollout, rolloutStatus } from '../rollouts.js';
import { principalOf } from './auth-plugin.js';
import { etagOf, requireIfMatch } from './etag.js';
import { PAGE_QUERY_PROPERTIES, replyPage } from './pagination.js';
import { ApiProblem } from './problem-json.js';
import { TENANT_PARAMS } from './routes-tenants.js';
import { errorResponses, IF_MATCH_HEADERS } from './schemas.js';
import { tenantFor } from './tenant-access.js';

const nullableString = { type: ['string', 'null'] } as const;
const STATUSES = ['running', 'paused', 'completed', 'rolled-back'] as const;

/** The defaults of `polyprov rollout create`. */
const DEFAULT_WAVES = [1, 10, 100];
const DEFAULT_INTERVAL_MS = 3_600_000;
const DEFAULT_DEADLINE_MS = 7_200_000;

const SELECTOR_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  description: 'which registered devices: all of the tenant, or those of a site, a group and/or a model',
  properties: {
    site: { type: 'string', minLength: 1, maxLength: 64 },
    group: { type: 'string', minLength: 1, maxLength: 64 },
    model: { type: 'string', minLength: 1, maxLength: 64, description: 'e.g. VVX_450' },
  },
} as const;

const ROLLOUT_PROPERTIES = {
  name: { type: 'string' },
  from: { type: 'string', description: 'the version the devices ran (what a rollback returns to)' },
  to: { type: 'string', description: 'the new version' },
  selector: SELECTOR_SCHEMA,
  waves: { type: 'array', items: { type: 'number' }, description: 'cumulative percentages of the devices each wave releases' },
  waveIntervalMs: { type: 'integer', description: 'least time a healthy wave soaks before the next' },
  deadlineMs: { type: 'integer', description: "time a wave's phones have to report the new version" },
  maxFailurePercent: { type: 'number' },
  window: { ...nullableString, description: 'UTC maintenance window HH:MM-HH:MM in which waves are released, or null for any time' },
  status: { type: 'string', enum: STATUSES },
  currentWave: { type: 'integer', description: 'index (from 0) into waves of the newest released wave' },
  waveStartedAt: { type: 'string' },
  reason: { ...nullableString, description: 'why it is paused or rolled back' },
  devices: { type: 'integer' },
  createdAt: { type: 'string' },
  updatedAt: { type: 'string' },
} as const;

const ROLLOUT_SCHEMA = { type: 'object', required: Object.keys(ROLLOUT_PROPERTIES), properties: ROLLOUT_PROPERTIES } as const;

const MEMBER_SCHEMA = {
  type: 'object',
  required: ['mac', 'wave', 'running', 'lastSeen'],
  properties: { mac: { type: 'string' }, wave: { type: 'integer' }, running: nullableString, lastSeen: nullableString },
} as const;

const STATUS_SCHEMA = {
  type: 'object',
  required: ['rollout', 'members', 'waves', 'versions', 'stuck', 'next'],
  properties: {
    rollout: ROLLOUT_SCHEMA,
    members: { type: 'array', items: { type: 'object', required: ['mac', 'wave'], properties: { mac: { type: 'string' }, wave: { type: 'integer' } } } },
    waves: {
      type: 'array',
      items: {
        type: 'object',
        required: ['wave', 'percent', 'size', 'updated', 'released'],
        properties: { wave: { type: 'integer' }, percent: { type: 'number' }, size: { type: 'integer' }, updated: { type: 'integer', description: 'phones of the wave on the new version' }, released: { type: 'boolean' } },
      },
    },
    versions: { type: 'object', additionalProperties: { type: 'integer' }, description: 'phones by the version they report ("never seen" for none)' },
    stuck: { type: 'array', items: MEMBER_SCHEMA, description: 'released phones not on the new version' },
    next: {
      type: 'object',
      required: ['action'],
      description: 'what the next tick would do',
      properties: { action: { type: 'string', enum: ['advance', 'complete', 'pause', 'resume', 'wait'] }, wave: { type: 'integer' }, reason: { type: 'string' } },
    },
  },
} as const;

const ROLLOUT_PARAMS = {
  type: 'object',
  required: ['tenant', 'name'],
  properties: { ...TENANT_PARAMS.properties, name: { type: 'string', minLength: 1, maxLength: 64, description: "the rollout's name" } },
} as const;

/** What the API shows of a rollout (its members only in the status report): its ETag is this view's. */
function rolloutView(r: Rollout) {
  return {
    name: r.name,
    from: r.fromVersion,
    to: r.toVersion,
    selector: r.selector,
    waves: r.waves,
    waveIntervalMs: r.waveIntervalMs,
    deadlineMs: r.deadlineMs,
    maxFailurePercent: r.maxFailurePercent,
    window: r.window,
    status: r.status,
    currentWave: r.currentWave,
    waveStartedAt: r.waveStartedAt,
    reason: r.reason,
    devices: r.members.length,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}

async function requireRolloutIn(ctx: AdminContext, t: Tenant, name: string): Promise<Rollout> {
  const r = await ctx.store.getRollout(t.id, name);
  if (!r) throw new ApiProblem(404, `no rollout "${name}" in tenant "${t.slug}" (see GET /api/v1/tenants/${t.slug}/rollouts)`);
  return r;
}

interface NewRolloutBody {
  name: string;
  from: string;
  to: string;
  selector?: RolloutSelector;
  waves: number[];
  waveIntervalMs: number;
  deadlineMs: number;
  maxFailurePercent: number;
  window?: string;
}

/** The CLI's own checks of what it parses from text (waves, durations), applied to the JSON values. */
function checkedSettings(b: NewRolloutBody) {
  return {
    waves: parseWaves(b.waves.join(',')),
    waveIntervalMs: parseDuration(`${b.waveIntervalMs}ms`),
    deadlineMs: parseDuration(`${b.deadlineMs}ms`),
  };
}

/** One state change of an existing rollout: 404, If-Match, the service, the audit entry. */
async function changeRollout(
  ctx: AdminContext,
  request: FastifyRequest,
  action: 'pause' | 'resume' | 'rollback',
  run: (t: Tenant, name: string) => Promise<Rollout>,
) {
  const { tenant, name } = request.params as { tenant: string; name: string };
  const principal = principalOf(request);
  const t = await tenantFor(ctx, principal, tenant, 'write');
  const before = rolloutView(await requireRolloutIn(ctx, t, name));
  requireIfMatch(request, etagOf(before));
  const after = rolloutView(await run(t, name));
  await audit(ctx, principal, { action: `rollout.${action}`, tenantId: t.id, target: `rollout ${name}`, before, after, ip: request.ip });
  return after;
}

export function registerRolloutRoutes(app: FastifyInstance, ctx: AdminContext): void {
  app.get(
    '/api/v1/tenants/:tenant/rollouts',
    {
      schema: {
        summary: "A tenant's firmware rollouts, by name",
        tags: ['rollouts'],
        params: TENANT_PARAMS,
        querystring: { type: 'object', additionalProperties: false, properties: { status: { type: 'string', enum: STATUSES, description: 'only rollouts in this state' }, ...PAGE_QUERY_PROPERTIES } },
        response: { 200: { type: 'object', required: ['items', 'next'], properties: { items: { type: 'array', items: ROLLOUT_SCHEMA }, next: nullableString } }, ...errorResponses(404) },
      },
    },
    async (request, reply) => {
      const { tenant } = request.params as { tenant: string };
      const q = request.query as { status?: string; limit: number; cursor?: string };
      const t = await tenantFor(ctx, principalOf(request), tenant, 'read');
      const rollouts = (await ctx.store.listRollouts(t.id)).filter((r) => q.status === undefined || r.status === q.status);
      return replyPage(request, reply, rollouts, (r) => r.name, rolloutView);
    },
  );

  app.post(
    '/api/v1/tenants/:tenant/rollouts',
    {
      schema: {
        summary: 'Create a rollout over registered devices; its first wave is released at once (answers the prerequisite warnings)',
        tags: ['rollouts'],
        params: TENANT_PARAMS,
        body: {
          type: 'object',
          required: ['name', 'from', 'to'],
          additionalProperties: false,
          properties: {
            name: { type: 'string', minLength: 1, maxLength: 64, description: 'lower-case letters, digits and -' },
            from: { type: 'string', minLength: 1, maxLength: 64, description: 'the version the devices run now (what a rollback returns to)' },
            to: { type: 'string', minLength: 1, maxLength: 64, description: 'the new version; both must be in the tenant\'s library or the global one' },
            selector: { ...SELECTOR_SCHEMA, default: {} },
            waves: { type: 'array', minItems: 1, maxItems: 20, items: { type: 'number' }, default: DEFAULT_WAVES, description: 'rising cumulative percentages ending at 100' },
            waveIntervalMs: { type: 'integer', minimum: 0, default: DEFAULT_INTERVAL_MS, description: 'least time a healthy wave soaks before the next (at most a year)' },
            deadlineMs: { type: 'integer', minimum: 0, default: DEFAULT_DEADLINE_MS, description: "time a wave's phones have to report the new version (at most a year)" },
            maxFailurePercent: { type: 'number', default: 0, description: 'share of a wave that may miss the deadline before the rollout pauses, 0 to 100' },
            window: { type: 'string', minLength: 1, maxLength: 32, description: 'UTC maintenance window HH:MM-HH:MM in which waves are released (default: any time)' },
          },
        },
        response: {
          201: { type: 'object', required: [...ROLLOUT_SCHEMA.required, 'warnings'], properties: { ...ROLLOUT_PROPERTIES, warnings: { type: 'array', items: { type: 'string' } } } },
          ...errorResponses(404, 409),
        },
      },
    },
    async (request, reply) => {
      const { tenant } = request.params as { tenant: string };
      const body = request.body as NewRolloutBody;
      const principal = principalOf(request);
      const t = await tenantFor(ctx, principal, tenant, 'write');
      const created = await createRollout(ctx, t, {
        name: body.name,
        from: body.from,
        to: body.to,
        selector: body.selector ?? {},
        maxFailurePercent: body.maxFailurePercent,
        ...checkedSettings(body),
        ...(body.window !== undefined ? { window: body.window } : {}),
      });
      const view = rolloutView(created);
      await audit(ctx, principal, { action: 'rollout.add', tenantId: t.id, target: `rollout ${view.name}`, after: view, ip: request.ip });
      reply.code(201).header('location', `/api/v1/tenants/${t.slug}/rollouts/${view.name}`).header('etag', etagOf(view));
      return { ...view, warnings: created.warnings };
    },
  );

  app.get(
    '/api/v1/tenants/:tenant/rollouts/:name',
    {
      schema: {
        summary: "A rollout's status: its waves, the versions its phones report, stuck phones and what the next tick would do",
        tags: ['rollouts'],
        params: ROLLOUT_PARAMS,
        response: { 200: STATUS_SCHEMA, ...errorResponses(404) },
      },
    },
    async (request, reply) => {
      const { tenant, name } = request.params as { tenant: string; name: string };
      const t = await tenantFor(ctx, principalOf(request), tenant, 'read');
      await requireRolloutIn(ctx, t, name);
      const s = await rolloutStatus(ctx, t, name);
      const view = rolloutView(s.rollout);
      reply.header('etag', etagOf(view));
      return { rollout: view, members: s.rollout.members, waves: s.waves, versions: s.versions, stuck: s.stuck, next: s.next };
    },
  );

  for (const [verb, summary, run] of [
    ['pause', 'Hold a running rollout: no further wave is released (If-Match required)', (t: Tenant, name: string, who: string) => pauseRollout(ctx, t, name, `paused by ${who}`)],
    ['resume', 'Let a paused rollout go on; it pauses again if its wave is still unhealthy (If-Match required)', (t: Tenant, name: string, _who: string) => resumeRollout(ctx, t, name)],
    ['rollback', 'Send every released phone back to the old version (If-Match required)', (t: Tenant, name: string, _who: string) => rollBackRollout(ctx, t, name)],
  ] as const) {
    app.post(
      `/api/v1/tenants/:tenant/rollouts/:name/${verb}`,
      {
        schema: { summary, tags: ['rollouts'], params: ROLLOUT_PARAMS, headers: IF_MATCH_HEADERS, response: { 200: ROLLOUT_SCHEMA, ...errorResponses(404, 412, 428) } },
      },
      async (request, reply) => {
        const after = await changeRollout(ctx, request, verb, (t, name) => run(t, name, principalOf(request).username));
        reply.header('etag', etagOf(after));
        return after;
      },
    );
  }

  app.delete(
    '/api/v1/tenants/:tenant/rollouts/:name',
    {
      schema: {
        summary: 'Forget a rollout: its phones follow the policy target again (If-Match required)',
        tags: ['rollouts'],
        params: ROLLOUT_PARAMS,
        headers: IF_MATCH_HEADERS,
        response: { 204: { description: 'Removed.', type: 'null' }, ...errorResponses(404, 412, 428) },
      },
    },
    async (request, reply) => {
      const { tenant, name } = request.params as { tenant: string; name: string };
      const principal = principalOf(request);
      const t = await tenantFor(ctx, principal, tenant, 'write');
      const before = rolloutView(await requireRolloutIn(ctx, t, name));
      requireIfMatch(request, etagOf(before));
      await removeRollout(ctx, t, name);
      await audit(ctx, principal, { action: 'rollout.remove', tenantId: t.id, target: `rollout ${name}`, before, ip: request.ip });
      return reply.code(204).send();
    },
  );
}
