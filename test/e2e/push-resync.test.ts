// Resync through the phones' Push API as an administrator runs it: `polyprov push enable` puts the
// push credentials into the phone's configuration (served by a real `polyprov serve`), then
// `polyprov resync start --via push` POSTs to a node:http server in this test playing the phone's
// /push: it challenges with Digest and verifies the answer, the method, the content type and the
// XML body itself, as the phone would.

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { XMLParser } from 'fast-xml-parser';
import type { AdminContext } from '../../src/admin/admin-context.js';
import { addDevice } from '../../src/admin/structure.js';
import { addTenant } from '../../src/admin/tenants.js';
import { openAdminContext } from '../../src/app.js';
import type { ReachResult } from '../../src/store/store.js';
import { cliAsync, type CliExit } from '../support/cli-async.js';
import { curlAsync } from '../support/curl-async.js';
import { startServer, tempDir, type ServerProcess } from '../support/server-process.js';
import { configParameters } from '../support/config-parameters.js';

const MAC = '0004f2050001';
const PLAIN_MAC = '0004f2050002';
const UA = (mac: string) => `FileTransport PolycomVVX-VVX_450-UA/6.4.6.2163 (SN:${mac}) Type/Application`;
const PASSWORDS = { acme: 'acme-pw-push-1', plain: 'plain-pw-push-1' } as const;
const REALM = 'PolycomSPIP';

let server: ServerProcess;
let ctx: AdminContext;
let dataDir: string;

interface Push {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** The phone's web server: /push with Digest, and what it saw and thought of each request. */
class PushPhone {
  readonly requests: Push[] = [];
  /** Problems found in authenticated requests; empty when every one was right. */
  readonly problems: string[] = [];
  /** 'verify' answers a correct push 200; 'deny' answers 401 to everything, as with wrong credentials. */
  mode: 'verify' | 'deny' = 'verify';
  private readonly nonce = randomBytes(16).toString('hex');
  private constructor(private readonly http: Server) {}

  static async start(): Promise<PushPhone> {
    const http = createServer();
    const phone = new PushPhone(http);
    http.on('request', (req, res) => phone.handle(req, res));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    return phone;
  }

  get port(): number {
    return (this.http.address() as AddressInfo).port;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const push: Push = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      this.requests.push(push);
      const authorization = req.headers.authorization;
      if (this.mode === 'deny' || !authorization) {
        res.writeHead(401, { 'www-authenticate': `Digest realm="${REALM}", nonce="${this.nonce}", qop="auth", algorithm=MD5` }).end();
        return;
      }
      const problems = this.check(push, authorization);
      this.problems.push(...problems);
      if (problems.length) res.writeHead(403, { 'content-type': 'text/plain' }).end(`${problems.join('; ')}\n`);
      else res.writeHead(200, { 'content-type': 'text/plain' }).end('Push Message will be displayed successfully\n');
    });
  }

  /** What a phone checks: the Digest answer (recomputed here), POST to /push, the content type, the message. */
  private check(push: Push, authorization: string): string[] {
    const problems: string[] = [];
    const p = digestParams(authorization);
    if (!/^Digest\s/i.test(authorization)) problems.push(`not a Digest answer: ${authorization}`);
    if (p.get('username') !== 'Polycom') problems.push(`username ${p.get('username')}`);
    if (p.get('realm') !== REALM) problems.push(`realm ${p.get('realm')}`);
    if (p.get('nonce') !== this.nonce) problems.push('nonce');
    if (p.get('uri') !== push.url) problems.push(`uri ${p.get('uri')} is not the request's ${push.url}`);
    if (p.get('qop') !== 'auth' || !/^[0-9a-f]{8}$/.test(p.get('nc') ?? '') || !p.get('cnonce')) problems.push('qop, nc or cnonce');
    const ha1 = md5(`Polycom:${REALM}:s3cret`);
    const ha2 = md5(`${push.method}:${p.get('uri')}`);
    if (p.get('response') !== md5(`${ha1}:${this.nonce}:${p.get('nc')}:${p.get('cnonce')}:auth:${ha2}`)) problems.push('response does not match the password');
    if (push.method !== 'POST') problems.push(`method ${push.method}`);
    if (push.url !== '/push') problems.push(`path ${push.url}`);
    if (push.headers['content-type'] !== 'application/x-com-polycom-spipx') problems.push(`content type ${push.headers['content-type']}`);
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@_', parseTagValue: false }).parse(push.body) as {
      PolycomIPPhone?: { Data?: { '#text'?: string; '@_priority'?: string } };
    };
    const data = doc.PolycomIPPhone?.Data;
    if (data?.['@_priority'] !== 'Critical' || data['#text'] !== 'Action:UpdateConfig') problems.push(`body ${push.body}`);
    return problems;
  }

  close(): Promise<void> {
    this.http.closeAllConnections();
    return new Promise((resolve) => this.http.close(() => resolve()));
  }
}

const md5 = (s: string) => createHash('md5').update(s).digest('hex');

function digestParams(header: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of header.replace(/^\s*Digest\s+/i, '').matchAll(/([A-Za-z0-9-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]+))/g)) {
    out.set(m[1]!.toLowerCase(), m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3]!);
  }
  return out;
}


async function run(args: string[], code = 0): Promise<CliExit> {
  const r = await cliAsync(server.dataDir, args);
  assert.equal(r.code, code, `polyprov ${args.join(' ')} exited ${r.code}, expected ${code}:\n${r.stderr}${r.stdout}`);
  return r;
}

async function result(slug: string, mac: string): Promise<ReachResult> {
  const rows = JSON.parse((await run(['resync', 'results', mac, '--json', '-t', slug])).stdout) as ReachResult[];
  const push = rows.find((r) => r.method === 'push');
  assert.ok(push, `a push result for ${mac}: ${JSON.stringify(rows)}`);
  return push;
}

let phone: PushPhone;

before(async () => {
  dataDir = tempDir();
  ctx = await openAdminContext({ dataDir });
  const acme = (await addTenant(ctx, 'acme', { password: PASSWORDS.acme })).tenant;
  const plain = (await addTenant(ctx, 'plain', { password: PASSWORDS.plain })).tenant;
  await addDevice(ctx, acme, MAC, {});
  await addDevice(ctx, plain, PLAIN_MAC, {});
  phone = await PushPhone.start();
  server = await startServer({ dataDir, args: ['--no-tftp', '--no-ftp', '--no-ftps'] });
});

after(async () => {
  await server?.stop();
  await phone?.close();
  await ctx?.store.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('polyprov resync --via push', () => {
  test('push enable gives the phone the push credentials and switches, and nothing of polyprov', async () => {
    const r = await run(['push', 'enable', '-t', 'acme', '--username', 'Polycom', '--password', 's3cret', '--url', `http://127.0.0.1:${phone.port}/push`]);
    assert.doesNotMatch(r.stdout, /s3cret/, 'the password is not echoed');
    const cfg = await curlAsync(`${server.httpUrl}/${MAC}-polyprov.cfg`, ['-u', `acme:${PASSWORDS.acme}`, '-A', UA(MAC)]);
    assert.equal(cfg.status, 200, cfg.text);
    const params = configParameters(cfg.text);
    assert.deepEqual(
      ['apps.push.username', 'apps.push.password', 'apps.push.messageType', 'httpd.enabled', 'apps.push.secureTunnelRequired'].map((n) => [n, params.get(n)]),
      [
        ['apps.push.username', 'Polycom'],
        ['apps.push.password', 's3cret'],
        ['apps.push.messageType', '5'],
        ['httpd.enabled', '1'],
        ['apps.push.secureTunnelRequired', '0'],
      ],
    );
    assert.deepEqual([...params.keys()].filter((n) => n.startsWith('polyprov.')), [], 'the push URL template stays on the server');
  });

  test('the phone challenges, the answer verifies, and the phone re-reads its configuration: ok 200', async () => {
    phone.mode = 'verify';
    const before = phone.requests.length;
    const r = await run(['resync', 'start', '--via', 'push', MAC, '-t', 'acme']);
    assert.match(r.stdout, /done: 1 ok, 0 rejected, 0 timeout, 0 error/);
    const seen = phone.requests.slice(before);
    assert.equal(seen.length, 2, 'one request, challenged, and one authenticated answer');
    assert.equal(seen[0]!.headers.authorization, undefined);
    assert.deepEqual(phone.problems, [], 'the phone found nothing wrong with the authenticated push');
    const res = await result('acme', MAC);
    assert.deepEqual([res.outcome, res.status, res.target], ['ok', 200, `http://127.0.0.1:${phone.port}/push`]);
  });

  test('a phone that refuses the credentials: rejected 401', async () => {
    phone.mode = 'deny';
    try {
      const r = await run(['resync', 'start', '--via', 'push', MAC, '-t', 'acme'], 4);
      assert.match(r.stdout, /done: 0 ok, 1 rejected, 0 timeout, 0 error/);
      const res = await result('acme', MAC);
      assert.deepEqual([res.outcome, res.status], ['rejected', 401]);
      assert.match(res.detail, /apps\.push\.username\/password/, 'the detail says what to check');
    } finally {
      phone.mode = 'verify';
    }
  });

  test('without push enable there is nothing to answer the phone with: an error naming the push credentials', async () => {
    const before = phone.requests.length;
    const r = await run(['resync', 'start', '--via', 'push', PLAIN_MAC, '-t', 'plain'], 4);
    assert.match(r.stdout, /done: 0 ok, 0 rejected, 0 timeout, 1 error/);
    const res = await result('plain', PLAIN_MAC);
    assert.equal(res.outcome, 'error');
    assert.match(res.detail, /push credentials/);
    assert.equal(phone.requests.length, before, 'nothing was sent');
  });
});
