import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { addFile } from '../../src/admin/files.js';
import { setParameters } from '../../src/admin/parameters.js';
import { addDevice } from '../../src/admin/structure.js';
import { addTenant } from '../../src/admin/tenants.js';
import { openAdminContext } from '../../src/app.js';
import type { AdminContext } from '../../src/admin/admin-context.js';
import type { Tenant } from '../../src/store/store.js';
import { curl } from '../support/curl.js';
import { curlAsync } from '../support/curl-async.js';
import { userAgentOf, VVX_450 } from '../support/phone-boot.js';
import { startServer, tempDir, type ServerProcess } from '../support/server-process.js';

const scratch: string[] = [];
const scratchDir = () => {
  const d = tempDir();
  scratch.push(d);
  return d;
};

const PASSWORD = 'acme-prov-pw-1';
const AUTH = ['-u', `acme:${PASSWORD}`];
const BASIC = `Basic ${Buffer.from(`acme:${PASSWORD}`).toString('base64')}`;
const MAC = '0004f2000001';
const PHONE_UA = userAgentOf({ ...VVX_450, mac: MAC });
const SIZE = 3 * 1024 * 1024;
const BIG = randomBytes(SIZE);
const BIG_PATH = 'firmware/big.sip.ld';
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let server: ServerProcess;
let ctx: AdminContext;
let acme: Tenant;
let dataDir: string;

before(async () => {
  dataDir = scratchDir();
  ctx = await openAdminContext({ dataDir });
  acme = (await addTenant(ctx, 'acme', { password: PASSWORD })).tenant;
  await addDevice(ctx, acme, MAC, {});
  await setParameters(ctx, acme, {}, ['feature.rev=1'], { force: true });
  const local = join(scratchDir(), 'big');
  writeFileSync(local, BIG);
  await addFile(ctx, acme, BIG_PATH, local);
  server = await startServer({ dataDir });
});

after(async () => {
  await server?.stop();
  await ctx?.store.close();
  for (const d of scratch) rmSync(d, { recursive: true, force: true });
});

const url = (path: string) => `${server.httpUrl}/${path}`;

interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** One request with node:http, for what curl cannot show plainly (a HEAD response's body). */
function raw(method: string, path: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  const u = new URL(url(path));
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: u.hostname, port: u.port, method, path: u.pathname, headers: { authorization: BASIC, connection: 'close', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.setTimeout(10_000, () => req.destroy(new Error(`${method} ${path}: timed out`)));
    req.on('error', reject);
    req.end();
  });
}

describe('a large file', () => {
  test('GET returns every byte', () => {
    const r = curl(url(BIG_PATH), AUTH);
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-length'], String(SIZE));
    assert.equal(r.headers['accept-ranges'], 'bytes');
    assert.match(r.headers['etag'] ?? '', /^"[^"]+"$/);
    assert.equal(r.body.length, SIZE);
    assert.equal(sha256(r.body), sha256(BIG));
  });

  test('HEAD gives the same headers and no body', async () => {
    const get = curl(url(BIG_PATH), AUTH);
    const head = await raw('HEAD', BIG_PATH);
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], String(SIZE));
    assert.equal(head.headers['etag'], get.headers['etag']);
    assert.equal(head.headers['content-type'], get.headers['content-type']);
    assert.equal(head.body.length, 0);
  });

  test('a byte range gives 206 with content-range and exactly those bytes', () => {
    const r = curl(url(BIG_PATH), [...AUTH, '-r', '100-199']);
    assert.equal(r.status, 206);
    assert.equal(r.headers['content-range'], `bytes 100-199/${SIZE}`);
    assert.equal(r.headers['content-length'], '100');
    assert.ok(r.body.equals(BIG.subarray(100, 200)));
  });

  test('open-ended and suffix ranges', () => {
    const open = curl(url(BIG_PATH), [...AUTH, '-r', '3000000-']);
    assert.equal(open.status, 206);
    assert.equal(open.headers['content-range'], `bytes 3000000-${SIZE - 1}/${SIZE}`);
    assert.equal(open.body.length, SIZE - 3000000);
    assert.ok(open.body.equals(BIG.subarray(3000000)));

    const suffix = curl(url(BIG_PATH), [...AUTH, '-r', '-500']);
    assert.equal(suffix.status, 206);
    assert.equal(suffix.headers['content-range'], `bytes ${SIZE - 500}-${SIZE - 1}/${SIZE}`);
    assert.ok(suffix.body.equals(BIG.subarray(SIZE - 500)));

    const last = curl(url(BIG_PATH), [...AUTH, '-r', `${SIZE - 1}-`]);
    assert.equal(last.status, 206);
    assert.ok(last.body.equals(BIG.subarray(SIZE - 1)));

    // A range past the end is cut at the end (RFC 9110 §14.1.2).
    const past = curl(url(BIG_PATH), [...AUTH, '-r', `${SIZE - 10}-${SIZE + 1000}`]);
    assert.equal(past.status, 206);
    assert.equal(past.headers['content-range'], `bytes ${SIZE - 10}-${SIZE - 1}/${SIZE}`);
    assert.ok(past.body.equals(BIG.subarray(SIZE - 10)));
  });

  test('an unsatisfiable range gives 416 with content-range bytes */size', () => {
    for (const range of [`${SIZE}-`, '4000000-', `${SIZE + 5}-${SIZE + 10}`]) {
      const r = curl(url(BIG_PATH), [...AUTH, '-r', range]);
      assert.equal(r.status, 416, range);
      assert.equal(r.headers['content-range'], `bytes */${SIZE}`, range);
      assert.equal(r.body.length, 0, range);
    }
  });

  test('If-Range: the range with the current tag, the whole file with an old one', () => {
    const etag = curl(url(BIG_PATH), [...AUTH, '-I']).headers['etag']!;
    const current = curl(url(BIG_PATH), [...AUTH, '-r', '100-199', '-H', `If-Range: ${etag}`]);
    assert.equal(current.status, 206);
    assert.ok(current.body.equals(BIG.subarray(100, 200)));
    const old = curl(url(BIG_PATH), [...AUTH, '-r', '100-199', '-H', 'If-Range: "an-older-version"']);
    assert.equal(old.status, 200);
    assert.equal(old.headers['content-range'], undefined);
    assert.equal(sha256(old.body), sha256(BIG));
  });

  test('several ranges: the whole file (no multipart/byteranges), never a wrong slice', () => {
    const r = curl(url(BIG_PATH), [...AUTH, '-r', '0-1,5000-5001']);
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-range'], undefined);
    assert.equal(sha256(r.body), sha256(BIG));
  });

  test('If-None-Match with the ETag gives 304 and no body; another tag gives the file', () => {
    const etag = curl(url(BIG_PATH), [...AUTH, '-I']).headers['etag']!;
    assert.ok(etag);
    const r = curl(url(BIG_PATH), [...AUTH, '-H', `If-None-Match: ${etag}`]);
    assert.equal(r.status, 304);
    assert.equal(r.body.length, 0);
    assert.equal(r.headers['etag'], etag);
    const inList = curl(url(BIG_PATH), [...AUTH, '-H', `If-None-Match: "nope", ${etag}`]);
    assert.equal(inList.status, 304);
    const other = curl(url(BIG_PATH), [...AUTH, '-H', 'If-None-Match: "not-the-tag"']);
    assert.equal(other.status, 200);
    assert.equal(other.body.length, SIZE);
  });
});

describe('generated files', () => {
  for (const path of ['000000000000.cfg', `${MAC}-polyprov.cfg`]) {
    test(`${path} has an ETag, answers If-None-Match with 304, and the tag follows the content`, async () => {
      const first = curl(url(path), [...AUTH, '-A', PHONE_UA]);
      assert.equal(first.status, 200);
      const etag = first.headers['etag'];
      assert.match(etag ?? '', /^"[^"]+"$/);
      const again = curl(url(path), [...AUTH, '-A', PHONE_UA]);
      assert.equal(again.headers['etag'], etag, 'same content, same tag');
      const cond = curl(url(path), [...AUTH, '-A', PHONE_UA, '-H', `If-None-Match: ${etag}`]);
      assert.equal(cond.status, 304);
      assert.equal(cond.body.length, 0);

      const range = curl(url(path), [...AUTH, '-A', PHONE_UA, '-r', '0-9']);
      assert.equal(range.status, 206);
      assert.equal(range.headers['content-range'], `bytes 0-9/${first.body.length}`);
      assert.ok(range.body.equals(first.body.subarray(0, 10)));

      if (path.endsWith('-polyprov.cfg')) {
        // A policy change makes a new body with a new tag: the old tag no longer matches.
        await setParameters(ctx, acme, {}, [`feature.rev=${Date.now()}`], { force: true });
        const changed = curl(url(path), [...AUTH, '-A', PHONE_UA, '-H', `If-None-Match: ${etag}`]);
        assert.equal(changed.status, 200);
        assert.notEqual(changed.headers['etag'], etag);
        assert.notEqual(changed.text, first.text);
      }
    });
  }
});

/** Open descriptors of the server process, and how many of them are files of the blob store. */
function serverFds(pid: number): { total: number; blobs: number } {
  const dir = `/proc/${pid}/fd`;
  let blobs = 0;
  const names = readdirSync(dir);
  for (const n of names) {
    try {
      if (readlinkSync(join(dir, n)).startsWith(join(dataDir, 'blobs'))) blobs++;
    } catch {
      /* closed while we looked */
    }
  }
  return { total: names.length, blobs };
}

/** Asks for the big file over a raw socket, reads about 64 KB of the response, and hangs up. */
function readSomeAndHangUp(): Promise<number> {
  const u = new URL(server.httpUrl);
  return new Promise((resolve, reject) => {
    const s = connect(Number(u.port), u.hostname, () => {
      s.write(`GET /${BIG_PATH} HTTP/1.1\r\nHost: ${u.host}\r\nAuthorization: ${BASIC}\r\nUser-Agent: ${PHONE_UA}\r\n\r\n`);
    });
    let got = 0;
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`only ${got} bytes arrived`));
    }, 10_000);
    s.on('data', (d: Buffer) => {
      if (got === 0) assert.match(d.toString('latin1', 0, 20), /^HTTP\/1\.1 200 /);
      got += d.length;
      if (got >= 64 * 1024) {
        clearTimeout(timer);
        s.destroy();
        resolve(got);
      }
    });
    s.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

describe('clients that hang up mid-body', () => {
  test('50 aborted downloads leave no file descriptor open, and the server keeps serving', { skip: process.platform !== 'linux' && 'needs /proc' }, async () => {
    const pid = server.child.pid!;
    // Warm up: every lazily opened descriptor (database, TLS material…) is open before counting.
    assert.equal(curl(url(BIG_PATH), AUTH).status, 200);
    await readSomeAndHangUp();
    await new Promise((r) => setTimeout(r, 300));
    const before = serverFds(pid);

    for (let i = 0; i < 50; i++) await readSomeAndHangUp();

    // Settle: the server notices each hang-up asynchronously. Poll, bounded.
    let now = serverFds(pid);
    for (let i = 0; i < 50 && (now.blobs > 0 || now.total > before.total + 3); i++) {
      await new Promise((r) => setTimeout(r, 100));
      now = serverFds(pid);
    }
    assert.equal(now.blobs, 0, 'no blob file stays open after its client left');
    assert.ok(now.total <= before.total + 3, `descriptors grew from ${before.total} to ${now.total}`);

    const r = curl(url(BIG_PATH), AUTH);
    assert.equal(r.status, 200);
    assert.equal(sha256(r.body), sha256(BIG));
    assert.equal(curl(url('000000000000.cfg'), AUTH).status, 200);
  });
});

describe('methods other than GET and HEAD', () => {
  test('PUT of a core dump (not stored yet) is 501 with a plain message', () => {
    const r = curl(url(`coredumps/${MAC}-core.gz`), [...AUTH, '-A', PHONE_UA, '-X', 'PUT', '--data-binary', 'core\n']);
    assert.equal(r.status, 501);
    assert.match(r.headers['content-type'] ?? '', /^text\/plain/);
    assert.match(r.text, /upload/i, 'the message says what is not implemented');
  });

  test('a 20 MB log PUT, beyond the limit, is answered 413 without the server reading it all, and the server carries on', () => {
    const big = join(scratchDir(), 'upload');
    writeFileSync(big, randomBytes(20 * 1024 * 1024));
    const r = curl(url(`logs/${MAC}-app.log`), [...AUTH, '-X', 'PUT', '--data-binary', `@${big}`]);
    assert.equal(r.status, 413);
    const anon = curl(url(`logs/${MAC}-app.log`), ['-X', 'PUT', '--data-binary', `@${big}`]);
    assert.equal(anon.status, 401);
    const get = curl(url(BIG_PATH), AUTH);
    assert.equal(get.status, 200);
    assert.equal(sha256(get.body), sha256(BIG));
  });

  test('PUT without credentials is asked to authenticate, not told anything', () => {
    const r = curl(url(`logs/${MAC}-app.log`), ['-X', 'PUT', '--data-binary', 'x']);
    assert.equal(r.status, 401);
    assert.equal(r.body.length, 0);
  });

  test('PUT of the master file is 405 with an Allow header', () => {
    const r = curl(url('000000000000.cfg'), [...AUTH, '-X', 'PUT', '--data-binary', '<x/>']);
    assert.equal(r.status, 405);
    const allow = (r.headers['allow'] ?? '').split(',').map((m) => m.trim());
    assert.ok(allow.includes('GET') && allow.includes('HEAD'), `allow: ${r.headers['allow']}`);
    assert.ok(!allow.includes('PUT'), 'PUT is exactly what was refused here');
    // The master file is unchanged.
    assert.match(curl(url('000000000000.cfg'), AUTH).text, /APP_FILE_PATH/);
  });

  test('DELETE, POST and PATCH are 405 with an Allow header', () => {
    for (const method of ['DELETE', 'POST', 'PATCH']) {
      const r = curl(url('000000000000.cfg'), [...AUTH, '-X', method]);
      assert.equal(r.status, 405, method);
      const allow = (r.headers['allow'] ?? '').split(',').map((m) => m.trim());
      assert.ok(allow.includes('GET') && allow.includes('HEAD'), `${method} allow: ${r.headers['allow']}`);
      assert.ok(!allow.includes(method));
    }
  });

  test('HEAD of a missing file is 404 with no body', async () => {
    const r = await raw('HEAD', 'no/such/file.bin');
    assert.equal(r.status, 404);
    assert.equal(r.body.length, 0);
    const get = await raw('GET', 'no/such/file.bin');
    assert.equal(get.status, 404);
  });
});

describe('concurrency', () => {
  test('40 parallel curls for the master file all get 200 and the same bytes', async () => {
    const results = await Promise.all(Array.from({ length: 40 }, () => curlAsync(url('000000000000.cfg'), [...AUTH, '-A', PHONE_UA])));
    const bodies = new Set(results.map((r) => r.text));
    assert.deepEqual(
      results.map((r) => r.status),
      Array(40).fill(200),
    );
    assert.equal(bodies.size, 1, 'every body is the same');
    assert.match([...bodies][0]!, /APP_FILE_PATH/);
  });

  test('parallel Digest and Basic requests for the big file all get every byte', async () => {
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => curlAsync(url(BIG_PATH), i % 2 ? ['--digest', ...AUTH] : AUTH)),
    );
    for (const r of results) {
      assert.equal(r.status, 200);
      assert.equal(sha256(r.body), sha256(BIG));
    }
  });
});
