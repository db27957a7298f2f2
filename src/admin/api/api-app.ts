// The admin REST API as a fastify instance: cookie parsing, shared schemas, problem+json errors,
// the OpenAPI document and its browsable docs (public), and the resource routes behind the
// authentication hook (in their own encapsulated context, so the hook covers exactly them).

import cookie from '@fastify/cookie';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { AuthOptions } from '../admin-auth.js';
import type { AdminContext } from '../admin-context.js';
import { registerAuth } from './auth-plugin.js';
import { DOCS_PREFIX, OPENAPI_PATH, swaggerOptions } from './openapi.js';
import { ApiProblem, sendProblem } from './problem-json.js';
import { registerAuthRoutes } from './routes-auth.js';
import { registerConsoleStatic } from './console-static.js';
import { registerConsoleRoutes } from './routes-console.js';
import { registerDashboardRoutes } from './routes-dashboard.js';
import { registerDeviceRoutes } from './routes-devices.js';
import { registerExplainRoutes } from './routes-explain.js';
import { registerAuditRoutes } from './routes-audit.js';
import { registerGroupRoutes } from './routes-groups.js';
import { registerModelRoutes } from './routes-models.js';
import { registerUserRoutes } from './routes-users.js';
import { registerParameterRoutes } from './routes-parameters.js';
import { registerSiteRoutes } from './routes-sites.js';
import { registerTenantRoutes } from './routes-tenants.js';
import { registerResyncRoutes } from './routes-resync.js';
import { registerImportRoutes } from './routes-import.js';
import { registerOverrideRoutes } from './routes-overrides.js';
import { registerLogRoutes } from './routes-logs.js';
import { registerDirectoryRoutes } from './routes-directories.js';
import { registerFileRoutes } from './routes-files.js';
import { registerFirmwareRoutes } from './routes-firmware.js';
import { registerGlobalFirmwareRoutes } from './routes-global-firmware.js';
import type { ReleaseLimits } from '../firmware.js';
import { registerRolloutRoutes } from './routes-rollouts.js';
import type { ResyncRunOptions } from '../reach.js';
import { SHARED_SCHEMAS } from './schemas.js';

export interface AdminApiOptions {
  logger: Logger;
  /** TLS key and certificate: the API is served over HTTPS and the session cookie is Secure. */
  tls?: { key: string | Buffer; cert: string | Buffer };
  /** Login limits and session lifetimes (tests shorten them). */
  auth?: AuthOptions;
  /** Shown in the OpenAPI document. */
  version?: string;
  /** Passed to every resync run the API starts (tests bind SIP to loopback and shorten its timers). */
  reach?: Partial<ResyncRunOptions>;
  /** Unpacked-size and entry limits of release zips uploaded to the API (admin/firmware.ts's defaults otherwise). */
  firmwareLimits?: ReleaseLimits;
}

/** A route the API documents: method and path in OpenAPI form (`/api/v1/tenants/{tenant}`; a trailing wildcard is `{*}`, as @fastify/swagger writes it). */
export interface ApiRoute {
  method: string;
  path: string;
}

const documented = new WeakMap<FastifyInstance, ApiRoute[]>();

/** The routes of an instance built by buildAdminApi that its OpenAPI document must list (not the docs themselves). */
export function documentedRoutes(app: FastifyInstance): ApiRoute[] {
  return [...(documented.get(app) ?? [])];
}

/** Builds the API (not listening yet). Close it with app.close(). */
export async function buildAdminApi(ctx: AdminContext, opts: AdminApiOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: opts.logger,
    // One line per failure (below), none per request.
    logController: new LogController({ disableRequestLogging: true }),
    exposeHeadRoutes: false,
    ajv: { customOptions: { removeAdditional: false, allErrors: true } },
    ...(opts.tls ? { https: { key: opts.tls.key, cert: opts.tls.cert } } : {}),
  }) as unknown as FastifyInstance;

  const routes: ApiRoute[] = [];
  documented.set(app, routes);
  app.addHook('onRoute', (r) => {
    const schema = r.schema as { hide?: boolean } | undefined;
    if (schema?.hide || !r.url.startsWith('/api/v1/') || r.url.startsWith(DOCS_PREFIX)) return;
    for (const m of [r.method].flat()) routes.push({ method: m.toLowerCase(), path: r.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}').replace(/\*$/, '{*}') });
  });

  app.setErrorHandler((err, request, reply) => sendProblem(reply, request, err));
  app.setNotFoundHandler((request, reply) => sendProblem(reply, request, new ApiProblem(404, `no route ${request.method} ${request.url.split('?')[0]} (see ${OPENAPI_PATH})`)));

  await app.register(cookie);
  await app.register(swagger, swaggerOptions(opts.version ?? '0.1.0'));
  for (const s of SHARED_SCHEMAS) app.addSchema(s);
  await app.register(swaggerUi, { routePrefix: DOCS_PREFIX });
  app.get(OPENAPI_PATH, { schema: { hide: true }, config: { public: true } }, async () => app.swagger());

  await registerConsoleStatic(app);
  await app.register(async (api) => {
    registerAuth(api, ctx, opts.auth);
    registerAuthRoutes(api, ctx, { secureCookie: !!opts.tls, ...(opts.auth ? { auth: opts.auth } : {}) });
    registerTenantRoutes(api, ctx);
    registerSiteRoutes(api, ctx);
    registerDeviceRoutes(api, ctx);
    registerDashboardRoutes(api, ctx);
    registerParameterRoutes(api, ctx);
    registerExplainRoutes(api, ctx);
    registerConsoleRoutes(api);
    registerGroupRoutes(api, ctx);
    registerModelRoutes(api, ctx);
    registerUserRoutes(api, ctx);
    registerAuditRoutes(api, ctx);
    registerResyncRoutes(api, ctx, { logger: opts.logger, ...(opts.reach ? { reach: opts.reach } : {}) });
    await api.register(async (csv) => registerImportRoutes(csv, ctx));
    registerOverrideRoutes(api, ctx);
    registerLogRoutes(api, ctx);
    // Each in its own plugin: their body parsers (text/csv; raw bytes of any type) stay there.
    await api.register(async (csv) => registerDirectoryRoutes(csv, ctx));
    await api.register(async (raw) => registerFileRoutes(raw, ctx));
    registerFirmwareRoutes(api, ctx, opts.firmwareLimits ? { limits: opts.firmwareLimits } : {});
    registerGlobalFirmwareRoutes(api, ctx, opts.firmwareLimits ? { limits: opts.firmwareLimits } : {});
    registerRolloutRoutes(api, ctx);
  });
  await app.ready();
  return app;
}
