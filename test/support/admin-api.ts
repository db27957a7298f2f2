// Driving the admin REST API in tests: fetch with a session cookie (plus its CSRF token) or a
// bearer token, login, ETags, and the shape every error must have (problem+json).

import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { rmSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { AdminContext } from '../../src/admin/admin-context.js';
import { documentedRoutes } from '../../src/admin/api/api-app.js';
import type { OpenCore } from '../../src/app.js';
import { addUser } from '../../src/admin/admin-users.js';

/** The password every test administrator gets. */
export const TEST_ADMIN_PASSWORD = 'correct horse battery';

/** Credentials of one administrator: a console session, or an API token. */
export interface Who {
  cookie?: string;
  csrf?: string;
  bearer?: string;
}

export interface Answer {
  status: number;
  headers: Headers;
  body: any;
}

export interface CallOptions {
  body?: unknown;
  ifMatch?: string;
  headers?: Record<string, string>;
  /** A body sent as is with its content type (a CSV file), instead of `body` as JSON. */
  raw?: { contentType: string; data: string };
}

/** A client of the API at `base` (http://127.0.0.1:port). Every request times out after 10 s. */
export function adminApiClient(base: () => string) {
  async function call(as: Who | undefined, method: string, path: string, opts: CallOptions = {}): Promise<Answer> {
    const headers: Record<string, string> = { ...opts.headers };
    if (as?.cookie) headers.cookie = as.cookie;
    if (as?.csrf && method !== 'GET') headers['x-csrf-token'] = as.csrf;
    if (as?.bearer) headers.authorization = `Bearer ${as.bearer}`;
    if (opts.ifMatch !== undefined) headers['if-match'] = opts.ifMatch;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    if (opts.raw !== undefined) headers['content-type'] = opts.raw.contentType;
    const data = opts.raw !== undefined ? opts.raw.data : opts.body !== undefined ? JSON.stringify(opts.body) : undefined;
    const res = await fetch(base() + path, { method, headers, ...(data !== undefined ? { body: data } : {}), signal: AbortSignal.timeout(10_000) });
    const text = await res.text();
    // Answers that are not JSON (a CSV export) come back as their text.
    const json = /json/.test(res.headers.get('content-type') ?? 'json');
    return { status: res.status, headers: res.headers, body: text ? (json ? JSON.parse(text) : text) : undefined };
  }

  async function logIn(username: string, password = TEST_ADMIN_PASSWORD): Promise<Who> {
    const res = await fetch(`${base()}/api/v1/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }), signal: AbortSignal.timeout(10_000) });
    assert.equal(res.status, 200, await res.clone().text());
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith('pp_session='));
    assert.ok(cookie, 'login sets the session cookie');
    const body = (await res.json()) as { csrfToken: string };
    return { cookie: cookie.split(';')[0], csrf: body.csrfToken };
  }

  async function etag(as: Who, path: string): Promise<string> {
    const r = await call(as, 'GET', path);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const tag = r.headers.get('etag');
    assert.ok(tag, `GET ${path} sends an ETag`);
    return tag;
  }

  return { call, logIn, etag };
}

/** Asserts an RFC 9457 problem with that status (and a detail matching `detail`). */
export function assertProblem(r: Answer, status: number, detail?: RegExp): void {
  assert.equal(r.status, status, JSON.stringify(r.body));
  assert.match(r.headers.get('content-type') ?? '', /^application\/problem\+json/);
  assert.equal(r.body.status, status);
  assert.equal(typeof r.body.title, 'string');
  assert.equal(typeof r.body.type, 'string');
  assert.equal(typeof r.body.detail, 'string');
  if (detail) assert.match(r.body.detail, detail);
}

/**
 * The routes test/admin/api-routes-more.test.ts covers (it checks its table is exactly these), so
 * api-routes.test.ts can check that the two tables together cover every documented route.
 */
export const MORE_TABLE_ROUTES: readonly string[] = [
  'get /api/v1/parameter-names/check',
  'get /api/v1/model-names',
  'get /api/v1/tenants/{tenant}/groups',
  'post /api/v1/tenants/{tenant}/groups',
  'get /api/v1/tenants/{tenant}/groups/{group}',
  'delete /api/v1/tenants/{tenant}/groups/{group}',
  'get /api/v1/tenants/{tenant}/models',
  'get /api/v1/tenants/{tenant}/models/{model}',
  'put /api/v1/tenants/{tenant}/models/{model}',
  'delete /api/v1/tenants/{tenant}/models/{model}',
  'get /api/v1/users',
  'post /api/v1/users',
  'get /api/v1/users/{username}',
  'patch /api/v1/users/{username}',
  'delete /api/v1/users/{username}',
  'get /api/v1/me',
  'get /api/v1/me/tokens',
  'post /api/v1/me/tokens',
  'delete /api/v1/me/tokens/{id}',
  'get /api/v1/audit',
];

/** The routes test/admin/api-routes-reach.test.ts covers: resync, CSV import and export, overrides, logs. */
export const REACH_TABLE_ROUTES: readonly string[] = [
  'post /api/v1/tenants/{tenant}/resync',
  'get /api/v1/tenants/{tenant}/resync',
  'get /api/v1/tenants/{tenant}/resync/{id}',
  'get /api/v1/tenants/{tenant}/devices/{mac}/reach',
  'post /api/v1/tenants/{tenant}/import',
  'get /api/v1/tenants/{tenant}/export/{kind}',
  'get /api/v1/tenants/{tenant}/devices/{mac}/overrides',
  'post /api/v1/tenants/{tenant}/devices/{mac}/overrides/clear',
  'post /api/v1/tenants/{tenant}/devices/{mac}/overrides/restore',
  'get /api/v1/tenants/{tenant}/devices/{mac}/logs',
  'get /api/v1/tenants/{tenant}/devices/{mac}/logs/{kind}',
];

/** A pino logger at level error whose lines the test collects, to assert that no request failed on the server side. */
export function errorRecordingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { logger: pino({ level: 'error' }, sink), lines };
}

/** The four administrators every route-table test uses, by the role each one tests. */
export type TestAdmins = Record<'root' | 'acmeAdmin' | 'acmeReader' | 'globexAdmin', Who>;

/**
 * Creates root (super-admin), acme-admin, acme-reader (read-only) and globex-admin with
 * TEST_ADMIN_PASSWORD; tenants "acme" and "globex" must exist.
 */
export async function addTestAdmins(ctx: AdminContext): Promise<void> {
  await addUser(ctx, 'cli', { username: 'root', role: 'super-admin', password: TEST_ADMIN_PASSWORD });
  await addUser(ctx, 'cli', { username: 'acme-admin', role: 'tenant-admin', tenant: 'acme', password: TEST_ADMIN_PASSWORD });
  await addUser(ctx, 'cli', { username: 'acme-reader', role: 'read-only', tenant: 'acme', password: TEST_ADMIN_PASSWORD });
  await addUser(ctx, 'cli', { username: 'globex-admin', role: 'tenant-admin', tenant: 'globex', password: TEST_ADMIN_PASSWORD });
}

/** Logs the four test administrators in, filling `who` in place (it is shared with the table). */
export async function logInTestAdmins(logIn: (username: string) => Promise<Who>, who: TestAdmins): Promise<void> {
  who.root = await logIn('root');
  who.acmeAdmin = await logIn('acme-admin');
  who.acmeReader = await logIn('acme-reader');
  who.globexAdmin = await logIn('globex-admin');
}

/**
 * A route table claims exactly `claimed` (its *_TABLE_ROUTES list, which the coverage test in
 * api-routes.test.ts unions), and every route it claims is one the API documents.
 */
export function assertTableClaims(cases: readonly { method: string; route: string }[], claimed: readonly string[], app: FastifyInstance): string[] {
  const mine = [...new Set(cases.map((c) => `${c.method.toLowerCase()} ${c.route}`))].sort();
  assert.deepEqual(mine, [...claimed].sort());
  const documented = new Set(documentedRoutes(app).map((r) => `${r.method} ${r.path}`));
  for (const r of mine) assert.ok(documented.has(r), `${r} is documented`);
  return mine;
}

/** Tears a route-table fixture down (API, core, data folder) and checks that no request failed on the server side. */
export async function closeApiFixture(f: { api?: { close(): Promise<void> }; opened?: OpenCore; ctx?: AdminContext; dataDir?: string; errorLines: string[] }): Promise<void> {
  await f.api?.close();
  await f.opened?.inventory.stop();
  await (f.opened?.ctx ?? f.ctx)?.store.close();
  if (f.dataDir) rmSync(f.dataDir, { recursive: true, force: true });
  assert.deepEqual(f.errorLines, [], 'no request failed on the server side');
}
