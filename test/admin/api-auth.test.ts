import assert from 'node:assert/strict';
import { Validator } from '@seriousme/openapi-schema-validator';
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { createTokenFor, revokeToken } from '../../src/admin/admin-auth.js';
import type { AdminContext } from '../../src/admin/admin-context.js';
import { addUser } from '../../src/admin/admin-users.js';
import { documentedRoutes } from '../../src/admin/api/api-app.js';
import { startAdminApi, type RunningAdminApi } from '../../src/admin/api/start-admin-api.js';
import { addTenant } from '../../src/admin/tenants.js';
import { openAdminContext } from '../../src/app.js';
import { loadTlsMaterial } from '../../src/servers/http/tls-material.js';
import { tempDir } from '../support/server-process.js';

// Logging in and out of the admin API, CSRF, bearer tokens and their revocation, the login rate
// limit, the cookie's attributes over HTTP and HTTPS (curl), and the OpenAPI document against the
// registered routes. Real fastify listeners on 127.0.0.1, real SQLite store.

const PASSWORD = 'correct horse battery';
const run = promisify(execFile);

let dataDir: string;
let ctx: AdminContext;
let api: RunningAdminApi;
let tlsApi: RunningAdminApi;
let base: string;

before(async () => {
  dataDir = tempDir('polyprov-api-auth-test-');
  ctx = await openAdminContext({ dataDir });
  await addTenant(ctx, 'acme', {});
  await addUser(ctx, 'cli', { username: 'root', role: 'super-admin', password: PASSWORD });
  await addUser(ctx, 'cli', { username: 'alice', role: 'tenant-admin', tenant: 'acme', password: PASSWORD });
  await addUser(ctx, 'cli', { username: 'mallory', role: 'read-only', tenant: 'acme', password: PASSWORD });
  const logger = pino({ level: 'silent' });
  // A low limit, so the test reaches it in a few attempts.
  const auth = { settings: { maxFailuresPerUser: 3 } };
  api = await startAdminApi(ctx, { host: '127.0.0.1', port: 0, logger, auth });
  base = `http://127.0.0.1:${api.port}`;
  const tls = await loadTlsMaterial({ dataDir, hostnames: ['localhost'] });
  tlsApi = await startAdminApi(ctx, { host: '127.0.0.1', port: 0, logger, auth, tls });
});

after(async () => {
  await api?.close();
  await tlsApi?.close();
  await ctx?.store.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

async function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
}

async function get(path: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(base + path, { headers, signal: AbortSignal.timeout(10_000) });
}

async function logIn(username: string): Promise<{ cookie: string; csrf: string; setCookie: string; body: any }> {
  const res = await post('/api/v1/login', { username, password: PASSWORD });
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  const setCookie = res.headers.getSetCookie().find((c) => c.startsWith('pp_session='))!;
  assert.ok(setCookie);
  return { cookie: setCookie.split(';')[0]!, csrf: body.csrfToken, setCookie, body };
}

async function problem(res: Response, status: number, detail?: RegExp): Promise<any> {
  const body = await res.json();
  assert.equal(res.status, status, JSON.stringify(body));
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
  assert.equal(body.status, status);
  if (detail) assert.match(body.detail, detail);
  return body;
}

describe('admin API authentication', () => {
  test('login sets an HttpOnly, SameSite=Strict session cookie on /api and returns the CSRF token and user', async () => {
    const { setCookie, body } = await logIn('alice');
    assert.match(setCookie, /; HttpOnly/i);
    assert.match(setCookie, /; SameSite=Strict/i);
    assert.match(setCookie, /; Path=\/api(;|$)/);
    assert.doesNotMatch(setCookie, /; Secure/i, 'not Secure over plain HTTP');
    assert.deepEqual(body.user, { username: 'alice', role: 'tenant-admin', tenant: 'acme' });
    assert.match(body.csrfToken, /^[A-Za-z0-9_-]{43}$/);
  });

  test('over HTTPS the cookie is Secure (curl)', async () => {
    const { stdout } = await run('curl', ['-sk', '-i', '--max-time', '10', '-H', 'content-type: application/json', '--data', JSON.stringify({ username: 'root', password: PASSWORD }), `https://127.0.0.1:${tlsApi.port}/api/v1/login`]);
    assert.match(stdout, /^HTTP\/1\.1 200/);
    const line = stdout.split('\r\n').find((l) => /^set-cookie: pp_session=/i.test(l));
    assert.ok(line, stdout);
    assert.match(line, /; Secure/i);
    assert.match(line, /; HttpOnly/i);
  });

  test('a wrong password or unknown user is 401; a malformed body is 400 saying what is missing', async () => {
    await problem(await post('/api/v1/login', { username: 'root', password: 'wrong password!' }), 401, /wrong user name or password/);
    await problem(await post('/api/v1/login', { username: 'nobody', password: PASSWORD }), 401, /wrong user name or password/);
    const bad = await problem(await post('/api/v1/login', { username: 'root' }), 400, /body\/password is required/);
    assert.deepEqual(bad.errors, [{ pointer: 'body/password', detail: 'is required' }]);
    await problem(await post('/api/v1/login', { username: 'root', password: PASSWORD, remember: true }), 400, /body\/remember is not a known field/);
  });

  test('repeated failures are refused with 429 and Retry-After, even with the right password', async () => {
    for (let i = 0; i < 3; i++) await problem(await post('/api/v1/login', { username: 'mallory', password: `guess number ${i}` }), 401);
    const limited = await post('/api/v1/login', { username: 'mallory', password: PASSWORD });
    await problem(limited, 429, /too many failed logins: retry after \d+ s/);
    const retryAfter = Number(limited.headers.get('retry-after'));
    assert.ok(Number.isInteger(retryAfter) && retryAfter > 0 && retryAfter <= 900, `Retry-After ${retryAfter}`);
    // Another user from the same address is not locked out by mallory's count.
    assert.equal((await post('/api/v1/login', { username: 'alice', password: PASSWORD })).status, 200);
  });

  test('a change with a session needs the CSRF token; reads do not', async () => {
    const { cookie, csrf } = await logIn('alice');
    const body = JSON.stringify({ slug: 'csrf-site' });
    const send = (headers: Record<string, string>) =>
      fetch(`${base}/api/v1/tenants/acme/sites`, { method: 'POST', headers: { 'content-type': 'application/json', cookie, ...headers }, body, signal: AbortSignal.timeout(10_000) });
    await problem(await send({}), 403, /CSRF token in the x-csrf-token header/);
    await problem(await send({ 'x-csrf-token': csrf.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')) }), 403, /CSRF/);
    assert.equal((await get('/api/v1/tenants/acme/sites', { cookie })).status, 200);
    assert.equal((await send({ 'x-csrf-token': csrf })).status, 201);
  });

  test('logout ends the session (needs CSRF); the cookie stops working', async () => {
    const { cookie, csrf } = await logIn('alice');
    await problem(await post('/api/v1/logout', {}, { cookie }), 403, /CSRF/);
    assert.equal((await get('/api/v1/tenants', { cookie })).status, 200, 'a refused logout leaves the session open');
    const out = await fetch(`${base}/api/v1/logout`, { method: 'POST', headers: { cookie, 'x-csrf-token': csrf }, signal: AbortSignal.timeout(10_000) });
    assert.equal(out.status, 204);
    assert.match(out.headers.getSetCookie().join('\n'), /pp_session=;.*Expires=Thu, 01 Jan 1970/);
    await problem(await get('/api/v1/tenants', { cookie }), 401, /session has ended/);
  });

  test('a bearer token works without CSRF and stops working once revoked', async () => {
    const token = await createTokenFor(ctx, 'cli', 'alice', 'automation');
    const auth = { authorization: `Bearer ${token.token}` };
    const list = await get('/api/v1/tenants', auth);
    assert.equal(list.status, 200);
    assert.deepEqual(((await list.json()) as any).items.map((t: { slug: string }) => t.slug), ['acme']);
    assert.equal((await post('/api/v1/tenants/acme/sites', { slug: 'token-site' }, auth)).status, 201);
    await revokeToken(ctx, 'cli', token.id);
    await problem(await get('/api/v1/tenants', auth), 401, /unknown, revoked or expired/);
    await problem(await get('/api/v1/tenants', { authorization: 'Basic cm9vdDp4' }), 401, /Bearer pp_/);
  });
});

describe('OpenAPI document', () => {
  test('is public, OpenAPI 3.1.0, lists exactly the registered routes, and every $ref resolves', async () => {
    const res = await get('/api/v1/openapi.json');
    assert.equal(res.status, 200);
    const doc = (await res.json()) as any;
    assert.equal(doc.openapi, '3.1.0');
    assert.equal(typeof doc.info?.title, 'string');
    assert.equal(typeof doc.info?.version, 'string');
    assert.equal(typeof doc.paths, 'object');
    assert.deepEqual(Object.keys(doc.components.securitySchemes).sort(), ['bearer', 'session']);

    const inDoc: string[] = [];
    for (const [path, item] of Object.entries<Record<string, any>>(doc.paths)) {
      for (const [method, op] of Object.entries<any>(item)) {
        inDoc.push(`${method} ${path}`);
        assert.ok(op.responses && Object.keys(op.responses).length > 0, `${method} ${path} has responses`);
        const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]).sort();
        const declared = (op.parameters ?? []).filter((p: any) => p.in === 'path').map((p: any) => p.name).sort();
        assert.deepEqual(declared, templated, `${method} ${path} declares its path parameters`);
      }
    }
    const registered = documentedRoutes(api.app).map((r) => `${r.method} ${r.path}`);
    assert.deepEqual(inDoc.sort(), registered.sort());
    assert.ok(registered.length >= 15);

    const refs: string[] = [];
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') {
        for (const [k, x] of Object.entries(v)) {
          if (k === '$ref' && typeof x === 'string') refs.push(x);
          else walk(x);
        }
      }
    };
    walk(doc);
    assert.ok(refs.includes('#/components/schemas/Problem'), 'errors refer to the Problem schema');
    for (const ref of refs) {
      assert.match(ref, /^#\//, `${ref} is local`);
      let node: any = doc;
      for (const part of ref.slice(2).split('/')) node = node?.[part.replace(/~1/g, '/').replace(/~0/g, '~')];
      assert.ok(node && typeof node === 'object', `${ref} resolves`);
    }
  });

  test('validates against the OpenAPI 3.1 schema (@seriousme/openapi-schema-validator), and a broken copy does not', async () => {
    const doc = (await (await get('/api/v1/openapi.json')).json()) as any;
    const result = await new Validator().validate(structuredClone(doc));
    assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2)?.slice(0, 2000));
    // The validator is not a rubber stamp: an operation without responses is refused.
    const broken = structuredClone(doc);
    const [firstPath] = Object.keys(broken.paths);
    const [firstMethod] = Object.keys(broken.paths[firstPath!]);
    broken.paths[firstPath!][firstMethod!].responses = 'none';
    assert.equal((await new Validator().validate(broken)).valid, false);
  });

  test('the browsable docs are served', async () => {
    const res = await get('/api/v1/docs/');
    assert.equal(res.status, 200);
    assert.match(await res.text(), /swagger/i);
  });
});
