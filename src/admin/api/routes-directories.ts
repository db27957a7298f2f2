// Contact directories: the tenant's site directory (contacts/000000000000-directory.xml, read by
// every phone without one of its own) and one device's directory, as JSON and CSV, and replaced or
// merged from a CSV body. The ETag is the stored content's blob key. Where no directory exists yet,
// a PUT needs no If-Match (there is nothing to overwrite; If-None-Match: * guards against a
// concurrent create); once one exists, it needs If-Match like every edit. Registered in its own
// plugin: the text/csv body parser (bytes decoded as UTF-8 or UTF-16 with a BOM) applies here only.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Tenant } from '../../store/store.js';
import type { AdminContext } from '../admin-context.js';
import { audit } from '../audit-log.js';
import {
  decodeCsv,
  directoryCsv,
  DirectoryImportError,
  importSiteDirectory,
  setDeviceDirectory,
  showDirectory,
  type DirectoryView,
  type ImportOptions,
  type ImportResult,
} from '../directories.js';
import { principalOf } from './auth-plugin.js';
import { ApiProblem, type ProblemFieldError } from './problem-json.js';
import { blobEtag, requirePutPreconditions } from './routes-files.js';
import { TENANT_PARAMS } from './routes-tenants.js';
import { DEVICE_PATH_PARAMS, errorResponses } from './schemas.js';
import { tenantFor } from './tenant-access.js';

/** Largest CSV body accepted (tens of thousands of contacts fit). */
export const MAX_DIRECTORY_CSV_BYTES = 10 * 1024 * 1024;

const NULLABLE_STRING = { type: ['string', 'null'] } as const;

const DIRECTORY_SCHEMA = {
  type: 'object',
  required: ['tenant', 'mac', 'source', 'contacts', 'problems', 'readable', 'blobKey'],
  properties: {
    tenant: { type: 'string' },
    mac: { ...NULLABLE_STRING, description: 'null for the site directory' },
    source: {
      type: 'object',
      required: ['kind', 'path'],
      description: "where the directory comes from: the site file, the device's newest upload (the phone's or an administrator's), a file of the tree, or none",
      properties: {
        kind: { type: 'string', enum: ['site-file', 'device-upload', 'device-file', 'none'] },
        path: { type: 'string' },
        size: { type: 'integer' },
        storedAt: { type: 'string' },
        version: { type: 'integer' },
        versions: { type: 'integer' },
        problem: NULLABLE_STRING,
      },
    },
    contacts: {
      type: 'array',
      items: {
        type: 'object',
        required: ['firstName', 'lastName', 'contact'],
        properties: {
          firstName: { type: 'string' },
          lastName: { type: 'string' },
          contact: { type: 'string', description: 'the number or SIP URI dialled' },
          speedDial: { type: 'integer' },
          label: { type: 'string' },
          protocol: { type: 'string' },
          ringType: { type: 'integer' },
          divertContact: { type: 'string' },
          autoDivert: { type: 'boolean' },
          autoReject: { type: 'boolean' },
          buddyWatch: { type: 'boolean' },
          buddyBlock: { type: 'boolean' },
        },
      },
    },
    problems: { type: 'array', items: { type: 'string' } },
    readable: { type: 'boolean', description: 'false when the stored file is not a directory at all' },
    blobKey: { ...NULLABLE_STRING, description: 'the stored content (its ETag in quotes), null when there is none' },
  },
} as const;

const IMPORT_RESULT_SCHEMA = {
  type: 'object',
  required: ['tenant', 'mac', 'path', 'dryRun', 'imported', 'replaced', 'added', 'removed', 'total', 'skipped', 'changed', 'warnings'],
  properties: {
    tenant: { type: 'string' },
    mac: NULLABLE_STRING,
    path: { type: 'string' },
    dryRun: { type: 'boolean', description: 'true: nothing was stored' },
    imported: { type: 'integer' },
    replaced: { type: 'integer' },
    added: { type: 'integer' },
    removed: { type: 'integer' },
    total: { type: 'integer', description: 'contacts in the directory now (or after the import, for a dry run)' },
    skipped: { type: 'array', items: { type: 'object', properties: { line: { type: ['integer', 'null'] }, message: { type: 'string' } } } },
    changed: { type: 'boolean', description: 'false when the result is byte for byte what was stored' },
    version: { type: 'integer', description: "a device's directory: the upload version phones are served" },
    warnings: { type: 'array', items: { type: 'string' } },
  },
} as const;

const IMPORT_QUERY = {
  type: 'object',
  additionalProperties: false,
  properties: {
    mode: { type: 'string', enum: ['replace', 'merge'], default: 'replace', description: "merge: a row replaces the contact with its number or is added; the directory's other contacts stay" },
    dryRun: { type: 'boolean', default: false, description: 'say what the import would do, store nothing' },
    skipBadRows: { type: 'boolean', default: false, description: 'store the good rows when some are bad (they are listed in skipped)' },
  },
} as const;

const CSV_BODY = { type: 'string', minLength: 1, description: `a CSV file with a header row (First name, Last name, Number, Speed dial, Label, …), UTF-8 or UTF-16 with a BOM, at most ${MAX_DIRECTORY_CSV_BYTES / 1024 / 1024} MB` } as const;

const CSV_RESPONSE = { description: 'the directory as CSV (a header only when it is empty)', content: { 'text/csv': { schema: { type: 'string' } } } } as const;

// Refuses stray query fields on reads, so a typo is a 400 rather than silently ignored.
const NO_QUERY = { type: 'object', additionalProperties: false, properties: {} } as const;

type ImportQuery = { mode: 'replace' | 'merge'; dryRun: boolean; skipBadRows: boolean };

function etagOfDirectory(view: DirectoryView): string | null {
  return view.blobKey === null ? null : blobEtag(view.blobKey);
}

function sendView(reply: FastifyReply, view: DirectoryView): DirectoryView {
  const tag = etagOfDirectory(view);
  if (tag !== null) reply.header('etag', tag);
  return view;
}

/** A refused CSV: every problem with its line, as the CSV import route lists them. */
function refusal(err: DirectoryImportError): ApiProblem {
  const errors: ProblemFieldError[] = err.problems.map((p) => ({ pointer: p.line === null ? 'body' : `body/line/${p.line}`, detail: p.message, line: p.line, message: p.message }));
  return new ApiProblem(400, err.message, {}, errors);
}

/** Runs an import (or its dry run), turning a refused CSV into a 400 that lists each line. */
async function runImport(q: ImportQuery, run: (opts: ImportOptions) => Promise<ImportResult>): Promise<ImportResult> {
  try {
    return await run({ mode: q.mode, skipBadRows: q.skipBadRows, dryRun: q.dryRun });
  } catch (err) {
    if (err instanceof DirectoryImportError) throw refusal(err);
    throw err;
  }
}

/** What the audit log records of a directory: where it is, its content's blob (kept for ever) and how many contacts. */
function audited(view: DirectoryView) {
  return { path: view.source.path, blobKey: view.blobKey, contacts: view.contacts.length };
}

async function importAndAnswer(
  ctx: AdminContext,
  request: FastifyRequest,
  reply: FastifyReply,
  t: Tenant,
  mac: string | undefined,
  run: (csv: string, opts: ImportOptions) => Promise<ImportResult>,
) {
  const q = request.query as ImportQuery;
  const before = await showDirectory(ctx, t, mac);
  requirePutPreconditions(request, etagOfDirectory(before));
  const result = await runImport(q, (opts) => run(request.body as string, opts));
  const after = result.dryRun ? before : await showDirectory(ctx, t, mac);
  if (!result.dryRun && result.changed) {
    await audit(ctx, principalOf(request), {
      action: mac === undefined ? 'directory.import' : 'directory.set',
      tenantId: t.id,
      target: mac === undefined ? 'site directory' : `directory of device ${after.mac}`,
      before: audited(before),
      after: { ...audited(after), mode: q.mode, imported: result.imported, replaced: result.replaced, added: result.added, removed: result.removed },
      ip: request.ip,
    });
  }
  const tag = etagOfDirectory(after);
  if (tag !== null) reply.header('etag', tag);
  return result;
}

function sendCsv(reply: FastifyReply, view: DirectoryView, name: string) {
  const tag = etagOfDirectory(view);
  if (tag !== null) reply.header('etag', tag);
  reply.header('content-disposition', `attachment; filename="${name}"`);
  return reply.type('text/csv; charset=utf-8').send(directoryCsv(view));
}

/** Routes of the site and device directories; call it inside its own plugin (it adds the text/csv parser). */
export function registerDirectoryRoutes(app: FastifyInstance, ctx: AdminContext): void {
  app.addContentTypeParser('text/csv', { parseAs: 'buffer', bodyLimit: MAX_DIRECTORY_CSV_BYTES }, (_request, body, done) => {
    try {
      done(null, decodeCsv(body as Buffer, 'the CSV body'));
    } catch (err) {
      done(err as Error);
    }
  });

  app.get(
    '/api/v1/tenants/:tenant/directory',
    {
      schema: {
        summary: 'The site directory: contacts every phone without a directory of its own reads',
        tags: ['directories'],
        params: TENANT_PARAMS,
        querystring: NO_QUERY,
        response: { 200: DIRECTORY_SCHEMA, ...errorResponses(404) },
      },
    },
    async (request, reply) => {
      const { tenant } = request.params as { tenant: string };
      const t = await tenantFor(ctx, principalOf(request), tenant, 'read');
      return sendView(reply, await showDirectory(ctx, t));
    },
  );

  app.get(
    '/api/v1/tenants/:tenant/directory.csv',
    {
      schema: { summary: 'The site directory as CSV, in the shape PUT takes', tags: ['directories'], produces: ['text/csv'], params: TENANT_PARAMS, querystring: NO_QUERY, response: { 200: CSV_RESPONSE, ...errorResponses(404) } },
    },
    async (request, reply) => {
      const { tenant } = request.params as { tenant: string };
      const t = await tenantFor(ctx, principalOf(request), tenant, 'read');
      return sendCsv(reply, await showDirectory(ctx, t), `${t.slug}-directory.csv`);
    },
  );

  app.put(
    '/api/v1/tenants/:tenant/directory',
    {
      bodyLimit: MAX_DIRECTORY_CSV_BYTES,
      schema: {
        summary: 'Replace or merge the site directory from a CSV file (If-Match once it exists; all or nothing unless skipBadRows)',
        tags: ['directories'],
        consumes: ['text/csv'],
        params: TENANT_PARAMS,
        querystring: IMPORT_QUERY,
        headers: { type: 'object', properties: { 'if-match': { type: 'string', description: 'the ETag of the directory (needed once one exists)' }, 'if-none-match': { type: 'string', description: '* to create only' } } },
        body: CSV_BODY,
        response: { 200: IMPORT_RESULT_SCHEMA, ...errorResponses(404, 412, 413, 428) },
      },
    },
    async (request, reply) => {
      const { tenant } = request.params as { tenant: string };
      const t = await tenantFor(ctx, principalOf(request), tenant, 'write');
      return importAndAnswer(ctx, request, reply, t, undefined, (csv, opts) => importSiteDirectory(ctx, t, csv, opts));
    },
  );

  app.get(
    '/api/v1/tenants/:tenant/devices/:mac/directory',
    {
      schema: {
        summary: "The directory a device is served: its newest upload (the phone's or an administrator's), else a tree file; source none means it reads the site directory",
        tags: ['directories'],
        params: DEVICE_PATH_PARAMS,
        querystring: NO_QUERY,
        response: { 200: DIRECTORY_SCHEMA, ...errorResponses(404) },
      },
    },
    async (request, reply) => {
      const { tenant, mac } = request.params as { tenant: string; mac: string };
      const t = await tenantFor(ctx, principalOf(request), tenant, 'read');
      return sendView(reply, await showDirectory(ctx, t, mac));
    },
  );

  app.get(
    '/api/v1/tenants/:tenant/devices/:mac/directory.csv',
    {
      schema: { summary: "A device's directory as CSV, in the shape PUT takes", tags: ['directories'], produces: ['text/csv'], params: DEVICE_PATH_PARAMS, querystring: NO_QUERY, response: { 200: CSV_RESPONSE, ...errorResponses(404) } },
    },
    async (request, reply) => {
      const { tenant, mac } = request.params as { tenant: string; mac: string };
      const t = await tenantFor(ctx, principalOf(request), tenant, 'read');
      const view = await showDirectory(ctx, t, mac);
      return sendCsv(reply, view, `${view.mac}-directory.csv`);
    },
  );

  app.put(
    '/api/v1/tenants/:tenant/devices/:mac/directory',
    {
      bodyLimit: MAX_DIRECTORY_CSV_BYTES,
      schema: {
        summary: "Set a device's directory from a CSV file: recorded as its newest version, read by the phone next (If-Match once it has one)",
        tags: ['directories'],
        consumes: ['text/csv'],
        params: DEVICE_PATH_PARAMS,
        querystring: IMPORT_QUERY,
        headers: { type: 'object', properties: { 'if-match': { type: 'string', description: "the ETag of the device's directory (needed once it has one)" }, 'if-none-match': { type: 'string', description: '* to create only' } } },
        body: CSV_BODY,
        response: { 200: IMPORT_RESULT_SCHEMA, ...errorResponses(404, 412, 413, 428) },
      },
    },
    async (request, reply) => {
      const { tenant, mac } = request.params as { tenant: string; mac: string };
      const t = await tenantFor(ctx, principalOf(request), tenant, 'write');
      return importAndAnswer(ctx, request, reply, t, mac, (csv, opts) => setDeviceDirectory(ctx, t, mac, csv, opts));
    },
  );
}
