// Log retention through a real server and the real CLI: a tenant with a 2 KiB cap and 2 segments,
// a phone appending with Content-Range past several rotations, and `polyprov log` reading it.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openAdminContext } from '../../src/app.js';
import type { AdminContext } from '../../src/admin/admin-context.js';
import { pruneOldLogSegments } from '../../src/provisioning/phone-logs.js';
import { cli, startServer, tempDir, type ServerProcess } from '../support/server-process.js';
import { waitFor } from '../support/wait-for.js';

const MAC = '0004f2000001';
const PATH = `/logs/${MAC}-app.log`;
const UA = `FileTransport PolycomVVX-VVX_450-UA/6.4.6.2163 (SN:${MAC}) Type/Application`;
const AUTH = `Basic ${Buffer.from('acme:acme-password-1').toString('base64')}`;
const CAP = 2048;

const TRANSFER_FAILED = '0517184100|copy |4|00|File transfer failed: server answered 500';
const TLS_FAILED = '0517184200|sip  |4|00|TLS handshake failed with 192.0.2.7:5061: certificate verify failed';

let server: ServerProcess;
let ctx: AdminContext;
let dataDir: string;

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function http(method: string, path: string, headers: Record<string, string | number> = {}, body?: Buffer): Promise<Reply> {
  const url = new URL(server.httpUrl);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, method, path, agent: false, headers: { authorization: AUTH, 'user-agent': UA, ...headers } },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (d: Buffer) => parts.push(d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }));
      },
    );
    req.setTimeout(30_000, () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

/** What a phone does: HEAD for the length, then PUT the new bytes from there. */
async function phoneAppend(chunk: Buffer): Promise<{ head: number; status: number }> {
  const head = await http('HEAD', PATH);
  const offset = head.status === 404 ? 0 : Number(head.headers['content-length']);
  const put = await http('PUT', PATH, { 'content-range': `bytes ${offset}-${offset + chunk.length - 1}/*`, 'content-length': chunk.length }, chunk);
  return { head: offset, status: put.status };
}

const line = (i: number, text: string) => `05171840${String(i % 60).padStart(2, '0')}|so   |4|00|${text}\n`;
const filler = (i: number) => Buffer.from([0, 1, 2, 3].map((k) => line(i, `line ${i}.${k} ${'x'.repeat(40)}`)).join(''));

/** The server's rule, to know where bytes end up: rotate when a non-empty file would pass the cap. */
class Model {
  sent = Buffer.alloc(0);
  current = 0;
  /** Phone offsets where each rotated segment started, oldest first. */
  starts: number[] = [];
  append(chunk: Buffer): void {
    if (this.current > 0 && this.current + chunk.length > CAP) {
      this.starts.push(this.sent.length - this.current);
      this.current = 0;
    }
    this.current += chunk.length;
    this.sent = Buffer.concat([this.sent, chunk]);
  }
  get base(): number {
    return this.sent.length - this.current;
  }
}
const model = new Model();

function segmentFiles(): string[] {
  const tenantDirs = readdirSync(join(dataDir, 'logs'));
  assert.equal(tenantDirs.length, 1);
  try {
    return readdirSync(join(dataDir, 'logs', tenantDirs[0]!, 'logs', `${MAC}-app.log.segments`)).sort();
  } catch {
    return [];
  }
}

function run(args: string[]) {
  const r = cli(dataDir, args);
  assert.equal(r.code, 0, `polyprov ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stdout;
}

before(async () => {
  dataDir = tempDir();
  const added = cli(dataDir, ['tenant', 'add', 'acme', '--password', 'acme-password-1', '--log-max-bytes', '2KiB', '--log-segments', '2']);
  assert.equal(added.code, 0, added.stderr);
  ctx = await openAdminContext({ dataDir });
  server = await startServer({ dataDir });
});
after(async () => {
  await server?.stop();
  await ctx?.store.close();
});

describe('log retention', () => {
  test('tenant add/set/show carry the retention settings, and refuse bad ones', () => {
    const shown = run(['tenant', 'show', 'acme']);
    assert.match(shown, /log size cap\s+2048 bytes/);
    assert.match(shown, /log segments kept\s+2/);
    assert.match(shown, /log max age\s+90 days/);
    const set = run(['tenant', 'set', 'acme', '--log-max-age-days', '30']);
    assert.match(set, /log max age\s+30 days/);
    assert.match(set, /log size cap\s+2048 bytes/, 'unnamed settings are kept');
    for (const bad of [['--log-max-bytes', '12'], ['--log-max-bytes', '5 parsecs'], ['--log-segments', '-1'], ['--log-max-age-days', 'soon']]) {
      const r = cli(dataDir, ['tenant', 'set', 'acme', ...bad]);
      assert.equal(r.code, 1, `${bad.join(' ')} is refused`);
      assert.match(r.stderr, /polyprov: invalid/);
    }
  });

  test("a phone appends past several rotations: HEAD keeps the phone's total, ranged PUTs keep working, 2 segments remain", async () => {
    let i = 0;
    const send = async (chunk: Buffer) => {
      const { head, status } = await phoneAppend(chunk);
      assert.equal(head, model.sent.length, 'HEAD reports every byte the phone sent, rotated or not');
      assert.ok([201, 204].includes(status), `PUT answered ${status}`);
      model.append(chunk);
    };
    while (model.starts.length < 3) await send(filler(i++));
    await send(Buffer.from(`${TRANSFER_FAILED}\n`));
    // One more rotation, so the failed transfer is in a kept segment, not the current file.
    const rotations = model.starts.length;
    while (model.starts.length === rotations) await send(filler(i++));
    await send(Buffer.from(`${TLS_FAILED}\n`));
    assert.ok(model.starts.length >= 4, `${model.starts.length} rotations`);

    const head = await http('HEAD', PATH);
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], String(model.sent.length));

    // A retried chunk (the phone missed our answer) is not stored twice, even across a rotation.
    const lastChunk = Buffer.from(`${TLS_FAILED}\n`);
    const retry = await http('PUT', PATH, { 'content-range': `bytes ${model.sent.length - lastChunk.length}-${model.sent.length - 1}/*` }, lastChunk);
    assert.equal(retry.status, 204);
    const spanning = model.sent.subarray(model.base - 10, model.base + 10);
    const overRotation = await http('PUT', PATH, { 'content-range': `bytes ${model.base - 10}-${model.base + 9}/*` }, spanning);
    assert.equal(overRotation.status, 204, 'a retry reaching back into segment 1 is compared with it');
    const wrong = Buffer.from(spanning).fill(0x41, 0, 5);
    assert.equal((await http('PUT', PATH, { 'content-range': `bytes ${model.base - 10}-${model.base + 9}/*` }, wrong)).status, 409, 'a different text in segment 1 is refused');
    const gap = await http('PUT', PATH, { 'content-range': `bytes ${model.sent.length + 5}-${model.sent.length + 6}/*` }, Buffer.from('zz'));
    assert.equal(gap.status, 409);
    assert.match(gap.body.toString(), new RegExp(`resend from byte ${model.sent.length}`));
    assert.equal((await http('HEAD', PATH)).headers['content-length'], String(model.sent.length), 'nothing refused or repeated was stored');

    // Only 2 segments are kept: the 2 newest.
    const files = segmentFiles();
    assert.equal(files.length, 2, files.join(', '));
    const kept = model.starts.slice(-2);
    assert.deepEqual(files.map((f) => Number(/^s(\d+)\./.exec(f)![1])).sort((a, b) => a - b), kept);

    // A GET returns what is held: the current file, as a range of the phone's view.
    const got = await http('GET', PATH);
    assert.equal(got.status, 206);
    assert.equal(got.headers['content-range'], `bytes ${model.base}-${model.sent.length - 1}/${model.sent.length}`);
    assert.ok(got.body.equals(model.sent.subarray(model.base)));
    const tail = await http('GET', PATH, { range: `bytes=${model.sent.length - 20}-` });
    assert.equal(tail.status, 206);
    assert.ok(tail.body.equals(model.sent.subarray(-20)));
    assert.equal((await http('GET', PATH, { range: 'bytes=0-99' })).status, 416, 'rotated-away bytes are not served');
  });

  test('log list / show / tail / search --errors print the parsed lines and flag the failed transfer and the TLS failure', () => {
    const listed = JSON.parse(run(['log', 'list', '--json'])) as { mac: string; kind: string; size: number; base: number; heldFrom: number; segments: { number: number; start: number }[] }[];
    assert.equal(listed.length, 1);
    assert.equal(listed[0]!.size, model.sent.length);
    assert.equal(listed[0]!.base, model.base);
    assert.equal(listed[0]!.heldFrom, model.starts.at(-2));
    assert.deepEqual(listed[0]!.segments.map((s) => [s.number, s.start]), [[2, model.starts.at(-2)], [1, model.starts.at(-1)]]);
    assert.match(run(['log', 'list', '--mac', MAC]), new RegExp(`${MAC}\\s+app\\s+${model.sent.length}\\s+${model.sent.length - model.base}\\s+${model.starts.at(-2)}\\s+2\\s`));

    const textOf = (b: Buffer) => b.toString('utf8').split('\n').filter(Boolean);
    // show: the current file, parsed (time, module, level, missed, text).
    const current = textOf(model.sent.subarray(model.base));
    const shown = run(['log', 'show', MAC]).trimEnd().split('\n');
    assert.equal(shown.length, current.length);
    assert.equal(shown.at(-1), `!tls,certificate  05-17 18:42:00  sip    4  00  ${TLS_FAILED.slice(22)}`);
    assert.match(shown[0]!, /^05-17 18:40:\d\d {2}so {5}4 {2}00 {2}line \d+\.\d x+$/);
    // --segments: everything held, oldest first, with a heading per file.
    const all = run(['log', 'show', MAC, '--segments']).trimEnd().split('\n');
    assert.equal(all[0]!.startsWith('-- segment 2, rotated '), true);
    assert.equal(all.filter((l) => l.startsWith('-- ')).length, 3);
    const held = textOf(model.sent.subarray(model.starts.at(-2)));
    assert.equal(all.length, held.length + 3);
    const json = JSON.parse(run(['log', 'show', MAC, '--segments', '--json'])) as { lines: { raw: string; segment: number | null; offset: number }[] };
    assert.deepEqual(json.lines.map((l) => l.raw), held);
    assert.equal(json.lines[0]!.offset, model.starts.at(-2));
    assert.equal(typeof json.lines.find((l) => l.raw === TRANSFER_FAILED)?.segment, 'number', 'the failed transfer is in a kept segment');

    const tail = run(['log', 'tail', MAC, '-n', '3']).trimEnd().split('\n');
    assert.equal(tail.length, 3);
    assert.equal(tail[2], shown.at(-1));

    const errors = run(['log', 'search', MAC, '--errors', '.']).trimEnd().split('\n');
    assert.deepEqual(errors, [
      `!file-transfer  ${MAC} app  05-17 18:41:00  copy   4  00  ${TRANSFER_FAILED.slice(22)}`,
      `!tls,certificate  ${MAC} app  05-17 18:42:00  sip    4  00  ${TLS_FAILED.slice(22)}`,
    ]);
    assert.deepEqual(run(['log', 'search', '--all', '-i', 'TLS HANDSHAKE', '--json']).includes('"tls"'), true);
    assert.equal(run(['log', 'search', MAC, 'no such text']), '');
    const badRegex = cli(dataDir, ['log', 'search', MAC, '(']);
    assert.equal(badRegex.code, 1);
    assert.match(badRegex.stderr, /invalid regular expression/);
    assert.equal(cli(dataDir, ['log', 'show', '0004f2000099']).code, 1, 'a device without logs is a clear error');
  });

  test('log tail --follow prints lines as the phone uploads them, and stops on Ctrl-C or --timeout', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', '--data', dataDir, 'log', 'tail', MAC, '-n', '1', '--follow'], {
      cwd: new URL('../..', import.meta.url).pathname,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await waitFor('the first tail line', () => (out.includes('TLS handshake failed') ? true : undefined), 20_000).catch((e: Error) => {
        throw new Error(`${e.message}; stderr: ${err}`);
      });
      const next = Buffer.from('0517184300|dns  |4|00|DNS resolution of prov.acme.example failed\n');
      const { status } = await phoneAppend(next);
      assert.ok([201, 204].includes(status));
      model.append(next);
      await waitFor('the followed line', () => (out.includes('DNS resolution') ? true : undefined), 10_000);
      assert.match(out, /\n!dns {2}05-17 18:43:00 {2}dns {4}4 {2}00 {2}DNS resolution of prov\.acme\.example failed\n$/);
      child.kill('SIGINT');
      assert.equal(await exited, 0, 'Ctrl-C ends --follow cleanly');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    const bounded = cli(dataDir, ['log', 'tail', MAC, '-n', '1', '--follow', '--timeout', '1']);
    assert.equal(bounded.code, 0);
    assert.match(bounded.stdout, /DNS resolution/);
  });

  test('segments older than the maximum age are pruned; the current log and HEAD are untouched', async () => {
    const tenant = (await ctx.store.getTenantBySlug('acme'))!;
    assert.equal(tenant.logMaxAgeDays, 30);
    assert.deepEqual(await pruneOldLogSegments(ctx, tenant, new Date(Date.now() + 29 * 86_400_000)), [], 'not old enough yet');
    assert.match(run(['log', 'prune']), /tenant "acme": dropped 0 segment\(s\), 0 bytes \(older than 30 days, 2 kept per log\)/);
    const dropped = await pruneOldLogSegments(ctx, tenant, new Date(Date.now() + 31 * 86_400_000));
    assert.deepEqual(dropped.map((d) => d.start), model.starts.slice(-2));
    assert.deepEqual(segmentFiles(), []);
    assert.deepEqual(await pruneOldLogSegments(ctx, tenant, new Date(Date.now() + 31 * 86_400_000)), [], 'idempotent');
    assert.equal((await http('HEAD', PATH)).headers['content-length'], String(model.sent.length));
    const listed = JSON.parse(run(['log', 'list', '--json'])) as { heldFrom: number; segments: unknown[] }[];
    assert.deepEqual([listed[0]!.heldFrom, listed[0]!.segments.length], [model.base, 0]);
    // Appending goes on from the phone's offset.
    const more = Buffer.from(line(1, 'after pruning'));
    assert.equal((await phoneAppend(more)).head, model.sent.length);
    model.append(more);
    assert.equal((await http('HEAD', PATH)).headers['content-length'], String(model.sent.length));
  });
});
