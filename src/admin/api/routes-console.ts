// What the web console needs beyond the resource routes: a check of one parameter name against the
// catalog of Poly's parameters, asked as the administrator types it (the catalog stays server-side:
// it is large, and the PATCH uses the same one), and the models polyprov knows, for pickers.

import type { FastifyInstance } from 'fastify';
import { knownModels } from '../../domain/models.js';
import { lookupParameter } from '../../domain/parameter-catalog.js';
import { errorResponses } from './schemas.js';

/** Adds GET /api/v1/parameter-names/check and GET /api/v1/model-names to `app` (inside the authenticated context). */
export function registerConsoleRoutes(app: FastifyInstance): void {
  app.get(
    '/api/v1/parameter-names/check',
    {
      schema: {
        summary: "Whether a parameter name is one of Poly's, and if not, what it may have meant",
        tags: ['parameters'],
        querystring: {
          type: 'object',
          required: ['name'],
          additionalProperties: false,
          properties: { name: { type: 'string', minLength: 1, maxLength: 256 } },
        },
        response: {
          200: {
            type: 'object',
            required: ['name', 'known', 'suggestions'],
            properties: {
              name: { type: 'string' },
              known: { type: 'boolean' },
              pattern: { type: 'string', description: 'the catalog entry, indices written *' },
              stockDefault: { type: 'string' },
              suggestions: { type: 'array', items: { type: 'string' }, description: 'close names (indices as typed) when unknown' },
            },
          },
          ...errorResponses(),
        },
      },
    },
    async (request) => {
      const { name } = request.query as { name: string };
      const found = lookupParameter(name);
      if (found.known) return { name, known: true, pattern: found.pattern, stockDefault: found.stockDefault, suggestions: [] };
      return { name, known: false, suggestions: found.suggestions };
    },
  );

  app.get(
    '/api/v1/model-names',
    {
      schema: {
        summary: 'The phone models polyprov knows (as phones spell them in their User-Agent), with their firmware part numbers',
        tags: ['models'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { prefix: { type: 'string', maxLength: 40, pattern: '^[A-Za-z0-9_ -]*$', description: 'only models starting with this, any case' } },
        },
        response: {
          200: {
            type: 'object',
            required: ['items'],
            properties: { items: { type: 'array', items: { type: 'object', required: ['model', 'partNumbers'], properties: { model: { type: 'string' }, partNumbers: { type: 'array', items: { type: 'string' } } } } } },
          },
          ...errorResponses(),
        },
      },
    },
    async (request) => {
      const prefix = ((request.query as { prefix?: string }).prefix ?? '').toLowerCase();
      return { items: knownModels().filter((m) => m.model.toLowerCase().startsWith(prefix)) };
    },
  );
}
