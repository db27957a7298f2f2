// The Push API sender against a phone's side written here: real node:http and node:https servers
// on loopback that challenge with Digest and check everything a phone would before acting.

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import { XMLParser } from 'fast-xml-parser';
import selfsigned from 'selfsigned';
import { pushUpdate } from '../../src/reach/push/push-sender.js';

const USER = 'Polycom';
const PASSWORD = 'UCSToolkit';
const REALM = 'PUSH Authentication';
const md5 = (s: string) => createHash('md5').update(s, 'utf8').digest('hex');
const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', parseTagValue: false, parseAttributeValue: false });

/** What one request looked like, and why the phone refused it (undefined: accepted). */
interface Seen {
  authorization?: string;
  refusal?: string;
}

/** key=value and key="value" pairs of an Authorization header, read independently of the code under test. */
function authParams(header: string): Map<string, string> {
  const params = new Map<string, string>();
  for (const m of header.replace(/^Digest\s+/i, '').matchAll(/([A-Za-z-]+)=(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/g)) {
    params.set(m[1]!.toLowerCase(), m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3]!);
  }
  return params;
}

/** Every check a phone makes before it re-reads its configuration; the first one failing, or undefined. */
function refusalOf(req: IncomingMessage, body: string, issued: Set<string>): string | undefined {
  if (req.method !== 'POST') return `method ${req.method}`;
  if (req.headers['content-type'] !== 'application/x-com-polycom-spipx') return `content-type ${req.headers['content-type']}`;
  let parsed: unknown;
  try {
    parsed = xml.parse(body, true);
  } catch (err) {
    return `body does not parse: ${(err as Error).message}`;
  }
  if (!isDeepStrictEqual(parsed, { PolycomIPPhone: { Data: { priority: 'Critical', '#text': 'Action:UpdateConfig' } } })) return `body ${body}`;
  const header = req.headers.authorization ?? '';
  if (!/^Digest\s/i.test(header)) return 'no Digest authorization';
  const p = authParams(header);
  if (p.get('username') !== USER) return `username ${p.get('username')}`;
  if (p.get('realm') !== REALM) return `realm ${p.get('realm')}`;
  const nonce = p.get('nonce') ?? '';
  if (!issued.has(nonce)) return `nonce ${nonce} was never issued`;
  if (p.get('uri') !== req.url) return `uri ${p.get('uri')} is not the request's ${req.url}`;
  if (p.get('qop') !== 'auth') return `qop ${p.get('qop')}`;
  const nc = p.get('nc') ?? '';
  const cnonce = p.get('cnonce') ?? '';
  // Each nonce is fresh, so this is its first use.
  if (nc !== '00000001' || cnonce.length < 8) return `nc ${nc} / cnonce ${cnonce}`;
  const expected = md5(`${md5(`${USER}:${REALM}:${PASSWORD}`)}:${nonce}:${nc}:${cnonce}:auth:${md5(`POST:${req.url}`)}`);
  if (p.get('response') !== expected) return 'response does not match the password';
  return undefined;
}

/** The phone's /push handler: a fresh Digest challenge for anything not fully right, 200 otherwise. */
function phone(record: (seen: Seen) => void) {
  const issued = new Set<string>();
  return (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const refusal = refusalOf(req, Buffer.concat(chunks).toString('utf8'), issued);
      record({ ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}), ...(refusal ? { refusal } : {}) });
      if (refusal === undefined) return res.writeHead(200, { 'content-type': 'text/plain' }).end('OK');
      const nonce = randomBytes(16).toString('hex');
      issued.add(nonce);
      res.writeHead(401, { 'www-authenticate': `Digest realm="${REALM}", nonce="${nonce}", qop="auth", algorithm=MD5` }).end();
    });
  };
}

/** A server on loopback, closed in after() even when a test is cut short by its timeout. */
async function serve(server: Server): Promise<number> {
  servers.push(server);
  return listen(server);
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

function close(server: Server | undefined): Promise<void> {
  if (!server) return Promise.resolve();
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

let seenHttp: Seen[] = [];
let seenHttps: Seen[] = [];
const servers: Server[] = [];
let httpPort = 0;
let httpsPort = 0;

before(async () => {
  // One handler per server, so each keeps the nonces it issued; tests swap the arrays they read.
  const http = createHttpServer(phone((s) => seenHttp.push(s)));
  httpPort = await serve(http);

  const pems = await selfsigned.generate([{ name: 'commonName', value: 'Polycom VVX 450' }], { keyType: 'rsa', keySize: 2048, algorithm: 'sha256' });
  const https = createHttpsServer({ key: pems.private, cert: pems.cert }, phone((s) => seenHttps.push(s)));
  httpsPort = await serve(https);
});
after(async () => {
  await Promise.all(servers.map(close));
});

describe('pushUpdate', { timeout: 15_000 }, () => {
  test('over HTTP: challenged, answers with Digest, the phone accepts (2 attempts)', async () => {
    seenHttp = [];
    const outcome = await pushUpdate({ url: `http://127.0.0.1:${httpPort}/push`, username: USER, password: PASSWORD });
    assert.equal(outcome.kind, 'ok', JSON.stringify({ outcome, seenHttp }));
    assert.deepEqual({ ...outcome, elapsedMs: 0 }, { kind: 'ok', status: 200, attempts: 2, elapsedMs: 0 });
    assert.equal(seenHttp.length, 2);
    assert.equal(seenHttp[0]!.authorization, undefined, 'the first request carries no credentials');
    assert.equal(seenHttp[1]!.refusal, undefined);
  });

  test('the Digest uri is the path and query of the URL', async () => {
    seenHttp = [];
    const outcome = await pushUpdate({ url: `http://127.0.0.1:${httpPort}/push?from=polyprov`, username: USER, password: PASSWORD });
    assert.equal(outcome.kind, 'ok', JSON.stringify({ outcome, seenHttp }));
    assert.match(seenHttp[1]!.authorization ?? '', /uri="\/push\?from=polyprov"/);
  });

  test("over HTTPS with the phone's self-signed certificate, not verified by default", async () => {
    seenHttps = [];
    const outcome = await pushUpdate({ url: `https://127.0.0.1:${httpsPort}/push`, username: USER, password: PASSWORD });
    assert.equal(outcome.kind, 'ok', JSON.stringify({ outcome, seenHttps }));
    assert.equal(outcome.kind === 'ok' && outcome.attempts, 2);
    assert.equal(seenHttps.length, 2);
  });

  test('a wrong password: rejected, and the reason names the settings to check', async () => {
    const outcome = await pushUpdate({ url: `http://127.0.0.1:${httpPort}/push`, username: USER, password: 'wrong' });
    assert.deepEqual(
      { ...outcome, elapsedMs: 0 },
      { kind: 'rejected', status: 401, reason: 'push credentials refused by the phone (check apps.push.username/password)', attempts: 2, elapsedMs: 0 },
    );
  });

  test('a body the phone does not accept is rejected too (the phone checks it)', async () => {
    const outcome = await pushUpdate({ url: `http://127.0.0.1:${httpPort}/push`, username: USER, password: PASSWORD, body: '<PolycomIPPhone><Data priority="Normal">Key:Line1</Data></PolycomIPPhone>' });
    assert.equal(outcome.kind, 'rejected');
  });

  test('a phone that only offers Basic gets Basic, once', async () => {
    const seen: string[] = [];
    const basic = createHttpServer((req, res) => {
      req.resume();
      req.on('end', () => {
        seen.push(req.headers.authorization ?? '');
        if (req.headers.authorization === `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`) return res.writeHead(200).end('OK');
        res.writeHead(401, { 'www-authenticate': 'Basic realm="push"' }).end();
      });
    });
    const port = await serve(basic);
    const ok = await pushUpdate({ url: `http://127.0.0.1:${port}/push`, username: USER, password: PASSWORD });
    assert.equal(ok.kind === 'ok' && ok.attempts, 2, JSON.stringify(ok));
    const refused = await pushUpdate({ url: `http://127.0.0.1:${port}/push`, username: USER, password: 'wrong' });
    assert.equal(refused.kind === 'rejected' && refused.attempts, 2, JSON.stringify(refused));
    assert.equal(seen.length, 4);
  });

  test('a challenge that is neither Digest nor Basic: rejected after one attempt, naming it', async () => {
    const port = await serve(
      createHttpServer((req, res) => {
        req.resume();
        res.writeHead(401, { 'www-authenticate': 'Negotiate' }).end();
      }),
    );
    const outcome = await pushUpdate({ url: `http://127.0.0.1:${port}/push`, username: USER, password: PASSWORD });
    assert.equal(outcome.kind, 'rejected');
    assert.equal(outcome.kind === 'rejected' && outcome.attempts, 1);
    assert.match(outcome.kind === 'rejected' ? outcome.reason : '', /cannot answer \(WWW-Authenticate: Negotiate\)/);
  });

  test("another final status is rejected with the phone's own words", async () => {
    const busy = createHttpServer((req, res) => {
      req.resume();
      res.writeHead(403, { 'content-type': 'text/plain' }).end(`Push disabled\r\n${'x'.repeat(100_000)}`);
    });
    const port = await serve(busy);
    const outcome = await pushUpdate({ url: `http://127.0.0.1:${port}/push`, username: USER, password: PASSWORD });
    assert.equal(outcome.kind, 'rejected');
    if (outcome.kind !== 'rejected') return;
    assert.equal(outcome.status, 403);
    assert.equal(outcome.attempts, 1);
    assert.match(outcome.reason, /^the phone answered 403 Forbidden: Push disabled x+$/);
    assert.ok(outcome.reason.length <= 250, 'a long page is cut short');
  });

  test('a phone that never answers: timeout within timeoutMs', async () => {
    const silent = createHttpServer(() => undefined);
    const port = await serve(silent);
    const outcome = await pushUpdate({ url: `http://127.0.0.1:${port}/push`, username: USER, password: PASSWORD, timeoutMs: 300 });
    assert.equal(outcome.kind, 'timeout');
    assert.equal(outcome.kind === 'timeout' && outcome.attempts, 1);
  });

  test('a phone that starts an answer and stalls: timeout too', async () => {
    const stalling = createHttpServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-length': 100 });
      res.write('OK');
    });
    const port = await serve(stalling);
    const outcome = await pushUpdate({ url: `http://127.0.0.1:${port}/push`, username: USER, password: PASSWORD, timeoutMs: 300 });
    assert.equal(outcome.kind, 'timeout', JSON.stringify(outcome));
  });

  test('a phone that cuts its answer short: an error, not a hang', async () => {
    const cutting = createHttpServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-length': 100 });
      res.write('OK', () => res.socket?.destroy());
    });
    const port = await serve(cutting);
    const outcome = await pushUpdate({ url: `http://127.0.0.1:${port}/push`, username: USER, password: PASSWORD, timeoutMs: 5000 });
    assert.equal(outcome.kind, 'error', JSON.stringify(outcome));
    assert.match(outcome.kind === 'error' ? outcome.message : '', /closed the connection/);
  });

  test('connection refused: an error saying so', async () => {
    // A port that was just free: listen, note it, close.
    const gone = createHttpServer();
    const port = await listen(gone);
    await close(gone);
    const outcome = await pushUpdate({ url: `http://127.0.0.1:${port}/push`, username: USER, password: PASSWORD });
    assert.equal(outcome.kind, 'error');
    assert.match(outcome.kind === 'error' ? outcome.message : '', /refused the connection/);
  });

  test('verification asked for, against a self-signed certificate: an error about the certificate', async () => {
    seenHttps = [];
    const outcome = await pushUpdate({ url: `https://127.0.0.1:${httpsPort}/push`, username: USER, password: PASSWORD, tls: { rejectUnauthorized: true } });
    assert.equal(outcome.kind, 'error');
    assert.match(outcome.kind === 'error' ? outcome.message : '', /TLS handshake .* failed: self[- ]signed certificate/);
    assert.equal(seenHttps.length, 0, 'nothing was sent to an unverified server');
  });

  test('a URL that is not http(s): an error, no exception', async () => {
    for (const url of ['ftp://10.0.0.5/push', 'not a url']) {
      const outcome = await pushUpdate({ url, username: USER, password: PASSWORD });
      assert.equal(outcome.kind, 'error');
      assert.match(outcome.kind === 'error' ? outcome.message : '', /give a URL such as https:\/\/10\.0\.0\.5\/push/);
    }
  });
});
