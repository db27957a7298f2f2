// The logs a device uploaded (app and boot): a list with sizes and rotated segments, and the last
// lines of one, optionally only those matching a regular expression, each flagged as the console
// highlights them (TLS, certificate, DNS, file transfer, error).

import type { FastifyInstance } from 'fastify';
import type { AdminContext } from '../admin-context.js';
import { compileSearch, listDeviceLogs, searchDeviceLogs, tailDeviceLog, type LogKind } from '../phone-logs.js';
import { principalOf } from './auth-plugin.js';
import { ApiProblem } from './problem-json.js';
import { requireDeviceIn } from './routes-devices.js';
import { DEVICE_PATH_PARAMS, errorResponses } from './schemas.js';
import { tenantFor } from './tenant-access.js';

/** Most lines one request returns. */
export const MAX_TAIL = 10_000;

const SUMMARY_SCHEMA = {
  type: 'object',
  required: ['mac', 'kind', 'path', 'size', 'current', 'base', 'heldFrom', 'segments', 'updatedAt'],
  properties: {
    mac: { type: 'string' },
    kind: { type: 'string', enum: ['app', 'boot'] },
    path: { type: 'string' },
    size: { type: 'integer', description: 'every byte the phone ever uploaded, held or rotated away' },
    current: { type: 'integer', description: 'bytes of the current file' },
    base: { type: 'integer' },
    heldFrom: { type: 'integer', description: 'the first byte still held' },
    segments: {
      type: 'array',
      items: { type: 'object', properties: { number: { type: 'integer' }, start: { type: 'integer' }, size: { type: 'integer' }, rotatedAt: { type: 'string' } } },
    },
    updatedAt: { type: 'string' },
  },
} as const;

const LINE_SCHEMA = {
  type: 'object',
  required: ['offset', 'segment', 'time', 'module', 'level', 'text', 'raw', 'flags'],
  properties: {
    offset: { type: 'integer' },
    segment: { type: ['integer', 'null'], description: 'null for the current file, else the segment number (1 = newest)' },
    time: { type: ['string', 'null'] },
    module: { type: ['string', 'null'] },
    level: { type: ['integer', 'string', 'null'] },
    missed: { type: ['integer', 'null'] },
    text: { type: 'string' },
    raw: { type: 'string' },
    flags: { type: 'array', items: { type: 'string', enum: ['tls', 'certificate', 'dns', 'file-transfer', 'error'] } },
  },
} as const;

const LOG_PARAMS = {
  type: 'object',
  required: ['tenant', 'mac', 'kind'],
  properties: { ...DEVICE_PATH_PARAMS.properties, kind: { type: 'string', enum: ['app', 'boot'] } },
} as const;

export function registerLogRoutes(app: FastifyInstance, ctx: AdminContext): void {
  app.get(
    '/api/v1/tenants/:tenant/devices/:mac/logs',
    {
      schema: {
        summary: 'The logs a device uploaded, with sizes and rotated segments',
        tags: ['logs'],
        params: DEVICE_PATH_PARAMS,
        response: { 200: { type: 'object', required: ['items'], properties: { items: { type: 'array', items: SUMMARY_SCHEMA } } }, ...errorResponses(404) },
      },
    },
    async (request) => {
      const { tenant, mac } = request.params as { tenant: string; mac: string };
      const t = await tenantFor(ctx, principalOf(request), tenant, 'read');
      const d = await requireDeviceIn(ctx, t, mac);
      return { items: await listDeviceLogs(ctx, t, d.mac) };
    },
  );

  app.get(
    '/api/v1/tenants/:tenant/devices/:mac/logs/:kind',
    {
      schema: {
        summary: "The last lines of a device's app or boot log (segments included), optionally only those matching grep",
        tags: ['logs'],
        params: LOG_PARAMS,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            tail: { type: 'integer', minimum: 1, maximum: MAX_TAIL, default: 200, description: `how many lines, the last ones, 1 to ${MAX_TAIL}` },
            grep: { type: 'string', minLength: 1, maxLength: 500, description: 'a regular expression (JavaScript syntax) the raw line must match' },
            ignoreCase: { type: 'boolean', default: false },
          },
        },
        response: { 200: { type: 'object', required: ['log', 'lines'], properties: { log: SUMMARY_SCHEMA, lines: { type: 'array', items: LINE_SCHEMA } } }, ...errorResponses(404) },
      },
    },
    async (request) => {
      const { tenant, mac, kind } = request.params as { tenant: string; mac: string; kind: LogKind };
      const q = request.query as { tail: number; grep?: string; ignoreCase: boolean };
      const t = await tenantFor(ctx, principalOf(request), tenant, 'read');
      const d = await requireDeviceIn(ctx, t, mac);
      const log = (await listDeviceLogs(ctx, t, d.mac)).find((l) => l.kind === kind);
      if (!log) throw new ApiProblem(404, `device ${d.mac} has uploaded no ${kind} log (see GET /api/v1/tenants/${t.slug}/devices/${d.mac}/logs)`);
      if (q.grep === undefined) {
        const { lines } = await tailDeviceLog(ctx, t, d.mac, kind, q.tail);
        return { log, lines };
      }
      // Compiled before any reading, so a bad expression is a 400 saying why.
      const pattern = compileSearch(q.grep, q.ignoreCase);
      const lines = await searchDeviceLogs(ctx, t, { mac: d.mac, kind, pattern });
      return { log, lines: lines.slice(-q.tail) };
    },
  );
}
