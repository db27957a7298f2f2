// CSV import and export of a tenant's sites, devices, groups or model policies. An import is all or
// nothing: a file with any error is refused with every error placed at its line and column, so an
// integrator can fix the file in one pass. Registered in its own plugin: the text/csv body parser
// (and its 50 MB limit) applies to this route only.

import type { FastifyInstance } from 'fastify';
import { IMPORT_KINDS, type ImportKind } from '../../domain/csv-import.js';
import type { AdminContext } from '../admin-context.js';
import { audit } from '../audit-log.js';
import { exportCsv, ImportRefused, importCsv } from '../bulk-import.js';
import { principalOf } from './auth-plugin.js';
import { ApiProblem, type ProblemFieldError } from './problem-json.js';
import { TENANT_PARAMS } from './routes-tenants.js';
import { errorResponses } from './schemas.js';
import { tenantFor } from './tenant-access.js';

/** Largest CSV body accepted (a fleet of 100,000 devices with parameters fits). */
export const MAX_CSV_BYTES = 50 * 1024 * 1024;

interface ImportQuery {
  kind?: ImportKind;
  mode: 'merge' | 'replace';
  dryRun: boolean;
  force: boolean;
}

const CHANGE_SCHEMA = {
  type: 'object',
  required: ['kind', 'key', 'line', 'action', 'fields', 'parameters', 'notes'],
  properties: {
    kind: { type: 'string', enum: ['site', 'device', 'group', 'model'] },
    key: { type: 'string' },
    line: { type: 'integer' },
    action: { type: 'string', enum: ['create', 'update'] },
    fields: { type: 'array', items: { type: 'object', properties: { field: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' } } } },
    parameters: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, from: { type: ['string', 'null'] }, to: { type: ['string', 'null'] } } } },
    notes: { type: 'array', items: { type: 'string' } },
  },
} as const;

const OUTCOME_SCHEMA = {
  type: 'object',
  required: ['kind', 'mode', 'dryRun', 'rows', 'changes', 'unchanged', 'counts', 'notes'],
  properties: {
    kind: { type: 'string', enum: IMPORT_KINDS },
    mode: { type: 'string', enum: ['merge', 'replace'] },
    dryRun: { type: 'boolean' },
    rows: { type: 'integer' },
    changes: { type: 'array', items: CHANGE_SCHEMA, description: 'records created or changed, in file order (secrets masked)' },
    unchanged: { type: 'integer' },
    counts: {
      type: ['object', 'null'],
      description: 'what the store applied; null for a dry run or when nothing changes',
      properties: {
        created: { type: 'object', additionalProperties: { type: 'integer' } },
        updated: { type: 'object', additionalProperties: { type: 'integer' } },
        parametersSet: { type: 'integer' },
        parametersRemoved: { type: 'integer' },
      },
    },
    notes: { type: 'array', items: { type: 'string' } },
  },
} as const;

/** The refusal of a file: each error as {line, column, message}, plus the pointer every problem error has. */
function refusal(err: ImportRefused): ApiProblem {
  const errors: ProblemFieldError[] = err.errors.map((e) => ({ pointer: `body/line/${e.line}/column/${e.column}`, detail: e.message, line: e.line, column: e.column, message: e.message }));
  return new ApiProblem(400, err.message, {}, errors);
}

export function registerImportRoutes(app: FastifyInstance, ctx: AdminContext): void {
  app.addContentTypeParser('text/csv', { parseAs: 'string', bodyLimit: MAX_CSV_BYTES }, (_request, body, done) => done(null, body));

  app.post(
    '/api/v1/tenants/:tenant/import',
    {
      bodyLimit: MAX_CSV_BYTES,
      schema: {
        summary: 'Import a CSV file of sites, devices, groups or model policies (all or nothing; dryRun shows the changes)',
        tags: ['import'],
        consumes: ['text/csv'],
        params: TENANT_PARAMS,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            kind: { type: 'string', enum: IMPORT_KINDS, description: 'what the file holds (default: told by its columns)' },
            mode: { type: 'string', enum: ['merge', 'replace'], default: 'merge', description: "replace: each record's parameters become exactly the file's" },
            dryRun: { type: 'boolean', default: false, description: 'describe the changes, apply nothing' },
            force: { type: 'boolean', default: false, description: 'accept what the import would otherwise refuse as risky' },
          },
        },
        body: { type: 'string', minLength: 1, description: `a CSV file (text/csv, at most ${MAX_CSV_BYTES / 1024 / 1024} MB)` },
        response: { 200: OUTCOME_SCHEMA, ...errorResponses(404) },
      },
    },
    async (request) => {
      const { tenant } = request.params as { tenant: string };
      const q = request.query as ImportQuery;
      const principal = principalOf(request);
      const t = await tenantFor(ctx, principal, tenant, 'write');
      let outcome;
      try {
        outcome = await importCsv(ctx, t, request.body as string, 'the CSV body', { ...(q.kind ? { kind: q.kind } : {}), mode: q.mode, dryRun: q.dryRun, force: q.force });
      } catch (err) {
        if (err instanceof ImportRefused) throw refusal(err);
        throw err;
      }
      if (!outcome.dryRun && outcome.counts !== null) {
        // Each change carries its field's value before and after (secrets masked by importCsv).
        await audit(ctx, principal, {
          action: 'csv.import',
          tenantId: t.id,
          target: `${outcome.kind} (${outcome.mode}, ${outcome.rows} rows)`,
          before: outcome.changes.map((c) => ({ key: c.key, action: c.action, fields: Object.fromEntries(c.fields.map((f) => [f.field, f.from])), parameters: Object.fromEntries(c.parameters.map((p) => [p.name, p.from])) })),
          after: outcome.changes.map((c) => ({ key: c.key, action: c.action, fields: Object.fromEntries(c.fields.map((f) => [f.field, f.to])), parameters: Object.fromEntries(c.parameters.map((p) => [p.name, p.to])) })),
          ip: request.ip,
        });
      }
      const { timings: _timings, ...shown } = outcome;
      return shown;
    },
  );

  app.get(
    '/api/v1/tenants/:tenant/export/:kind',
    {
      schema: {
        summary: "A tenant's sites, devices, groups or model policies as a CSV file that imports back to the same state",
        tags: ['import'],
        produces: ['text/csv'],
        params: { type: 'object', required: ['tenant', 'kind'], properties: { ...TENANT_PARAMS.properties, kind: { type: 'string', enum: IMPORT_KINDS } } },
        response: { 200: { description: 'the CSV file; X-Export-Warnings lists what it cannot carry', content: { 'text/csv': { schema: { type: 'string' } } } }, ...errorResponses(404) },
      },
    },
    async (request, reply) => {
      const { tenant, kind } = request.params as { tenant: string; kind: ImportKind };
      const t = await tenantFor(ctx, principalOf(request), tenant, 'read');
      const out = await exportCsv(ctx, t, kind);
      if (out.warnings.length) reply.header('x-export-warnings', out.warnings.map((w) => encodeURIComponent(w)).join(', '));
      reply.header('content-disposition', `attachment; filename="${t.slug}-${kind}.csv"`);
      return reply.type('text/csv; charset=utf-8').send(out.csv);
    },
  );
}
