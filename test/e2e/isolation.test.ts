import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { addFile } from '../../src/admin/files.js';
import { setParameters } from '../../src/admin/parameters.js';
import { addDevice } from '../../src/admin/structure.js';
import { addTenant } from '../../src/admin/tenants.js';
import { openAdminContext } from '../../src/app.js';
import { effectiveParameters } from '../../src/domain/polycom-xml.js';
import type { AdminContext } from '../../src/admin/admin-context.js';
import { curl, type CurlResult } from '../support/curl.js';
import { digestAuthorization, digestChallengeOf, type DigestChallenge } from '../support/digest.js';
import { userAgentOf, VVX_450 } from '../support/phone-boot.js';
import { cli, startServer, tempDir, type ServerProcess } from '../support/server-process.js';

const scratch: string[] = [];
const scratchDir = () => {
  const d = tempDir();
  scratch.push(d);
  return d;
};

// Two tenants on one server. Whatever A sends (its own valid credentials, B's host name, B's path
// prefix, traversal, odd encodings, proxy-style targets), nothing of B may come back.

const ALPHA_PW = 'alpha-prov-pw-1';
const BETA_PW = 'beta-prov-pw-22';
const ALPHA = ['-u', `alpha:${ALPHA_PW}`];
const ALPHA_DIGEST = ['--digest', '-u', `alpha:${ALPHA_PW}`];
const BETA = ['-u', `beta:${BETA_PW}`];
const BETA_DIGEST = ['--digest', '-u', `beta:${BETA_PW}`];
const BETA_SECRET = 'BETA-SECRET-7f3a';
const ALPHA_FILE = 'ALPHA-PUBLIC-1c9e';
const BETA_MARK = 'beta-mark-b81d';
const ALPHA_MARK = 'alpha-mark-a17c';
const MAC = '0004f2000001';
const PHONE_UA = userAgentOf({ ...VVX_450, mac: MAC });

let server: ServerProcess;
let ctx: AdminContext;

before(async () => {
  const dataDir = scratchDir();
  ctx = await openAdminContext({ dataDir });
  const alpha = (await addTenant(ctx, 'alpha', { password: ALPHA_PW, hostnames: ['alpha.example.test'] })).tenant;
  const beta = (await addTenant(ctx, 'beta', { password: BETA_PW, pathPrefix: 'beta', hostnames: ['beta.example.test'] })).tenant;
  await setParameters(ctx, alpha, {}, [`feature.tenantMark=${ALPHA_MARK}`], { force: true });
  await setParameters(ctx, beta, {}, [`feature.tenantMark=${BETA_MARK}`, `feature.betaOnly=${BETA_MARK}`], { force: true });
  // The same MAC registered in both: each tenant must render its own view of it.
  await addDevice(ctx, alpha, MAC, {});
  await addDevice(ctx, beta, MAC, {});
  const dir = scratchDir();
  writeFileSync(join(dir, 'beta'), `${BETA_SECRET}\n`);
  writeFileSync(join(dir, 'alpha'), `${ALPHA_FILE}\n`);
  await addFile(ctx, beta, 'secret.cfg', join(dir, 'beta'));
  await addFile(ctx, beta, 'sub/secret.cfg', join(dir, 'beta'));
  // A has a file of the same name: a route that "falls back" to A's tree must still not reach B's.
  await addFile(ctx, alpha, 'secret.cfg', join(dir, 'alpha'));
  server = await startServer({ dataDir });
});

after(async () => {
  await server?.stop();
  await ctx?.store.close();
  for (const d of scratch) rmSync(d, { recursive: true, force: true });
});

function assertNothingOfBeta(r: CurlResult, what: string) {
  assert.ok(!r.text.includes(BETA_SECRET), `${what}: B's secret leaked (HTTP ${r.status})`);
  assert.ok(!r.text.includes(BETA_MARK), `${what}: B's parameter leaked (HTTP ${r.status})`);
}

function assertChallenge(r: CurlResult, what: string) {
  assert.equal(r.status, 401, what);
  assert.equal(r.headers['content-length'], '0', `${what}: a 401 has no body`);
  assert.equal(r.body.length, 0, `${what}: a 401 has no body`);
  const challenges = r.rawHeaders.split(/\r?\n/).filter((l) => /^www-authenticate:/i.test(l));
  assert.ok(
    challenges.some((l) => /^www-authenticate:\s*Digest\s/i.test(l) && /qop="auth"/.test(l)),
    `${what}: Digest with qop="auth" offered:\n${r.rawHeaders}`,
  );
  assert.ok(challenges.some((l) => /^www-authenticate:\s*Basic\s/i.test(l)), `${what}: Basic offered:\n${r.rawHeaders}`);
}

const long = (n: number) => 'a'.repeat(n);

interface Hostile {
  name: string;
  path: string;
  args?: string[];
  status: number | number[];
  why: string;
}

// A's valid credentials on every route; `status` is what the server answers, `why` says why that
// is the right answer. 400 and 414 come from parseRequestPath before any tenant is chosen, so they
// say nothing about which tenants exist.
const HOSTILE: Hostile[] = [
  { name: 'B prefix', path: '/beta/secret.cfg', status: 401, why: 'the prefix names B; A user name is not B' },
  { name: 'B prefix, sub folder', path: '/beta/sub/secret.cfg', status: 401, why: 'the prefix names B' },
  { name: 'B prefix, Digest', path: '/beta/secret.cfg', args: ['--digest'], status: 401, why: 'Digest user name is not B' },
  { name: 'B generated config', path: `/beta/${MAC}-polyprov.cfg`, status: 401, why: 'the prefix names B' },
  { name: 'B master', path: '/beta/000000000000.cfg', status: 401, why: 'the prefix names B' },
  { name: 'percent-encoded prefix', path: '/%62eta/secret.cfg', status: 401, why: '%62eta decodes to the prefix beta, still B' },
  { name: 'B Host', path: '/secret.cfg', args: ['-H', 'Host: beta.example.test'], status: 401, why: 'the Host names B' },
  { name: 'B Host, upper case and port', path: '/secret.cfg', args: ['-H', 'Host: BETA.Example.TEST:8080'], status: 401, why: 'host names are case-insensitive, the port is ignored' },
  { name: 'B Host and B prefix', path: '/beta/secret.cfg', args: ['-H', 'Host: beta.example.test'], status: 401, why: 'both name B' },
  { name: 'B Host, generated config', path: `/${MAC}-polyprov.cfg`, args: ['-A', PHONE_UA, '-H', 'Host: beta.example.test'], status: 401, why: 'the Host names B' },
  {
    name: 'A Host with B prefix',
    path: '/beta/secret.cfg',
    args: ['-H', 'Host: alpha.example.test'],
    // Authenticated against the prefix's tenant (B) first, so A's credentials get a bodiless 401
    // and never learn that the host belongs to another tenant.
    status: 401,
    why: 'host and prefix disagree',
  },
  { name: 'upper-case prefix', path: '/BETA/secret.cfg', status: 404, why: 'prefixes are case-sensitive: BETA/secret.cfg is looked up in A and is absent' },
  { name: '../ traversal', path: '/../beta/secret.cfg', args: ['--path-as-is'], status: 400, why: '".." segments are refused' },
  { name: 'inner ../ traversal', path: '/x/../beta/secret.cfg', args: ['--path-as-is'], status: 400, why: '".." segments are refused, not resolved' },
  { name: './ segment', path: '/./beta/secret.cfg', args: ['--path-as-is'], status: 400, why: '"." segments are refused' },
  { name: '%2e%2e traversal', path: '/%2e%2e/beta/secret.cfg', args: ['--path-as-is'], status: 400, why: 'decoded ".." is refused' },
  { name: '.%2e traversal', path: '/.%2e/beta/secret.cfg', args: ['--path-as-is'], status: 400, why: 'decoded ".." is refused' },
  { name: 'double-encoded ..', path: '/%252e%252e/beta/secret.cfg', args: ['--path-as-is'], status: 404, why: 'decodes once to a literal "%2e%2e" folder in A, which does not exist' },
  { name: 'encoded slash', path: '/beta%2fsecret.cfg', args: ['--path-as-is'], status: 400, why: 'encoded "/" is refused' },
  { name: 'encoded slash after ..', path: '/beta/..%2fsecret.cfg', args: ['--path-as-is'], status: 400, why: 'encoded "/" is refused' },
  { name: 'encoded slash, lower case', path: '/..%2Fbeta%2Fsecret.cfg', args: ['--path-as-is'], status: 400, why: 'encoded "/" is refused in either case' },
  { name: 'backslash', path: '/beta\\secret.cfg', args: ['--path-as-is'], status: 400, why: 'backslashes are refused' },
  { name: 'backslash traversal', path: '/..\\beta\\secret.cfg', args: ['--path-as-is'], status: 400, why: 'backslashes are refused' },
  { name: 'encoded backslash', path: '/..%5cbeta%5csecret.cfg', args: ['--path-as-is'], status: 400, why: 'encoded "\\" is refused' },
  { name: 'NUL at end', path: '/beta/secret.cfg%00', args: ['--path-as-is'], status: 400, why: 'encoded NUL is refused' },
  { name: 'NUL inside', path: '/secret.cfg%00.txt', args: ['--path-as-is'], status: 400, why: 'encoded NUL is refused' },
  { name: 'NUL in prefix', path: '/beta%00/secret.cfg', args: ['--path-as-is'], status: 400, why: 'encoded NUL is refused' },
  { name: 'control character', path: '/beta%01/secret.cfg', args: ['--path-as-is'], status: 400, why: 'decoded control characters are refused' },
  { name: 'malformed percent-encoding', path: '/beta/%e0%80secret.cfg', args: ['--path-as-is'], status: 400, why: 'not valid UTF-8 after decoding' },
  {
    name: 'absolute-form target',
    path: '/',
    args: ['--request-target', 'http://beta.example.test/beta/secret.cfg'],
    status: 400,
    why: 'proxy-style targets are refused, so the Host header stays the only host that selects a tenant',
  },
  {
    name: 'absolute-form target with B Host',
    path: '/',
    args: ['--request-target', 'http://beta.example.test/secret.cfg', '-H', 'Host: beta.example.test'],
    status: 400,
    why: 'proxy-style targets are refused',
  },
  { name: 'asterisk-form target', path: '/', args: ['--request-target', '*'], status: 400, why: 'not a path' },
  { name: 'path of 2 KB', path: `/beta/${long(2048)}`, status: 414, why: 'longer than 1024 characters' },
  { name: 'path of 1025 characters', path: `/${long(1024)}`, status: 414, why: 'one over the 1024 limit' },
  { name: 'segment of 256 characters', path: `/beta/${long(256)}.cfg`, status: 414, why: 'a segment longer than 255 characters' },
  { name: 'more than 16 segments', path: '/beta' + '/a'.repeat(16) + '/secret.cfg', status: 414, why: 'more than 16 segments' },
  { name: 'double slashes', path: '//beta//secret.cfg', args: ['--path-as-is'], status: 401, why: 'empty segments collapse: this is /beta/secret.cfg, which is B' },
  { name: 'trailing slash', path: '/beta/secret.cfg/', args: ['--path-as-is'], status: 401, why: 'empty segments collapse: still B' },
  { name: 'query string', path: '/beta/secret.cfg?x=/../', args: ['--path-as-is'], status: 401, why: 'the query is not part of the path; the prefix names B' },
];

describe("tenant A's credentials read nothing of tenant B", () => {
  test('control: each tenant reads its own file and its own parameter', () => {
    const a = curl(`${server.httpUrl}/secret.cfg`, ALPHA);
    assert.equal(a.status, 200);
    assert.equal(a.text.trim(), ALPHA_FILE);
    const aDigest = curl(`${server.httpsUrl}/secret.cfg`, ALPHA_DIGEST);
    assert.equal(aDigest.status, 200);
    assert.equal(aDigest.text.trim(), ALPHA_FILE);
    // Double slashes are harmless inside one's own tree.
    const aSlashes = curl(`${server.httpUrl}//secret.cfg`, [...ALPHA, '--path-as-is']);
    assert.equal(aSlashes.status, 200);
    assert.equal(aSlashes.text.trim(), ALPHA_FILE);
  });

  for (const h of HOSTILE) {
    test(`${h.name}: ${h.path.length > 60 ? h.path.slice(0, 40) + `… (${h.path.length} chars)` : h.path} → ${h.status}`, () => {
      for (const base of [server.httpUrl, server.httpsUrl]) {
        const r = curl(`${base}${h.path}`, [...ALPHA, ...(h.args ?? [])]);
        const expected = Array.isArray(h.status) ? h.status : [h.status];
        assert.ok(expected.includes(r.status), `${base}${h.path.slice(0, 80)}: expected ${expected.join(' or ')} (${h.why}), got ${r.status}: ${r.text.slice(0, 200)}`);
        assertNothingOfBeta(r, h.name);
        if (r.status === 401) assertChallenge(r, h.name);
      }
    });
  }

  test('B reads its own file by prefix and by host, Basic and Digest, HTTP and HTTPS', () => {
    for (const base of [server.httpUrl, server.httpsUrl]) {
      for (const auth of [BETA, BETA_DIGEST]) {
        const byPrefix = curl(`${base}/beta/secret.cfg`, auth);
        assert.equal(byPrefix.status, 200, `${base} prefix ${auth[0]}`);
        assert.equal(byPrefix.text.trim(), BETA_SECRET);
        const byHost = curl(`${base}/secret.cfg`, [...auth, '-H', 'Host: beta.example.test']);
        assert.equal(byHost.status, 200, `${base} host ${auth[0]}`);
        assert.equal(byHost.text.trim(), BETA_SECRET);
        const sub = curl(`${base}/beta/sub/secret.cfg`, auth);
        assert.equal(sub.status, 200);
        assert.equal(sub.text.trim(), BETA_SECRET);
      }
    }
  });

  test("B's credentials do not open A's host either", () => {
    const r = curl(`${server.httpUrl}/secret.cfg`, [...BETA, '-H', 'Host: alpha.example.test']);
    assertChallenge(r, 'B on A host');
    assert.ok(!r.text.includes(ALPHA_FILE));
  });

  test("each tenant's generated config carries its own parameter and never the other's", () => {
    const a = curl(`${server.httpUrl}/${MAC}-polyprov.cfg`, [...ALPHA, '-A', PHONE_UA]);
    assert.equal(a.status, 200);
    const aParams = effectiveParameters([a.text]);
    assert.equal(aParams.get('feature.tenantMark'), ALPHA_MARK);
    assert.equal(aParams.get('feature.betaOnly'), undefined);
    assertNothingOfBeta(a, "A's config");

    const aHost = curl(`${server.httpUrl}/${MAC}-polyprov.cfg`, [...ALPHA_DIGEST, '-A', PHONE_UA, '-H', 'Host: alpha.example.test']);
    assert.equal(aHost.status, 200);
    assertNothingOfBeta(aHost, "A's config by host");

    const b = curl(`${server.httpUrl}/beta/${MAC}-polyprov.cfg`, [...BETA_DIGEST, '-A', PHONE_UA]);
    assert.equal(b.status, 200);
    const bParams = effectiveParameters([b.text]);
    assert.equal(bParams.get('feature.tenantMark'), BETA_MARK);
    assert.ok(!b.text.includes(ALPHA_MARK), "B's config has nothing of A");
  });
});

describe("no tenant can be configured to take over another's way in", () => {
  test("the CLI refuses A's user name, host name or prefix for another tenant, and A is still A", () => {
    const refusals: [string[], RegExp][] = [
      [['tenant', 'add', 'gamma', '--username', 'alpha', '--password', 'gamma-prov-pw-1'], /user ?name "alpha" is used by tenant "alpha"/],
      [['tenant', 'add', 'gamma', '--hostname', 'ALPHA.example.test', '--password', 'gamma-prov-pw-1'], /host name "alpha\.example\.test" is used by tenant "alpha"/],
      [['tenant', 'set', 'alpha', '--path-prefix', 'beta'], /path prefix "beta" is used by tenant "beta"/],
      [['tenant', 'set', 'beta', '--hostname', 'alpha.example.test'], /host name "alpha\.example\.test" is used by tenant "alpha"/],
      [['tenant', 'set', 'beta', '--username', 'alpha', '--password', 'beta-prov-pw-x'], /user ?name "alpha" is used by tenant "alpha"/],
    ];
    for (const [args, message] of refusals) {
      const r = cli(server.dataDir, args);
      assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}${r.stdout}`);
      assert.match(r.stderr, message);
    }
    const a = curl(`${server.httpUrl}/secret.cfg`, [...ALPHA, '-H', 'Host: alpha.example.test']);
    assert.equal(a.status, 200);
    assert.equal(a.text.trim(), ALPHA_FILE);
    const b = curl(`${server.httpUrl}/beta/secret.cfg`, BETA);
    assert.equal(b.text.trim(), BETA_SECRET);
  });
});

describe('authentication failures', () => {
  test('a wrong password gets 401 with no body and both challenges, Basic and Digest alike', () => {
    for (const base of [server.httpUrl, server.httpsUrl]) {
      assertChallenge(curl(`${base}/secret.cfg`, ['-u', 'alpha:wrong-password']), 'Basic, wrong password');
      assertChallenge(curl(`${base}/secret.cfg`, ['--digest', '-u', 'alpha:wrong-password']), 'Digest, wrong password');
      assertChallenge(curl(`${base}/secret.cfg`, ['-u', `beta:${ALPHA_PW}`]), "B's user name with A's password");
      assertChallenge(curl(`${base}/beta/secret.cfg`, ['-u', `beta:${ALPHA_PW}`]), "B's user name with A's password on B's prefix");
      assertChallenge(curl(`${base}/secret.cfg`, ['-u', `nobody:${ALPHA_PW}`]), 'unknown user name');
    }
  });

  test('no credentials get 401 whatever the path names', () => {
    for (const path of ['/secret.cfg', '/beta/secret.cfg', '/000000000000.cfg', `/${MAC}-polyprov.cfg`, '/no-such-file.cfg']) {
      assertChallenge(curl(`${server.httpUrl}${path}`), `no credentials: ${path}`);
    }
    assertChallenge(curl(`${server.httpUrl}/secret.cfg`, ['-H', 'Host: beta.example.test']), 'no credentials, B host');
    // -X HEAD, not -I: -I would print the headers where the body goes. The 401 has content-length 0, so curl does not wait.
    assertChallenge(curl(`${server.httpUrl}/secret.cfg`, ['-X', 'HEAD']), 'no credentials, HEAD');
  });

  describe('hand-made Digest answers', () => {
    let challenge: DigestChallenge;
    const url = (path: string) => `${server.httpUrl}${path}`;
    const answer = (over: Partial<Parameters<typeof digestAuthorization>[0]> & { uri: string }) =>
      digestAuthorization({ username: 'alpha', password: ALPHA_PW, realm: challenge.realm, nonce: challenge.nonce, method: 'GET', ...over });
    const send = (path: string, authorization: string) => curl(url(path), ['--path-as-is', '-H', `Authorization: ${authorization}`]);

    before(() => {
      const r = curl(url('/secret.cfg'));
      assert.equal(r.status, 401);
      challenge = digestChallengeOf(r.rawHeaders);
      assert.equal(challenge.qop, 'auth');
    });

    test('control: a correct answer is accepted', () => {
      const r = send('/secret.cfg', answer({ uri: '/secret.cfg' }));
      assert.equal(r.status, 200, 'the hand-made answer must work, or the tampered ones prove nothing');
      assert.equal(r.text.trim(), ALPHA_FILE);
      // Same answer as B's user on B's prefix, computed with the right password: accepted too.
      const b = send('/beta/secret.cfg', answer({ username: 'beta', password: BETA_PW, uri: '/beta/secret.cfg' }));
      assert.equal(b.status, 200);
      assert.equal(b.text.trim(), BETA_SECRET);
    });

    test('a tampered nonce is refused', () => {
      const n = challenge.nonce;
      const dot = n.indexOf('.');
      const flip = (c: string) => (c === 'A' ? 'B' : 'A');
      const tampered = [
        n.slice(0, -1) + flip(n.slice(-1)), // signature changed
        (parseInt(n.slice(0, dot), 36) + 60_000).toString(36) + n.slice(dot), // timestamp moved, signature kept
        n.slice(dot + 1), // no timestamp
        'x' + n, // garbage in front
      ];
      for (const nonce of tampered) {
        // The response is right for the tampered nonce: only the nonce itself is wrong.
        assertChallenge(send('/secret.cfg', answer({ uri: '/secret.cfg', nonce })), `nonce ${nonce}`);
      }
    });

    test('an answer whose uri is not the request target is refused', () => {
      assertChallenge(send('/secret.cfg', answer({ uri: '/000000000000.cfg' })), 'uri of another file');
      assertChallenge(send('/secret.cfg', answer({ uri: '/secret.cfg?x' })), 'uri with a query');
      assertChallenge(send('/secret.cfg', answer({ uri: 'http://127.0.0.1/secret.cfg' })), 'absolute uri');
    });

    test('a wrong response is refused', () => {
      const good = answer({ uri: '/secret.cfg', cnonce: 'c0ffee' });
      const response = /response="([0-9a-f]+)"/.exec(good)![1]!;
      const wrong = response.slice(0, -1) + (response.endsWith('0') ? '1' : '0');
      assertChallenge(send('/secret.cfg', answer({ uri: '/secret.cfg', cnonce: 'c0ffee', response: wrong })), 'one hex digit off');
      assertChallenge(send('/secret.cfg', answer({ uri: '/secret.cfg', password: BETA_PW })), "B's password");
      assertChallenge(send('/secret.cfg', answer({ uri: '/secret.cfg', response: '' })), 'empty response');
      assertChallenge(send('/secret.cfg', answer({ uri: '/secret.cfg', realm: 'other' })), 'other realm');
    });

    test('a good answer for one path, replayed on another path, is refused', () => {
      const good = answer({ uri: '/secret.cfg' });
      assert.equal(send('/secret.cfg', good).status, 200, 'control');
      // As sent: uri no longer matches the target.
      assertChallenge(send('/000000000000.cfg', good), 'replayed as is');
      // uri rewritten to the new target but the response kept: the response no longer matches.
      const response = /response="([0-9a-f]+)"/.exec(good)![1]!;
      const cnonce = /cnonce="([^"]+)"/.exec(good)![1]!;
      const rewritten = answer({ uri: '/secret.cfg', headerUri: '/000000000000.cfg', response, cnonce });
      assertChallenge(send('/000000000000.cfg', rewritten), 'replayed with the uri rewritten');
      // A's answer carried over to B's prefix, uri rewritten: wrong user and wrong response.
      assertChallenge(send('/beta/secret.cfg', answer({ uri: '/secret.cfg', headerUri: '/beta/secret.cfg', response, cnonce })), 'replayed onto B');
      // The method is covered too: a GET answer does not authorise a HEAD.
      const head = curl(url('/secret.cfg'), ['-X', 'HEAD', '-H', `Authorization: ${good}`]);
      assertChallenge(head, 'GET answer replayed as HEAD');
    });
  });
});

describe('tenant names do not leak before authentication', () => {
  // A client with no (or wrong) credentials must not be able to probe which host names and path
  // prefixes are tenants: a Host/prefix conflict is only reported after authentication.
  test('a request without valid credentials whose Host and prefix name two tenants gets the same bodiless 401 as any other', () => {
    const control = curl(`${server.httpUrl}/nosuchprefix/secret.cfg`, ['-H', 'Host: nosuch.example.test']);
    assertChallenge(control, 'unknown host and prefix');
    for (const auth of [[], ['-u', 'alpha:wrong-password'], ['-u', `beta:${ALPHA_PW}`]]) {
      const r = curl(`${server.httpUrl}/beta/secret.cfg`, [...auth, '-H', 'Host: alpha.example.test']);
      assertNothingOfBeta(r, 'conflict');
      assert.ok(!/beta|alpha|different tenants/i.test(r.text), `the body names tenants: ${JSON.stringify(r.text)}`);
      assertChallenge(r, `host alpha + prefix beta, credentials ${JSON.stringify(auth)}`);
    }
  });
  test('the prefix tenant\'s own credentials with another tenant\'s Host get 403: the request is ambiguous', () => {
    const r = curl(`${server.httpUrl}/beta/secret.cfg`, ['-u', `beta:${BETA_PW}`, '-H', 'Host: alpha.example.test']);
    assert.equal(r.status, 403);
    assert.ok(!r.text.includes('BETA-SECRET'));
  });
});
