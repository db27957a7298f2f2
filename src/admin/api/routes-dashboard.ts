// A tenant's dashboard: devices seen lately, models and firmware, recent log errors and the chart of
// provisioning requests (admin/dashboard.ts). Read-only, so no ETag and no audit.

import type { FastifyInstance } from 'fastify';
import type { AdminContext } from '../admin-context.js';
import { MAX_DASHBOARD_HOURS, MAX_RECENT_ERRORS, tenantDashboard } from '../dashboard.js';
import { principalOf } from './auth-plugin.js';
import { TENANT_PARAMS } from './routes-tenants.js';
import { errorResponses } from './schemas.js';
import { tenantFor } from './tenant-access.js';

const count = { type: 'integer', minimum: 0 } as const;
const time = { type: 'string', format: 'date-time' } as const;

const DASHBOARD_SCHEMA = {
  type: 'object',
  required: ['tenant', 'generatedAt', 'devices', 'models', 'firmware', 'recentErrors', 'requests'],
  properties: {
    tenant: { type: 'string' },
    generatedAt: time,
    devices: {
      type: 'object',
      required: ['total', 'registered', 'seenOnly', 'seenInWindow', 'neverSeen'],
      properties: {
        total: count,
        registered: count,
        seenOnly: { ...count, description: 'seen on the wire, never registered' },
        seenInWindow: { ...count, description: 'last seen within the window (`hours`)' },
        neverSeen: { ...count, description: 'registered, never seen' },
      },
    },
    models: {
      type: 'array',
      description: 'every device under the model it reports (null: none yet), most first',
      items: { type: 'object', required: ['model', 'count'], properties: { model: { type: ['string', 'null'] }, count } },
    },
    firmware: {
      type: 'array',
      description: 'every device under the firmware version it reports (null: none yet), most first',
      items: { type: 'object', required: ['version', 'count'], properties: { version: { type: ['string', 'null'] }, count } },
    },
    recentErrors: {
      type: 'array',
      maxItems: MAX_RECENT_ERRORS,
      description:
        `At most ${MAX_RECENT_ERRORS} lines of level 5 (major error) or 6 (fatal) from the logs phones uploaded within the window: the most recently ` +
        'updated logs first (at most 50, their last 32 KiB), each from its end.',
      items: {
        type: 'object',
        required: ['mac', 'kind', 'at', 'level', 'line'],
        properties: {
          mac: { type: 'string' },
          kind: { type: 'string', enum: ['app', 'boot'] },
          at: {
            type: ['string', 'null'],
            description: "the phone's clock stamp read as UTC (phones log in their own time zone), or null when the line counts time since boot",
          },
          level: { type: 'integer', minimum: 5 },
          line: { type: 'string', description: 'the raw log line' },
        },
      },
    },
    requests: {
      type: 'object',
      required: ['bucketMinutes', 'from', 'to', 'buckets'],
      properties: {
        bucketMinutes: { type: 'integer', minimum: 1, description: 'chosen so the window takes at most about 48 buckets' },
        from: time,
        to: { ...time, description: 'the end of the last bucket (exclusive)' },
        buckets: {
          type: 'array',
          description: 'contiguous from `from` to `to`, zeros included',
          items: {
            type: 'object',
            required: ['at', 'total', 'failed', 'byProtocol'],
            properties: {
              at: time,
              total: count,
              failed: { ...count, description: 'not found, refused, authentication failed, or a server error' },
              byProtocol: {
                type: 'object',
                description: 'requests of the bucket by protocol (ftp includes FTPS)',
                required: ['http', 'https', 'tftp', 'ftp'],
                properties: { http: count, https: count, tftp: count, ftp: count },
              },
            },
          },
        },
      },
    },
  },
} as const;

export function registerDashboardRoutes(app: FastifyInstance, ctx: AdminContext): void {
  app.get(
    '/api/v1/tenants/:tenant/dashboard',
    {
      schema: {
        summary: "A tenant at a glance: devices seen, models and firmware, recent log errors, provisioning requests over time",
        description:
          'Requests count what the provisioning core answered, on every protocol. A request counts for the tenant once it authenticated; ' +
          'refusals before that (no or wrong credentials, unknown tenant) belong to no tenant and are not shown. Counts reach the store ' +
          'every few seconds, so the newest bucket lags by that much.',
        tags: ['dashboard'],
        params: TENANT_PARAMS,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            hours: { type: 'integer', minimum: 1, maximum: MAX_DASHBOARD_HOURS, default: 24, description: `the window, 1 to ${MAX_DASHBOARD_HOURS} hours (14 days)` },
          },
        },
        response: { 200: DASHBOARD_SCHEMA, ...errorResponses(404) },
      },
    },
    async (request) => {
      const { tenant } = request.params as { tenant: string };
      const { hours } = request.query as { hours: number };
      const t = await tenantFor(ctx, principalOf(request), tenant, 'read');
      return tenantDashboard(ctx, t, { hours });
    },
  );
}
