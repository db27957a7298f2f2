// Why a device has the values it has: the same explanation as `polyprov explain`.

import type { FastifyInstance } from 'fastify';
import type { AdminContext } from '../admin-context.js';
import { explainDevice } from '../explain.js';
import { principalOf } from './auth-plugin.js';
import { TENANT_PARAMS } from './routes-tenants.js';
import { errorResponses } from './schemas.js';
import { tenantFor } from './tenant-access.js';

export function registerExplainRoutes(app: FastifyInstance, ctx: AdminContext): void {
  app.get(
    '/api/v1/tenants/:tenant/devices/:mac/explain',
    {
      schema: {
        summary: "A device's effective configuration: each value's layer, what it shadows, and the phone's own overrides",
        tags: ['devices'],
        params: { type: 'object', required: ['tenant', 'mac'], properties: { ...TENANT_PARAMS.properties, mac: { type: 'string', minLength: 12, maxLength: 17 } } },
        querystring: { type: 'object', additionalProperties: false, properties: { model: { type: 'string', minLength: 1, maxLength: 64, description: 'explain as if the phone were this model' } } },
        response: {
          200: {
            type: 'object',
            required: ['tenant', 'mac', 'registered', 'parameters', 'notes'],
            properties: {
              tenant: { type: 'string' },
              mac: { type: 'string' },
              registered: { type: 'boolean' },
              model: { type: ['string', 'null'] },
              site: { type: ['string', 'null'] },
              group: { type: ['string', 'null'] },
              configFiles: { type: 'array', items: { type: 'string' } },
              parameters: { type: 'array', items: { type: 'object', additionalProperties: true } },
              overrides: { type: 'object', additionalProperties: true },
              notes: { type: 'array', items: { type: 'string' } },
            },
          },
          ...errorResponses(404),
        },
      },
    },
    async (request) => {
      const { tenant, mac } = request.params as { tenant: string; mac: string };
      const { model } = request.query as { model?: string };
      const t = await tenantFor(ctx, principalOf(request), tenant, 'read');
      return explainDevice(ctx, t, mac, model);
    },
  );
}
