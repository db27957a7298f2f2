// The files of a tenant's tree (licences, ringtones, extra configuration, firmware copies…): list,
// read, add or replace with any content type, remove. A file's ETag is its blob key (the content's
// SHA-256), so it changes exactly when the bytes do. Registered in its own plugin: every body there
// is taken as raw bytes, whatever its content type, and streamed to the blob store.

import { Transform, type Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { StoredFile, Tenant } from '../../store/store.js';
import type { AdminContext } from '../admin-context.js';
import { audit } from '../audit-log.js';
import { checkTreePath, putTreeFile, removeFile } from '../files.js';
import { principalOf } from './auth-plugin.js';
import { parseIfMatch, requireIfMatch } from './etag.js';
import { PAGE_QUERY_PROPERTIES, replyPage } from './pagination.js';
import { ApiProblem } from './problem-json.js';
import { TENANT_PARAMS } from './routes-tenants.js';
import { errorResponses, IF_MATCH_HEADERS } from './schemas.js';
import { tenantFor } from './tenant-access.js';

/** Largest file a PUT stores: a combined firmware image fits. */
export const MAX_TREE_FILE_BYTES = 1024 ** 3;

/**
 * The path is the rest of the URL (a wildcard), so files in folders need no encoding. @fastify/swagger
 * writes the wildcard as the path parameter `{*}`.
 */
const FILE_PARAMS = {
  type: 'object',
  required: ['tenant', '*'],
  properties: { ...TENANT_PARAMS.properties, '*': { type: 'string', maxLength: 1024, description: 'the path in the tree, e.g. licenses/vvx.lic' } },
} as const;

const FILE_SCHEMA = {
  type: 'object',
  required: ['path', 'size', 'sha256', 'contentType', 'createdAt'],
  properties: {
    path: { type: 'string' },
    size: { type: 'integer' },
    sha256: { type: 'string', description: 'the content hash; the ETag is this in quotes' },
    contentType: { type: 'string' },
    createdAt: { type: 'string', description: 'when this content was stored' },
  },
} as const;

const ANY_CONTENT = { '*/*': { schema: { type: 'string', format: 'binary' } } } as const;

/** A file as lists and audit entries show it. */
export function fileView(f: StoredFile) {
  return { path: f.path, size: f.size, sha256: f.blobKey, contentType: f.contentType, createdAt: f.createdAt };
}

/** The strong ETag of stored content: its content address. */
export function blobEtag(blobKey: string): string {
  return `"${blobKey}"`;
}

/**
 * Preconditions of a PUT that creates or replaces. Something that exists needs If-Match (428
 * without, 412 when stale; `*` matches it), like every edit. Where nothing exists yet there is
 * nothing to overwrite, so no If-Match is needed; `If-Match: *` then fails (RFC 9110 §13.1.1: it
 * matches only a current representation), and `If-None-Match: *` makes a create fail if another
 * client created it first.
 */
export function requirePutPreconditions(request: FastifyRequest, current: string | null): void {
  const ifMatch = request.headers['if-match'];
  const ifNoneMatch = request.headers['if-none-match'];
  if (current === null) {
    if (ifMatch !== undefined && ifMatch !== '') {
      throw new ApiProblem(412, `nothing is stored there yet, so If-Match ${parseIfMatch(ifMatch).join(', ')} cannot match: send no If-Match (or If-None-Match: *) to create it`);
    }
    return;
  }
  if (ifNoneMatch !== undefined && parseIfMatch(ifNoneMatch).includes('*')) {
    throw new ApiProblem(412, `it exists already (ETag ${current}) and If-None-Match is *: GET it and send its ETag in If-Match to replace it`);
  }
  requireIfMatch(request, current);
}

function sendIfNoneMatch(request: FastifyRequest, current: string): boolean {
  const header = request.headers['if-none-match'];
  return header !== undefined && parseIfMatch(header).some((t) => t === '*' || t === current || t === `W/${current}`);
}

/** The path in the tree a request names, or 400 saying why it cannot be one. */
function treePathOf(request: FastifyRequest): string {
  return checkTreePath((request.params as Record<string, string>)['*'] ?? '');
}

async function requireFileIn(ctx: AdminContext, t: Tenant, path: string): Promise<StoredFile> {
  const f = await ctx.store.getFile(t.id, path);
  if (!f) throw new ApiProblem(404, `no file "${path}" in tenant "${t.slug}" (see GET /api/v1/tenants/${t.slug}/files)`);
  return f;
}

/** The body's bytes, cut off with 413 past the limit (a stream body is not held by fastify's bodyLimit). */
function limited(body: Readable | undefined, limit: number): Readable | Buffer {
  if (body === undefined) return Buffer.alloc(0);
  let seen = 0;
  const guard = new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      if (seen > limit) done(new ApiProblem(413, `the file is larger than ${limit} bytes, the most a PUT stores`));
      else done(null, chunk);
    },
  });
  body.on('error', (err) => guard.destroy(err));
  return body.pipe(guard);
}

function contentTypeOf(request: FastifyRequest): string | undefined {
  const type = request.headers['content-type'];
  if (type === undefined || type === '') return undefined;
  if (type.length > 200 || !/^[\x21-\x7e][\x20-\x7e]*$/.test(type)) throw new ApiProblem(400, 'the Content-Type header must be a media type such as application/octet-stream, at most 200 characters');
  return type;
}

/** Routes of /api/v1/tenants/{tenant}/files; call it inside its own plugin (it takes every body as a stream). */
export function registerFileRoutes(app: FastifyInstance, ctx: AdminContext): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));

  app.get(
    '/api/v1/tenants/:tenant/files',
    {
      schema: {
        summary: "List the files of a tenant's tree, by path",
        tags: ['files'],
        params: TENANT_PARAMS,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { prefix: { type: 'string', minLength: 1, maxLength: 1024, description: 'only paths that start with this, e.g. licenses/' }, ...PAGE_QUERY_PROPERTIES },
        },
        response: { 200: { type: 'object', required: ['items', 'next'], properties: { items: { type: 'array', items: FILE_SCHEMA }, next: { type: ['string', 'null'] } } }, ...errorResponses(404) },
      },
    },
    async (request, reply) => {
      const { tenant } = request.params as { tenant: string };
      const q = request.query as { prefix?: string; limit: number; cursor?: string };
      const t = await tenantFor(ctx, principalOf(request), tenant, 'read');
      const prefix = q.prefix?.replace(/^\/+/, '');
      const files = (await ctx.store.listFiles(t.id)).filter((f) => prefix === undefined || f.path.startsWith(prefix));
      return replyPage(request, reply, files, (f) => f.path, fileView);
    },
  );

  app.get(
    '/api/v1/tenants/:tenant/files/*',
    {
      schema: {
        summary: 'The content of one file, with its content type and ETag',
        tags: ['files'],
        params: FILE_PARAMS,
        querystring: { type: 'object', additionalProperties: false, properties: {} },
        response: { 200: { description: "the file's bytes", content: ANY_CONTENT }, 304: { description: 'If-None-Match names the current ETag.', type: 'null' }, ...errorResponses(404) },
      },
    },
    async (request, reply) => {
      const { tenant } = request.params as { tenant: string };
      const t = await tenantFor(ctx, principalOf(request), tenant, 'read');
      const f = await requireFileIn(ctx, t, treePathOf(request));
      const tag = blobEtag(f.blobKey);
      reply.header('etag', tag);
      if (sendIfNoneMatch(request, tag)) return reply.code(304).send();
      reply.header('content-length', String(f.size)).type(f.contentType);
      return reply.send(ctx.blobs.read(f.blobKey));
    },
  );

  app.put(
    '/api/v1/tenants/:tenant/files/*',
    {
      schema: {
        summary: 'Add or replace one file (any content type, raw body); replacing needs If-Match',
        description: `Without If-Match only a file that does not exist yet is stored (If-None-Match: * makes sure); at most ${MAX_TREE_FILE_BYTES} bytes. Names polyprov generates (master and device configuration files) are refused.`,
        tags: ['files'],
        params: FILE_PARAMS,
        headers: {
          type: 'object',
          properties: { ...IF_MATCH_HEADERS.properties, 'if-none-match': { type: 'string', description: '* to create only' } },
        },
        body: { content: ANY_CONTENT },
        response: { 200: FILE_SCHEMA, 201: FILE_SCHEMA, ...errorResponses(404, 412, 413, 428) },
      },
    },
    async (request, reply) => {
      const { tenant } = request.params as { tenant: string };
      const principal = principalOf(request);
      const t = await tenantFor(ctx, principal, tenant, 'write');
      const path = treePathOf(request);
      const contentType = contentTypeOf(request);
      const declared = Number(request.headers['content-length'] ?? 0);
      if (declared > MAX_TREE_FILE_BYTES) throw new ApiProblem(413, `the file is ${declared} bytes, more than the ${MAX_TREE_FILE_BYTES} a PUT stores`);
      const current = await ctx.store.getFile(t.id, path);
      requirePutPreconditions(request, current ? blobEtag(current.blobKey) : null);
      const stored = await putTreeFile(ctx, t, path, limited(request.body as Readable | undefined, MAX_TREE_FILE_BYTES), contentType);
      const view = fileView(stored);
      await audit(ctx, principal, { action: 'file.put', tenantId: t.id, target: `file ${path}`, before: current ? fileView(current) : null, after: view, ip: request.ip });
      reply.header('etag', blobEtag(stored.blobKey));
      if (!current) reply.code(201).header('location', `/api/v1/tenants/${t.slug}/files/${path}`);
      return view;
    },
  );

  app.delete(
    '/api/v1/tenants/:tenant/files/*',
    {
      schema: {
        summary: 'Remove one file (If-Match required)',
        tags: ['files'],
        params: FILE_PARAMS,
        headers: IF_MATCH_HEADERS,
        response: { 204: { description: 'Removed.', type: 'null' }, ...errorResponses(404, 412, 428) },
      },
    },
    async (request, reply) => {
      const { tenant } = request.params as { tenant: string };
      const principal = principalOf(request);
      const t = await tenantFor(ctx, principal, tenant, 'write');
      const current = await requireFileIn(ctx, t, treePathOf(request));
      requireIfMatch(request, blobEtag(current.blobKey));
      await removeFile(ctx, t, current.path);
      await audit(ctx, principal, { action: 'file.remove', tenantId: t.id, target: `file ${current.path}`, before: fileView(current), ip: request.ip });
      return reply.code(204).send();
    },
  );
}
