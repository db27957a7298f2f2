// Console login and logout. Login opens a session: its secret goes only into an HttpOnly cookie,
// its CSRF token into the body, which the console sends back in X-CSRF-Token on every change.

import type { FastifyInstance } from 'fastify';
import { login, logout, type AuthOptions } from '../admin-auth.js';
import type { AdminContext } from '../admin-context.js';
import { principalOf, SESSION_COOKIE, sessionIdOf } from './auth-plugin.js';
import { ApiProblem } from './problem-json.js';
import { errorResponses } from './schemas.js';

export interface AuthRouteOptions {
  /** Mark the cookie Secure (the API is served over TLS). */
  secureCookie: boolean;
  auth?: AuthOptions;
}

const COOKIE_PATH = '/api';

export function registerAuthRoutes(app: FastifyInstance, ctx: AdminContext, opts: AuthRouteOptions): void {
  app.post(
    '/api/v1/login',
    {
      config: { public: true },
      schema: {
        summary: 'Log in and open a console session',
        tags: ['auth'],
        security: [],
        body: {
          type: 'object',
          required: ['username', 'password'],
          additionalProperties: false,
          properties: { username: { type: 'string', minLength: 1, maxLength: 64 }, password: { type: 'string', minLength: 1, maxLength: 1024 } },
        },
        response: {
          200: {
            description: 'The session cookie is set; send csrfToken in X-CSRF-Token with every change.',
            type: 'object',
            required: ['csrfToken', 'user', 'expiresAt'],
            properties: {
              csrfToken: { type: 'string' },
              expiresAt: { type: 'string' },
              user: {
                type: 'object',
                required: ['username', 'role', 'tenant'],
                properties: { username: { type: 'string' }, role: { type: 'string' }, tenant: { type: ['string', 'null'] } },
              },
            },
          },
          ...errorResponses(429),
        },
      },
    },
    async (request, reply) => {
      const { username, password } = request.body as { username: string; password: string };
      const result = await login(ctx, username, password, request.ip, opts.auth);
      const tenant = result.principal.tenantId === null ? null : ((await ctx.store.listTenants()).find((t) => t.id === result.principal.tenantId)?.slug ?? null);
      reply.setCookie(SESSION_COOKIE, result.sessionId, {
        httpOnly: true,
        sameSite: 'strict',
        secure: opts.secureCookie,
        path: COOKIE_PATH,
        expires: new Date(result.expiresAt),
      });
      return { csrfToken: result.csrfToken, expiresAt: result.expiresAt, user: { username: result.principal.username, role: result.principal.role, tenant } };
    },
  );

  app.post(
    '/api/v1/logout',
    {
      schema: {
        summary: 'End the console session',
        tags: ['auth'],
        response: { 204: { description: 'The session ended and the cookie is cleared.', type: 'null' }, ...errorResponses() },
      },
    },
    async (request, reply) => {
      const sessionId = sessionIdOf(request);
      if (sessionId === undefined) {
        throw new ApiProblem(400, `${principalOf(request).username} came with an API token, which has no session: revoke the token to end its use`);
      }
      await logout(ctx, sessionId);
      reply.clearCookie(SESSION_COOKIE, { path: COOKIE_PATH, httpOnly: true, sameSite: 'strict', secure: opts.secureCookie });
      return reply.code(204).send();
    },
  );
}
