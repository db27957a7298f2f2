// Who is asking: every route except those marked public needs a console session (cookie, plus
// the session's CSRF token in X-CSRF-Token on unsafe methods) or an API token (Authorization:
// Bearer pp_…). Runs in onRequest, before the body is read or validated, so an anonymous client
// learns nothing about the routes' schemas. Registered inside the resource routes' own context:
// the OpenAPI document, the docs and unknown paths (404) are outside it.

import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Principal } from '../../domain/admin-roles.js';
import { authenticateSession, csrfMatches, principalForToken, type AuthOptions } from '../admin-auth.js';
import type { AdminContext } from '../admin-context.js';
import { ApiProblem } from './problem-json.js';

/** The cookie holding the session secret. */
export const SESSION_COOKIE = 'pp_session';
/** The header carrying the session's CSRF token on unsafe methods. */
export const CSRF_HEADER = 'x-csrf-token';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const CHALLENGE = { 'www-authenticate': 'Bearer realm="polyprov admin"' };

/** Route config flag: the route answers without credentials (login, the OpenAPI document, the docs). */
export interface ApiRouteConfig {
  public?: boolean;
}

const principals = new WeakMap<FastifyRequest, Principal>();
const sessionIds = new WeakMap<FastifyRequest, string>();

/** The authenticated administrator of a request that passed the hook (every non-public route). */
export function principalOf(request: FastifyRequest): Principal {
  const p = principals.get(request);
  if (!p) throw new Error('principalOf: the route is public or the auth hook did not run');
  return p;
}

/** The session secret of a request authenticated by cookie, or undefined (bearer). */
export function sessionIdOf(request: FastifyRequest): string | undefined {
  return sessionIds.get(request);
}

function unauthorized(detail: string): ApiProblem {
  return new ApiProblem(401, detail, CHALLENGE);
}

/** Adds the authentication hook to `app` (which must have @fastify/cookie). */
export function registerAuth(app: FastifyInstance, ctx: AdminContext, opts: AuthOptions = {}): void {
  app.addHook('onRequest', async (request) => {
    const config = request.routeOptions.config as ApiRouteConfig | undefined;
    if (config?.public) return;
    const authorization = request.headers.authorization;
    if (authorization !== undefined) {
      const m = /^Bearer\s+(\S+)$/i.exec(authorization);
      if (!m) throw unauthorized('the Authorization header must be "Bearer pp_…" (an API token), or log in to use a session cookie');
      const principal = await principalForToken(ctx, m[1]!, opts);
      if (!principal) throw unauthorized('the API token is unknown, revoked or expired, or its user is disabled: ask for a new token');
      principals.set(request, principal);
      return;
    }
    const sessionId = request.cookies[SESSION_COOKIE];
    if (!sessionId) throw unauthorized('log in first (POST /api/v1/login) or send an API token (Authorization: Bearer pp_…)');
    const session = await authenticateSession(ctx, sessionId, opts);
    if (!session) throw unauthorized('the session has ended (logged out, idle too long, or the user changed): log in again');
    if (!SAFE_METHODS.has(request.method) && !csrfMatches(session.csrfToken, headerValue(request.headers[CSRF_HEADER]))) {
      throw new ApiProblem(403, `a change made with a session cookie needs the session's CSRF token in the ${CSRF_HEADER} header (login returns it as csrfToken)`);
    }
    principals.set(request, session.principal);
    sessionIds.set(request, sessionId);
  });
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
