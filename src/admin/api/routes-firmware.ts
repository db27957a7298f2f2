// Firmware of a tenant: the releases its phones can be sent to (its own library and the global
// one), how its phones stand against their targets, and the target version of one policy layer
// (?scope=, as for parameters): read with its ETag, set (If-Match once a target exists), unset;
// and importing a release zip into the tenant's library. Everything goes through
// admin/firmware.ts, so the API validates and warns exactly as the CLI. A release over the
// unpacked-size or entry limits (ReleaseLimits) is answered 413, as a zip over the upload limit
// is; a zip whose headers lie about its sizes is a malformed body, 400.

import { createWriteStream } from 'node:fs';
import { mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { FIRMWARE_ALLOW_DOWNGRADE, FIRMWARE_LOOP, FIRMWARE_TARGET } from '../../domain/firmware-policy.js';
import { compareFirmwareVersions, parseFirmwareVersion } from '../../domain/firmware-version.js';
import { normalizeModel } from '../../domain/models.js';
import type { Principal } from '../../domain/admin-roles.js';
import type { FirmwareRelease, Tenant } from '../../store/store.js';
import type { AdminContext } from '../admin-context.js';
import { AdminError } from '../admin-error.js';
import { audit } from '../audit-log.js';
import { findRelease, firmwareFleet, importRelease, listReleases, ReleaseTooLarge, removeRelease, setFirmwareTarget, unsetFirmwareTarget, type Library, type ReleaseLimits } from '../firmware.js';
import { resolveScope, type ScopeSelector } from '../parameters.js';
import { principalOf } from './auth-plugin.js';
import { etagOf, requireIfMatch } from './etag.js';
import { nextLink, PAGE_QUERY_PROPERTIES } from './pagination.js';
import { SCOPE_QUERY, scopeOf } from './parameter-scope.js';
import { ApiProblem } from './problem-json.js';
import { TENANT_PARAMS } from './routes-tenants.js';
import { errorResponses, IF_MATCH_HEADERS } from './schemas.js';
import { tenantFor } from './tenant-access.js';

const nullableString = { type: ['string', 'null'] } as const;

const IMAGE_SCHEMA = {
  type: 'object',
  required: ['fileName', 'kind', 'partNumber', 'models', 'size', 'sha256'],
  properties: {
    fileName: { type: 'string', description: 'the name phones ask for under the release folder' },
    kind: { type: 'string', enum: ['application', 'bootrom', 'updater', 'dect', 'file'] },
    partNumber: { ...nullableString, description: 'null for a combined image' },
    models: { type: 'array', items: { type: 'string' }, description: 'the models the part number belongs to ([] when unknown or combined)' },
    size: { type: 'integer', description: 'bytes' },
    sha256: { type: 'string', description: 'hex SHA-256 of the image' },
  },
} as const;

export const RELEASE_SCHEMA = {
  type: 'object',
  required: ['version', 'library', 'shadowed', 'folder', 'layout', 'source', 'createdAt', 'models', 'size', 'images'],
  properties: {
    version: { type: 'string' },
    library: { type: 'string', enum: ['tenant', 'global'], description: "the tenant's own library, or the global one every tenant shares" },
    shadowed: { type: 'boolean', description: "a global release the tenant's own copy of the same version hides from its phones" },
    folder: { type: 'string', description: 'where phones fetch it: firmware/<version>/' },
    layout: { type: 'string', enum: ['split', 'combined', 'mixed', 'files'] },
    source: { type: 'string', description: 'the zip or folder it was imported from' },
    createdAt: { type: 'string' },
    models: { type: 'array', items: { type: 'string' }, description: 'every model its images name' },
    size: { type: 'integer', description: 'bytes of all its images' },
    images: { type: 'array', items: IMAGE_SCHEMA },
  },
} as const;

const TARGET_SCHEMA = {
  type: 'object',
  required: ['scope', 'version', 'allowDowngrade', 'loopDetected'],
  properties: {
    scope: { type: 'string' },
    version: { ...nullableString, description: 'the version this layer targets, or null' },
    allowDowngrade: { type: 'boolean', description: 'phones running a newer version may go back to this one' },
    loopDetected: { ...nullableString, description: 'set by the server when it held devices after an upgrade loop; unsetting the target clears it' },
  },
} as const;


const VERSION_PARAMS = {
  type: 'object',
  required: ['tenant', 'version'],
  properties: { ...TENANT_PARAMS.properties, version: { type: 'string', minLength: 1, maxLength: 64, description: 'a UC Software version, e.g. 6.4.6.1234' } },
} as const;

/** What the API shows of a release; `shadowed` is decided by the caller, which sees both libraries. */
export function releaseView(r: FirmwareRelease, shadowed: boolean) {
  return {
    version: r.version,
    library: r.tenantId === null ? ('global' as const) : ('tenant' as const),
    shadowed,
    folder: `firmware/${r.version}/`,
    layout: r.layout,
    source: r.source,
    createdAt: r.createdAt,
    models: [...new Set(r.images.flatMap((i) => i.models))].sort(),
    size: r.images.reduce((n, i) => n + i.size, 0),
    images: r.images.map((i) => ({ fileName: i.fileName, kind: i.kind, partNumber: i.partNumber, models: i.models, size: i.size, sha256: i.blobKey })),
  };
}

export type ReleaseView = ReturnType<typeof releaseView>;

/** What the audit log records of a release: enough to know which bytes it was. */
export function importedView(v: ReleaseView) {
  return { version: v.version, library: v.library, layout: v.layout, source: v.source, images: v.images.map((i) => ({ fileName: i.fileName, size: i.size, sha256: i.sha256 })) };
}

/** Newest version first; of one version, the tenant's copy (the one phones get) before the global one. */
export function newestFirst(a: Pick<ReleaseView, 'version' | 'library'>, b: Pick<ReleaseView, 'version' | 'library'>): number {
  return compareFirmwareVersions(b.version, a.version) || (a.library === b.library ? 0 : a.library === 'tenant' ? -1 : 1);
}

const cursorOf = (r: Pick<ReleaseView, 'version' | 'library'>) => `${r.version}@${r.library}`;

/** Both libraries as the tenant sees them, newest first. */
async function releasesFor(ctx: AdminContext, t: Tenant): Promise<ReleaseView[]> {
  const [own, global] = await Promise.all([listReleases(ctx, t), listReleases(ctx, null)]);
  const ownVersions = new Set(own.map((r) => r.version));
  return [...own.map((r) => releaseView(r, false)), ...global.map((r) => releaseView(r, ownVersions.has(r.version)))].sort(newestFirst);
}

interface TargetView {
  scope: string;
  version: string | null;
  allowDowngrade: boolean;
  loopDetected: string | null;
}

/** The firmware settings of one layer; a model without a policy, like a layer that sets none, targets nothing. */
async function readTarget(ctx: AdminContext, t: Tenant, scopeText: string, sel: ScopeSelector): Promise<TargetView> {
  const none: TargetView = { scope: scopeText, version: null, allowDowngrade: false, loopDetected: null };
  if (sel.model !== undefined && !(await ctx.store.getModelPolicy(t.id, normalizeModel(sel.model)))) return none;
  let scope;
  try {
    scope = await resolveScope(ctx, t, sel, false);
  } catch (err) {
    // The layer's owner (site, group, device) does not exist in this tenant: the layer is not found.
    if (err instanceof AdminError) throw new ApiProblem(404, err.message.replace(/\(see: polyprov [^)]*\)/, `(see GET /api/v1/tenants/${t.slug})`));
    throw err;
  }
  const rows = await ctx.store.listParameters(t.id, scope);
  const value = (name: string) => rows.find((r) => r.name === name)?.value ?? null;
  return { scope: scopeText, version: value(FIRMWARE_TARGET), allowDowngrade: value(FIRMWARE_ALLOW_DOWNGRADE) === '1', loopDetected: value(FIRMWARE_LOOP) };
}

const isEmpty = (v: TargetView) => v.version === null && !v.allowDowngrade && v.loopDetected === null;
/** What the audit log records of a layer's firmware settings (null: none). */
const audited = (v: TargetView) => (isEmpty(v) ? null : { version: v.version, allowDowngrade: v.allowDowngrade, loopDetected: v.loopDetected });


/** Largest release zip accepted: Poly's split zips, every model in one, stay well below it. */
export const MAX_FIRMWARE_ZIP_BYTES = 2 * 1024 * 1024 * 1024;

/** The folder holding each upload's zip, by request: the body itself is never trusted as a path. */
const uploads = new WeakMap<FastifyRequest, string>();
const UPLOADED = 'application/zip body stored';

const tooLarge = () => new ApiProblem(413, `the release zip is larger than ${MAX_FIRMWARE_ZIP_BYTES / 1024 ** 3} GiB: import it on the server with polyprov firmware import`);

/** Streams a zip body to a file of its own temporary folder, refusing it past the size limit. */
async function receiveZip(request: FastifyRequest, payload: NodeJS.ReadableStream): Promise<string> {
  if (Number(request.headers['content-length']) > MAX_FIRMWARE_ZIP_BYTES) throw tooLarge();
  const dir = await mkdtemp(join(tmpdir(), 'polyprov-firmware-upload-'));
  let size = 0;
  const limit = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      size += chunk.length;
      done(size > MAX_FIRMWARE_ZIP_BYTES ? tooLarge() : null, chunk);
    },
  });
  try {
    await pipeline(payload, limit, createWriteStream(join(dir, 'upload.zip')));
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  uploads.set(request, dir);
  return UPLOADED;
}

async function dropUpload(request: FastifyRequest): Promise<void> {
  const dir = uploads.get(request);
  uploads.delete(request);
  if (dir) await rm(dir, { recursive: true, force: true });
}

/** One zip-upload route: where it is, who may use it, and which library it imports into. */
export interface ReleaseUploadRoute {
  url: string;
  summary: string;
  params?: object;
  /** Refuses (403/404) before the body is read (and again in the handler); answers the library and who asks. */
  libraryFor(request: FastifyRequest): Promise<{ lib: Library; principal: Principal }>;
  /** Where the imported release can be read. */
  location(lib: Library, version: string): string;
}

/**
 * A POST that imports a release zip (the body, application/zip), in a plugin of its own so that
 * the application/zip parser (a stream to a temporary file, not a buffer) applies to this route
 * only. The library is checked before the body is read, so a refused client cannot make the
 * server store a large file first.
 */
export function registerReleaseUpload(app: FastifyInstance, ctx: AdminContext, route: ReleaseUploadRoute, limits: ReleaseLimits = {}): void {
  void app.register(async (zipApp) => {
    zipApp.addContentTypeParser('application/zip', async (request: FastifyRequest, payload: NodeJS.ReadableStream) => receiveZip(request, payload));
    // A request refused after its body was stored (a bad query) never reaches the handler.
    zipApp.addHook('onResponse', async (request) => dropUpload(request));
    zipApp.post(
      route.url,
      {
        onRequest: async (request) => {
          await route.libraryFor(request);
        },
        schema: {
          summary: route.summary,
          tags: ['firmware'],
          consumes: ['application/zip'],
          ...(route.params ? { params: route.params } : {}),
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: {
              filename: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,195}\\.zip$', default: 'release.zip', description: "the zip's name, which may carry the version (UC_Software_6_4_6_1234_release_sig_split.zip)" },
              version: { type: 'string', minLength: 1, maxLength: 64, description: 'the version, when neither sip.ver nor the name tells it' },
              files: { type: 'boolean', default: false, description: 'keep every file under its own path (Poly Rove firmware and the like); needs version' },
            },
          },
          body: {
            type: 'string',
            description: `the release zip (application/zip, at most ${MAX_FIRMWARE_ZIP_BYTES / 1024 ** 3} GiB); 413 when it is larger, or when its images unpack past the server's limit (2 GiB unless configured) or it holds too many files`,
          },
          response: { 201: RELEASE_SCHEMA, ...errorResponses(404, 413) },
        },
      },
      async (request, reply) => {
        const q = request.query as { filename: string; version?: string; files: boolean };
        const { lib, principal } = await route.libraryFor(request);
        const dir = uploads.get(request);
        if (!dir) throw new ApiProblem(415, 'send the release zip itself as the body, with Content-Type: application/zip');
        let release: FirmwareRelease;
        try {
          const zip = join(dir, q.filename);
          await rename(join(dir, 'upload.zip'), zip);
          release = await importRelease(ctx, lib, [zip], { ...limits, ...(q.version !== undefined ? { version: q.version } : {}), ...(q.files ? { files: true } : {}) });
        } catch (err) {
          // The temporary folder means nothing to the client: name the zip as it sent it.
          if (err instanceof AdminError) {
            const detail = err.message.split(`${dir}/`).join('');
            throw err instanceof ReleaseTooLarge ? new ApiProblem(413, detail) : new AdminError(detail);
          }
          throw err;
        } finally {
          await dropUpload(request);
        }
        const view = releaseView(release, false);
        await audit(ctx, principal, {
          action: 'firmware.import',
          tenantId: lib?.id ?? null,
          target: `firmware ${view.version}`,
          after: importedView(view),
          ip: request.ip,
        });
        reply.code(201).header('location', route.location(lib, view.version));
        return view;
      },
    );
  });
}

/** What the firmware routes take from the API's options. */
export interface FirmwareRouteOptions {
  /** Unpacked-size and entry limits of uploaded releases (admin/firmware.ts's defaults otherwise). */
  limits?: ReleaseLimits;
}

export function registerFirmwareRoutes(app: FastifyInstance, ctx: AdminContext, opts: FirmwareRouteOptions = {}): void {
  registerReleaseUpload(
    app,
    ctx,
    {
      url: '/api/v1/tenants/:tenant/firmware',
      summary: "Import a release zip as Poly publishes it into the tenant's library (the body is the zip, application/zip)",
      params: TENANT_PARAMS,
      libraryFor: async (request) => {
        const principal = principalOf(request);
        return { lib: await tenantFor(ctx, principal, (request.params as { tenant: string }).tenant, 'write'), principal };
      },
      location: (lib, version) => `/api/v1/tenants/${lib!.slug}/firmware/${version}`,
    },
    opts.limits,
  );

  app.get(
    '/api/v1/tenants/:tenant/firmware',
    {
      schema: {
        summary: "The firmware releases a tenant's phones can be sent to: its own library and the global one, newest first",
        tags: ['firmware'],
        params: TENANT_PARAMS,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            library: { type: 'string', enum: ['tenant', 'global'], description: 'only this library' },
            limit: PAGE_QUERY_PROPERTIES.limit,
            cursor: { type: 'string', pattern: '^[0-9.]{1,64}@(tenant|global)$', description: 'the "next" value of the previous page' },
          },
        },
        response: {
          200: { type: 'object', required: ['items', 'next'], properties: { items: { type: 'array', items: RELEASE_SCHEMA }, next: nullableString } },
          ...errorResponses(404),
        },
      },
    },
    async (request, reply) => {
      const { tenant } = request.params as { tenant: string };
      const q = request.query as { library?: 'tenant' | 'global'; limit: number; cursor?: string };
      const t = await tenantFor(ctx, principalOf(request), tenant, 'read');
      let releases = (await releasesFor(ctx, t)).filter((r) => q.library === undefined || r.library === q.library);
      if (q.cursor !== undefined) {
        const [version, library] = q.cursor.split('@') as [string, 'tenant' | 'global'];
        const after = { version: parseFirmwareVersion(version), library };
        releases = releases.filter((r) => newestFirst(r, after) > 0);
      }
      const items = releases.slice(0, q.limit);
      const next = releases.length > q.limit ? cursorOf(items[items.length - 1]!) : null;
      if (next !== null) reply.header('link', nextLink(request.url, next));
      return { items, next };
    },
  );

  app.get(
    '/api/v1/tenants/:tenant/firmware/:version',
    {
      schema: {
        summary: "One release: by default the one the tenant's phones get (its own copy, else the global one)",
        tags: ['firmware'],
        params: VERSION_PARAMS,
        querystring: { type: 'object', additionalProperties: false, properties: { library: { type: 'string', enum: ['tenant', 'global'], description: 'this library only' } } },
        response: { 200: RELEASE_SCHEMA, ...errorResponses(404) },
      },
    },
    async (request, reply) => {
      const { tenant, version } = request.params as { tenant: string; version: string };
      const { library } = request.query as { library?: 'tenant' | 'global' };
      const t = await tenantFor(ctx, principalOf(request), tenant, 'read');
      const v = parseFirmwareVersion(version);
      const own = await ctx.store.getFirmwareRelease(t.id, v);
      const release = library === 'tenant' ? own : library === 'global' ? await ctx.store.getFirmwareRelease(null, v) : await findRelease(ctx, t, v);
      if (!release) {
        const where = library === 'tenant' ? `tenant "${t.slug}"'s library` : library === 'global' ? 'the global library' : `tenant "${t.slug}"'s library or the global one`;
        throw new ApiProblem(404, `no firmware ${v} in ${where} (see GET /api/v1/tenants/${t.slug}/firmware for the versions there; import it with polyprov firmware import)`);
      }
      const view = releaseView(release, release.tenantId === null && own !== undefined);
      reply.header('etag', etagOf(view));
      return view;
    },
  );

  app.delete(
    '/api/v1/tenants/:tenant/firmware/:version',
    {
      schema: {
        summary: "Remove a release from the tenant's own library when no policy targets it and no rollout needs it (If-Match: its ETag); the global library is DELETE /api/v1/firmware/{version}",
        tags: ['firmware'],
        params: VERSION_PARAMS,
        headers: IF_MATCH_HEADERS,
        response: { 204: { description: 'Removed.', type: 'null' }, ...errorResponses(404, 412, 428) },
      },
    },
    async (request, reply) => {
      const { tenant, version } = request.params as { tenant: string; version: string };
      const principal = principalOf(request);
      const t = await tenantFor(ctx, principal, tenant, 'write');
      const v = parseFirmwareVersion(version);
      const own = await ctx.store.getFirmwareRelease(t.id, v);
      if (!own) throw new ApiProblem(404, `no firmware ${v} in tenant "${t.slug}"'s own library (see GET /api/v1/tenants/${t.slug}/firmware?library=tenant; the global library is managed with polyprov firmware remove --global or, by a super-admin, DELETE /api/v1/firmware/${v})`);
      const before = releaseView(own, false);
      requireIfMatch(request, etagOf(before));
      await removeRelease(ctx, t, v);
      await audit(ctx, principal, { action: 'firmware.remove', tenantId: t.id, target: `firmware ${v}`, before: importedView(before), ip: request.ip });
      return reply.code(204).send();
    },
  );

  app.get(
    '/api/v1/tenants/:tenant/firmware-status',
    {
      schema: {
        summary: "How many of the tenant's phones run which version, against which target (from what they report)",
        tags: ['firmware'],
        params: TENANT_PARAMS,
        querystring: { type: 'object', additionalProperties: false, properties: {} },
        response: {
          200: {
            type: 'object',
            required: ['items'],
            properties: {
              items: {
                type: 'array',
                items: {
                  type: 'object',
                  required: ['running', 'target', 'devices', 'state'],
                  properties: {
                    running: { type: 'string', description: 'the version the phones report, or "never seen"' },
                    target: { type: 'string', description: 'what their policy or rollout targets, or "none"' },
                    devices: { type: 'integer' },
                    state: { type: 'string', enum: ['on-target', 'not-on-target', 'no-target'] },
                  },
                },
              },
            },
          },
          ...errorResponses(404),
        },
      },
    },
    async (request) => {
      const { tenant } = request.params as { tenant: string };
      const t = await tenantFor(ctx, principalOf(request), tenant, 'read');
      const rows = await firmwareFleet(ctx, t);
      // The same judgement as `polyprov firmware status`: a row is off target only when it has one.
      return { items: rows.map((r) => ({ ...r, state: r.target === 'none' ? 'no-target' : r.running === r.target ? 'on-target' : 'not-on-target' })) };
    },
  );

  app.get(
    '/api/v1/tenants/:tenant/firmware-target',
    {
      schema: {
        summary: 'The firmware target one layer sets (version null: none), with its ETag',
        tags: ['firmware'],
        params: TENANT_PARAMS,
        querystring: SCOPE_QUERY,
        response: { 200: TARGET_SCHEMA, ...errorResponses(404) },
      },
    },
    async (request, reply) => {
      const { tenant } = request.params as { tenant: string };
      const t = await tenantFor(ctx, principalOf(request), tenant, 'read');
      const { text, sel } = scopeOf(request);
      const view = await readTarget(ctx, t, text, sel);
      reply.header('etag', etagOf(view));
      return view;
    },
  );

  app.put(
    '/api/v1/tenants/:tenant/firmware-target',
    {
      schema: {
        summary: 'Set the firmware target of one layer (If-Match required once the layer has one); answers the prerequisite warnings',
        tags: ['firmware'],
        params: TENANT_PARAMS,
        querystring: SCOPE_QUERY,
        headers: IF_MATCH_HEADERS,
        body: {
          type: 'object',
          required: ['version'],
          additionalProperties: false,
          properties: {
            version: { type: 'string', minLength: 1, maxLength: 64, description: "a version in the tenant's library or the global one" },
            allowDowngrade: { type: 'boolean', default: false, description: 'let phones that run a newer version go back to this one' },
          },
        },
        response: {
          200: {
            type: 'object',
            required: [...TARGET_SCHEMA.required, 'library', 'warnings'],
            properties: {
              ...TARGET_SCHEMA.properties,
              library: { type: 'string', enum: ['tenant', 'global'], description: 'the library the release phones get comes from' },
              warnings: { type: 'array', items: { type: 'string' }, description: "one line per prerequisite (Updater, BootROM, intermediate release) some of the layer's phones may lack" },
            },
          },
          ...errorResponses(404, 412, 428),
        },
      },
    },
    async (request, reply) => {
      const { tenant } = request.params as { tenant: string };
      const body = request.body as { version: string; allowDowngrade: boolean };
      const principal = principalOf(request);
      const t = await tenantFor(ctx, principal, tenant, 'write');
      const { text, sel } = scopeOf(request);
      const before = await readTarget(ctx, t, text, sel);
      // Setting a first target needs no tag (there is nothing to have read); replacing one does, and a tag sent anyway is checked.
      if (!isEmpty(before) || request.headers['if-match'] !== undefined) requireIfMatch(request, etagOf(before));
      const { release, warnings } = await setFirmwareTarget(ctx, t, sel, body.version, { allowDowngrade: body.allowDowngrade });
      const after = await readTarget(ctx, t, text, sel);
      const library = release.tenantId === null ? 'global' : 'tenant';
      await audit(ctx, principal, { action: 'firmware.target.set', tenantId: t.id, target: `firmware target of ${text}`, before: audited(before), after: { ...audited(after), library }, ip: request.ip });
      reply.header('etag', etagOf(after));
      return { ...after, library, warnings };
    },
  );

  app.delete(
    '/api/v1/tenants/:tenant/firmware-target',
    {
      schema: {
        summary: 'Remove the firmware target of one layer, with its downgrade permission and upgrade-loop hold (If-Match required)',
        tags: ['firmware'],
        params: TENANT_PARAMS,
        querystring: SCOPE_QUERY,
        headers: IF_MATCH_HEADERS,
        response: { 200: TARGET_SCHEMA, ...errorResponses(404, 412, 428) },
      },
    },
    async (request, reply) => {
      const { tenant } = request.params as { tenant: string };
      const principal = principalOf(request);
      const t = await tenantFor(ctx, principal, tenant, 'write');
      const { text, sel } = scopeOf(request);
      const before = await readTarget(ctx, t, text, sel);
      requireIfMatch(request, etagOf(before));
      if (isEmpty(before)) throw new ApiProblem(404, `${text} sets no firmware target (see GET /api/v1/tenants/${t.slug}/firmware-status for the targets phones follow)`);
      await unsetFirmwareTarget(ctx, t, sel);
      const after = await readTarget(ctx, t, text, sel);
      await audit(ctx, principal, { action: 'firmware.target.unset', tenantId: t.id, target: `firmware target of ${text}`, before: audited(before), after: audited(after), ip: request.ip });
      reply.header('etag', etagOf(after));
      return after;
    },
  );
}
