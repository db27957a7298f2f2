// Administrators and API tokens. A super-admin manages users (the services refuse anyone else);
// every administrator sees itself (/me) and lists, creates and revokes its own tokens. A request
// made with a token cannot create tokens (admin-auth.ts refuses: 403), so a leaked token cannot
// outlive its revocation through another.

import type { FastifyInstance, FastifyRequest } from 'fastify';
import { authenticateSession, createToken, listTokens, revokeToken } from '../admin-auth.js';
import type { AdminContext } from '../admin-context.js';
import { addUser, listUsers, removeUser, updateUser, type AdminUserInfo, type UserChanges } from '../admin-users.js';
import { principalOf, sessionIdOf } from './auth-plugin.js';
import { etagOf, requireIfMatch } from './etag.js';
import { PAGE_QUERY_PROPERTIES, replyPage } from './pagination.js';
import { ApiProblem } from './problem-json.js';
import { errorResponses, IF_MATCH_HEADERS, pageSchema } from './schemas.js';
import { apiTokenView, userView } from './views.js';

const USER_PARAMS = {
  type: 'object',
  required: ['username'],
  properties: { username: { type: 'string', minLength: 1, maxLength: 64 } },
} as const;

const ROLE = { type: 'string', enum: ['super-admin', 'tenant-admin', 'read-only'] } as const;
const PASSWORD = { type: 'string', minLength: 1, maxLength: 1024, description: 'at least 12 characters; absent on create: one is generated and answered once' } as const;

// Refuses stray query fields, so a typo is a 400 rather than silently ignored.
const NO_QUERY = { type: 'object', additionalProperties: false, properties: {} } as const;

const USER_WITH_PASSWORD = {
  type: 'object',
  required: ['user'],
  properties: { user: { $ref: 'User#' }, password: { type: 'string', description: 'the generated password: shown this once' } },
} as const;

/** The user of that name as a user manager sees it (listUsers refuses anyone else: 403), or 404. */
async function requireUserInfo(ctx: AdminContext, request: FastifyRequest, username: string): Promise<AdminUserInfo> {
  const lower = username.toLowerCase();
  const user = (await listUsers(ctx, principalOf(request))).find((u) => u.username.toLowerCase() === lower);
  if (!user) throw new ApiProblem(404, `no user "${username}" (see GET /api/v1/users)`);
  return user;
}

/** Routes of /api/v1/users, /api/v1/me and /api/v1/me/tokens. */
export function registerUserRoutes(app: FastifyInstance, ctx: AdminContext): void {
  app.get(
    '/api/v1/users',
    {
      schema: {
        summary: 'List administrators (super-admin)',
        tags: ['users'],
        querystring: { type: 'object', additionalProperties: false, properties: { ...PAGE_QUERY_PROPERTIES } },
        response: { 200: pageSchema('User'), ...errorResponses() },
      },
    },
    async (request, reply) => {
      const q = request.query as { limit: number; cursor?: string };
      const users = (await listUsers(ctx, principalOf(request)));
      return replyPage(request, reply, users, (u) => u.username, userView);
    },
  );

  app.post(
    '/api/v1/users',
    {
      schema: {
        summary: 'Add an administrator (super-admin)',
        tags: ['users'],
        body: {
          type: 'object',
          required: ['username', 'role'],
          additionalProperties: false,
          properties: { username: { type: 'string', minLength: 1, maxLength: 64 }, role: ROLE, tenant: { type: ['string', 'null'], minLength: 1, maxLength: 64 }, password: PASSWORD },
        },
        response: { 201: USER_WITH_PASSWORD, ...errorResponses(409) },
      },
    },
    async (request, reply) => {
      const body = request.body as { username: string; role: string; tenant?: string | null; password?: string };
      const { user, password, generated } = await addUser(ctx, principalOf(request), body, { ip: request.ip });
      const view = userView(user);
      reply.code(201).header('location', `/api/v1/users/${user.username}`).header('etag', etagOf(view));
      return { user: view, ...(generated ? { password } : {}) };
    },
  );

  app.get(
    '/api/v1/users/:username',
    { schema: { summary: 'One administrator (super-admin)', tags: ['users'], params: USER_PARAMS, response: { 200: { $ref: 'User#' }, ...errorResponses(404) } } },
    async (request, reply) => {
      const { username } = request.params as { username: string };
      const view = userView(await requireUserInfo(ctx, request, username));
      reply.header('etag', etagOf(view));
      return view;
    },
  );

  app.patch(
    '/api/v1/users/:username',
    {
      schema: {
        summary: 'Change an administrator (super-admin, If-Match required); a new password or disabling ends its sessions',
        tags: ['users'],
        params: USER_PARAMS,
        headers: IF_MATCH_HEADERS,
        body: {
          type: 'object',
          additionalProperties: false,
          minProperties: 1,
          properties: {
            role: ROLE,
            tenant: { type: ['string', 'null'], minLength: 1, maxLength: 64 },
            password: { anyOf: [PASSWORD, { const: true, description: 'true: generate one, answered once' }] },
            disabled: { type: 'boolean' },
          },
        },
        response: { 200: USER_WITH_PASSWORD, ...errorResponses(404, 409, 412, 428) },
      },
    },
    async (request, reply) => {
      const { username } = request.params as { username: string };
      const principal = principalOf(request);
      const before = await requireUserInfo(ctx, request, username);
      requireIfMatch(request, etagOf(userView(before)));
      const { user, password } = await updateUser(ctx, principal, before.username, request.body as UserChanges, { ip: request.ip });
      const view = userView(user);
      reply.header('etag', etagOf(view));
      return { user: view, ...(password !== undefined ? { password } : {}) };
    },
  );

  app.delete(
    '/api/v1/users/:username',
    {
      schema: {
        summary: 'Remove an administrator with its tokens and sessions (super-admin, If-Match required)',
        tags: ['users'],
        params: USER_PARAMS,
        headers: IF_MATCH_HEADERS,
        response: { 204: { description: 'Removed.', type: 'null' }, ...errorResponses(404, 409, 412, 428) },
      },
    },
    async (request, reply) => {
      const { username } = request.params as { username: string };
      const before = await requireUserInfo(ctx, request, username);
      requireIfMatch(request, etagOf(userView(before)));
      await removeUser(ctx, principalOf(request), before.username, { ip: request.ip });
      return reply.code(204).send();
    },
  );

  app.get(
    '/api/v1/me',
    {
      schema: {
        summary: 'The caller; for a console session, also its CSRF token (for a reloaded console page)',
        tags: ['users'],
        querystring: NO_QUERY,
        response: {
          200: {
            type: 'object',
            required: ['username', 'role', 'tenant', 'via'],
            properties: {
              username: { type: 'string' },
              role: { type: 'string' },
              tenant: { type: ['string', 'null'] },
              via: { type: 'string', enum: ['session', 'token'] },
              csrfToken: { type: 'string' },
              expiresAt: { type: 'string' },
            },
          },
          ...errorResponses(),
        },
      },
    },
    async (request) => {
      const p = principalOf(request);
      const tenant = p.tenantId === null ? null : ((await ctx.store.listTenants()).find((t) => t.id === p.tenantId)?.slug ?? null);
      const sessionId = sessionIdOf(request);
      const session = sessionId === undefined ? null : await authenticateSession(ctx, sessionId);
      return { username: p.username, role: p.role, tenant, via: p.via, ...(session ? { csrfToken: session.csrfToken, expiresAt: session.expiresAt } : {}) };
    },
  );

  app.get(
    '/api/v1/me/tokens',
    {
      schema: {
        summary: "The caller's API tokens (never the tokens themselves)",
        tags: ['users'],
        querystring: NO_QUERY,
        response: { 200: { type: 'object', required: ['items'], properties: { items: { type: 'array', items: { $ref: 'ApiToken#' } } } }, ...errorResponses() },
      },
    },
    async (request) => {
      const p = principalOf(request);
      return { items: (await listTokens(ctx, p, p.username)).map(apiTokenView) };
    },
  );

  app.post(
    '/api/v1/me/tokens',
    {
      schema: {
        summary: 'Create an API token for the caller (from a console session only: a token cannot create tokens)',
        tags: ['users'],
        body: {
          type: 'object',
          required: ['name'],
          additionalProperties: false,
          properties: { name: { type: 'string', minLength: 1, maxLength: 100, description: 'what it is for, e.g. "billing sync"' }, expiresInDays: { type: 'integer', minimum: 1, maximum: 3650 } },
        },
        response: {
          201: {
            type: 'object',
            required: ['token', 'id', 'prefix', 'expiresAt'],
            properties: { token: { type: 'string', description: 'send it as Authorization: Bearer …; shown this once' }, id: { type: 'integer' }, prefix: { type: 'string' }, expiresAt: { type: ['string', 'null'] } },
          },
          ...errorResponses(),
        },
      },
    },
    async (request, reply) => {
      const body = request.body as { name: string; expiresInDays?: number };
      const created = await createToken(ctx, principalOf(request), body.name, body.expiresInDays, { ip: request.ip });
      reply.code(201);
      return created;
    },
  );

  app.delete(
    '/api/v1/me/tokens/:id',
    {
      schema: {
        summary: "Revoke one of the caller's API tokens at once (no If-Match: revoking is never stale)",
        tags: ['users'],
        params: { type: 'object', required: ['id'], properties: { id: { type: 'integer', minimum: 1 } } },
        response: { 200: { $ref: 'ApiToken#' }, ...errorResponses(404) },
      },
    },
    async (request) => {
      const { id } = request.params as { id: number };
      const p = principalOf(request);
      // Only the caller's own tokens here, even for a super-admin (who may revoke others' from the command line).
      if (!(await listTokens(ctx, p, p.username)).some((t) => t.id === id)) throw new ApiProblem(404, `you have no API token ${id} (see GET /api/v1/me/tokens)`);
      return apiTokenView(await revokeToken(ctx, p, id, { ip: request.ip }));
    },
  );
}
