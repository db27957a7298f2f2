import assert from 'node:assert/strict';
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request, type IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { after, afterEach, test } from 'node:test';
import { addTenant } from '../../src/admin/tenants.js';
import { openAdminContext } from '../../src/app.js';
import { parseXmlAttributes } from '../../src/domain/polycom-xml.js';
import { listLogSegments, readHeldBytes } from '../../src/provisioning/phone-logs.js';
import { startServer, tempDir, type ServerProcess } from '../support/server-process.js';

// Acceptance "Durability" (issue 3): kill -9 the server during a stream of uploads; after a
// restart on the same data folder every acknowledged upload is intact and no override is partial.
//
// 20 phones upload at once, one request in flight each, over new loopback connections: ranged log
// appends and whole `-phone.cfg` replaces whose content checks itself (a sequence number, padding
// and a checksum of both). Half the phones belong to a tenant with the default log size cap (plain
// appends), half to one with the smallest cap (1 KiB) and room for every segment, so that about a
// third of its appends rotate the log and kills land in rotations too. Each phone remembers what
// the server acknowledged (201/204) and the one upload it sent without getting an answer. At a
// random moment after a random number of acknowledgements the server gets SIGKILL (it runs with
// --workers 1: one process; its descendants, if any, get SIGKILL too). After the restart:
// - a log is what was acknowledged, or that plus the one unanswered chunk whole (its commit landed
//   but the answer was lost): never less, never a part of a chunk, never other bytes; so are the
//   bytes a GET serves (the current file of a rotated log) and every byte held in segments;
// - every acknowledged override version is stored, in order, byte for byte; the served one is the
//   last acknowledged or the unanswered one, and it parses with a correct checksum;
// - the phones carry on: HEAD gives the length, ranged PUTs continue from it.
// Three kill rounds, then a clean round in which everything must match exactly.

const PHONES = 20;
const KILL_ROUNDS = 3;
/** Acknowledgements (all phones together) before the kill is armed: a random count in this range. */
const ACKS_BEFORE_KILL: [number, number] = [40, 160];
/** Bounds: a round that does not reach its kill count in this time is a failure. */
const ROUND_LIMIT_MS = 30_000;
const REQUEST_TIMEOUT_MS = 10_000;
const CLEAN_ROUND_APPENDS = 5;
/** The rotating tenant's log size cap (the smallest allowed). */
const SMALL_CAP = 1024;

interface TenantUnderTest {
  slug: string;
  id: number;
  basic: string;
  rotates: boolean;
}

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

function call(base: string, p: Phone, method: 'GET' | 'HEAD' | 'PUT', path: string, body?: Buffer, headers: Record<string, string> = {}): Promise<Reply> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        method,
        path: `/${path}`,
        agent: false,
        headers: {
          authorization: p.tenant.basic,
          'user-agent': `FileTransport PolycomVVX-VVX_450-UA/6.4.6.2163 (SN:${p.mac}) Type/Application`,
          connection: 'close',
          ...(body ? { 'content-length': String(body.length) } : {}),
          ...headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 24);

/** A `-phone.cfg` that checks itself: sequence number, padding of random length, checksum of both. */
function overrideContent(mac: string, seq: number): Buffer {
  // Mostly small, sometimes tens of kB, so that a kill can land in the middle of writing one.
  const pad = randomBytes(randomInt(4) === 0 ? randomInt(8_000, 48_000) : randomInt(16, 400)).toString('base64url');
  return Buffer.from(
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<PHONE_CONFIG>\n' +
      `  <OVERRIDES reg.1.label="${mac}-${seq}" up.backlight.idleIntensity="${seq % 4}" dur.seq="${seq}" dur.pad="${pad}" dur.sum="${sha(`${mac}|${seq}|${pad}`)}"/>\n` +
      '</PHONE_CONFIG>\n',
  );
}

/** The sequence number of a self-checking override; throws when it does not parse or its checksum is wrong. */
function checkOverride(mac: string, bytes: Buffer): number {
  const attrs = new Map(parseXmlAttributes(bytes.toString('utf8')).map((a) => [a.name, a.value]));
  const seq = attrs.get('dur.seq');
  const pad = attrs.get('dur.pad');
  if (seq === undefined || pad === undefined) throw new Error('override lacks dur.seq or dur.pad');
  if (attrs.get('dur.sum') !== sha(`${mac}|${seq}|${pad}`)) throw new Error(`override ${seq}: checksum does not match its content`);
  return Number(seq);
}

/** A log chunk of ~100 B, now and then several kB; it names its phone, round and number. */
function logChunk(mac: string, round: number, n: number): Buffer {
  const text = randomBytes(randomInt(5) === 0 ? randomInt(2_000, 24_000) : randomInt(20, 60)).toString('hex');
  return Buffer.from(`${String(n).padStart(6, '0')}|r${round}|${mac}|${text}|${sha(text).slice(0, 8)}\n`);
}

class Phone {
  readonly logPath: string;
  readonly overridePath: string;
  /** Log bytes the server acknowledged (or, after a restart, reported and served). */
  logAcked: Buffer = Buffer.alloc(0);
  /** The chunk sent without an answer (at most one: one request in flight per phone). */
  logPending: Buffer | null = null;
  chunks = 0;
  /** Every override content sent, by sequence number. */
  readonly overridesSent = new Map<number, Buffer>();
  /** Sequence numbers acknowledged, in order. */
  readonly overridesAcked: number[] = [];
  /** Sent without an answer: each may or may not be stored. */
  readonly overridesUnanswered = new Set<number>();
  overridePending: number | null = null;
  seq = 0;
  constructor(
    readonly mac: string,
    readonly tenant: TenantUnderTest,
  ) {
    this.logPath = `logs/${mac}-app.log`;
    this.overridePath = `overrides/${mac}-phone.cfg`;
  }
}

/** Every descendant of `pid` (Linux /proc), deepest last. */
function descendants(pid: number): number[] {
  const out: number[] = [];
  const walk = (p: number, depth: number) => {
    if (depth > 8) return;
    let tasks: string[] = [];
    try {
      tasks = readdirSync(`/proc/${p}/task`);
    } catch {
      return;
    }
    for (const t of tasks) {
      let kids = '';
      try {
        kids = readFileSync(`/proc/${p}/task/${t}/children`, 'utf8');
      } catch {
        continue;
      }
      for (const k of kids.trim().split(/\s+/).filter(Boolean).map(Number)) {
        out.push(k);
        walk(k, depth + 1);
      }
    }
  };
  walk(pid, 0);
  return out;
}

/** SIGKILL to the server and everything it started; resolves once the server process is gone. */
async function killHard(server: ServerProcess): Promise<void> {
  const child = server.child;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const kids = descendants(child.pid!);
  child.kill('SIGKILL');
  for (const k of kids) {
    try {
      process.kill(k, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  await exited;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function firstDifference(a: Buffer, b: Buffer): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return n;
}

const show = (b: Buffer) => JSON.stringify(b.toString('latin1').slice(0, 120));

const dataDirs: string[] = [];
/** The running server, whichever test started it: a failed test leaves it for afterEach to kill. */
let server: ServerProcess | undefined;
afterEach(async () => {
  if (server) await killHard(server);
  server = undefined;
});
after(() => {
  for (const d of dataDirs) rmSync(d, { recursive: true, force: true });
});

/** A tenant for the tests: `acme` keeps the default log size cap, `rot` the smallest, with room for every segment. */
async function addTenants(dataDir: string): Promise<TenantUnderTest[]> {
  const setup = await openAdminContext({ dataDir });
  try {
    const tenants: TenantUnderTest[] = [];
    for (const [slug, rotates] of [['acme', false], ['rot', true]] as const) {
      const password = `${slug}-password-1`;
      const settings = rotates ? { password, logMaxBytes: SMALL_CAP, logSegments: 1000 } : { password };
      const { tenant } = await addTenant(setup, slug, settings);
      tenants.push({ slug, id: tenant.id, basic: `Basic ${Buffer.from(`${slug}:${password}`).toString('base64')}`, rotates });
    }
    return tenants;
  } finally {
    await setup.store.close();
  }
}

test('kill -9 during a stream of log appends and override uploads loses nothing acknowledged and leaves nothing partial', { timeout: 240_000 }, async (t) => {
  const dataDir = tempDir();
  dataDirs.push(dataDir);
  const tenants = await addTenants(dataDir);

  const phones = Array.from({ length: PHONES }, (_, i) => new Phone(`0004f2${(0xd00 + i).toString(16).padStart(6, '0')}`, tenants[i % tenants.length]!));
  server = await startServer({ dataDir });
  const stats = { logAcks: 0, overrideAcks: 0, unansweredChunksStored: 0, unansweredChunksNotStored: 0, unansweredOverridesStored: 0, unansweredOverridesNotStored: 0, strayBytesAfterKill: 0, segments: 0, cutRotations: 0 };

  /** The log's current file (provisioning/phone-logs.ts: `<tenant id>/<path>` in the log file store). */
  const logFile = (p: Phone) => join(dataDir, 'logs', String(p.tenant.id), p.logPath);
  /** Names in the log's folder and its segments folder, for failure messages. */
  const filesOf = (p: Phone) => {
    const dir = join(dataDir, 'logs', String(p.tenant.id), 'logs');
    const list = (d: string) => (existsSync(d) ? readdirSync(d).map((n) => `${n} (${statSync(join(d, n)).isFile() ? statSync(join(d, n)).size : 'dir'})`) : []);
    const mine = list(dir).filter((n) => n.startsWith(p.mac));
    return [...mine, ...list(`${logFile(p)}.segments`).map((n) => `segments/${n}`)].join(', ');
  };

  /** The phone's start after a (re)start: HEAD gives the stored length, which must be what it knows. */
  const resume = async (base: string, p: Phone) => {
    const h = await call(base, p, 'HEAD', p.logPath);
    const length = h.status === 404 ? 0 : Number(h.headers['content-length']);
    assert.ok(h.status === 200 || h.status === 404, `${p.logPath}: HEAD ${h.status}`);
    assert.equal(length, p.logAcked.length, `${p.logPath}: HEAD reports the length verified after the restart`);
  };

  const appendOnce = async (base: string, p: Phone, round: number) => {
    const chunk = logChunk(p.mac, round, p.chunks++);
    const start = p.logAcked.length;
    p.logPending = chunk;
    const r = await call(base, p, 'PUT', p.logPath, chunk, { 'content-range': `bytes ${start}-${start + chunk.length - 1}/*` });
    assert.ok(r.status === 201 || r.status === 204, `${p.logPath} append at ${start}: HTTP ${r.status} ${r.body.toString()}`);
    p.logPending = null;
    p.logAcked = Buffer.concat([p.logAcked, chunk]);
    stats.logAcks++;
    // After an acknowledged append the current file is exactly the log's tail (only this phone
    // writes this log): LogFileStore.writeAt cut any bytes a killed write had left past the
    // committed length. Without rotation it is the whole log; with it, at most the cap, or the
    // one chunk that alone exceeds it.
    const current = readFileSync(logFile(p));
    assert.ok(p.logAcked.subarray(p.logAcked.length - current.length).equals(current), `${p.logPath}: after an acknowledged append the current file (${current.length} bytes) is the log's tail`);
    if (!p.tenant.rotates) assert.equal(current.length, p.logAcked.length, `${p.logPath}: the current file is the whole log`);
    else assert.ok(current.length <= SMALL_CAP || current.length === chunk.length, `${p.logPath}: the current file (${current.length} bytes) exceeds the cap by at most the last chunk`);
  };

  const overrideOnce = async (base: string, p: Phone) => {
    const seq = ++p.seq;
    const content = overrideContent(p.mac, seq);
    p.overridesSent.set(seq, content);
    p.overridePending = seq;
    const r = await call(base, p, 'PUT', p.overridePath, content);
    assert.ok(r.status === 201 || r.status === 204, `${p.overridePath} #${seq}: HTTP ${r.status} ${r.body.toString()}`);
    assert.equal(r.headers['x-polyprov-problem'], undefined, `${p.overridePath} #${seq} is well-formed`);
    p.overridePending = null;
    p.overridesAcked.push(seq);
    stats.overrideAcks++;
  };

  /** After a restart: what the server has must be what was acknowledged, or that plus the unanswered upload, whole. */
  const verify = async (base: string, label: string) => {
    const ctx = await openAdminContext({ dataDir });
    stats.segments = 0;
    try {
      for (const p of phones) {
        // Log: what was acknowledged, or that plus the unanswered chunk, whole. HEAD gives the phone's view.
        const h = await call(base, p, 'HEAD', p.logPath);
        assert.ok(h.status === 200 || h.status === 404, `${label} ${p.logPath}: HEAD ${h.status}`);
        const total = h.status === 404 ? 0 : Number(h.headers['content-length']);
        const acked = p.logAcked;
        assert.ok(total >= acked.length, `${label} ${p.logPath}: ${acked.length} bytes acknowledged, HEAD reports ${total}`);
        let expected = acked;
        if (total > acked.length) {
          assert.ok(p.logPending, `${label} ${p.logPath}: HEAD reports ${total} bytes, ${acked.length} acknowledged and no chunk unanswered`);
          assert.equal(total, acked.length + p.logPending.length, `${label} ${p.logPath}: HEAD reports ${total} bytes: neither the ${acked.length} acknowledged nor those plus the whole unanswered chunk (${p.logPending.length})`);
          expected = Buffer.concat([acked, p.logPending]);
          stats.unansweredChunksStored++;
        } else if (p.logPending) stats.unansweredChunksNotStored++;

        // What a GET serves: the whole log, or the current file of a rotated one (206 from its base).
        if (total > 0) {
          const r = await call(base, p, 'GET', p.logPath).catch((err: Error) =>
            assert.fail(`${label} ${p.logPath}: HEAD reports ${total} bytes but GET fails (${err.message}); files: ${filesOf(p)}`),
          );
          let from = 0;
          if (r.status === 206) {
            const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(String(r.headers['content-range']));
            assert.ok(m && Number(m[2]) === total - 1 && Number(m[3]) === total, `${label} ${p.logPath}: 206 with Content-Range ${r.headers['content-range']} for a ${total}-byte log`);
            from = Number(m[1]);
          } else assert.equal(r.status, 200, `${label} ${p.logPath}: GET ${r.status} ${r.body.toString().slice(0, 200)}; files: ${filesOf(p)}`);
          const want = expected.subarray(from);
          const at = firstDifference(r.body, want);
          assert.ok(
            r.body.length === want.length && at === want.length,
            `${label} ${p.logPath}: GET serves bytes ${from}-${from + r.body.length - 1} that differ from the log at byte ${from + at}: served ${show(r.body.subarray(at))}, log ${show(want.subarray(at))}; files: ${filesOf(p)}`,
          );
        }

        // Every byte still held (segments, then the current file) is the log's; with room for every segment, all are held.
        const log = await ctx.store.getPhoneLog(p.tenant.id, p.logPath);
        assert.equal(log ? log.base + log.length : 0, total, `${label} ${p.logPath}: the store's base + length is what HEAD reports`);
        if (log) {
          const segments = await listLogSegments(ctx.logFiles, p.tenant.id, p.logPath, log.base);
          const pieces = await readHeldBytes(ctx.logFiles, log, segments, 0, total).catch((err: Error) =>
            assert.fail(`${label} ${p.logPath}: the held bytes cannot be read (${err.message}); files: ${filesOf(p)}`),
          );
          const held = Buffer.concat(pieces.map((x) => x.bytes));
          assert.ok(pieces[0]?.offset === 0 && held.equals(expected), `${label} ${p.logPath}: the held bytes (segments and current file, ${held.length}) are the log (${expected.length}); files: ${filesOf(p)}`);
          if ((await listLogSegments(ctx.logFiles, p.tenant.id, p.logPath)).some((x) => x.start === log.base)) stats.cutRotations++;
          if (!p.tenant.rotates) assert.equal(segments.length, 0, `${label} ${p.logPath}: no rotation under the default cap`);
          else stats.segments += segments.length;
          if (existsSync(logFile(p)) && statSync(logFile(p)).size > log.length) stats.strayBytesAfterKill++;
        }
        p.logAcked = expected;
        p.logPending = null;

        // Overrides: every acknowledged version stored, in order, byte for byte, and nothing else but unanswered ones.
        const versions = (await ctx.store.listPhoneUploads(p.tenant.id, p.mac)).filter((v) => v.path === p.overridePath);
        assert.deepEqual(versions.map((v) => v.version), versions.map((_, i) => i + 1), `${label} ${p.overridePath}: versions 1..n`);
        const seqs: number[] = [];
        for (const v of versions) {
          const bytes = await readAll(ctx.blobs.read(v.blobKey)).catch((err: Error) =>
            assert.fail(`${label} ${p.overridePath} v${v.version} is recorded but its blob cannot be read: ${err.message}`),
          );
          assert.equal(bytes.length, v.size, `${label} ${p.overridePath} v${v.version}: blob has the recorded size`);
          assert.equal(v.problem, null, `${label} ${p.overridePath} v${v.version}: not flagged`);
          const seq = checkOverride(p.mac, bytes);
          assert.ok(bytes.equals(p.overridesSent.get(seq) ?? Buffer.alloc(0)), `${label} ${p.overridePath} v${v.version}: byte for byte what was sent as #${seq}`);
          seqs.push(seq);
        }
        assert.ok(seqs.every((s, i) => i === 0 || s > seqs[i - 1]!), `${label} ${p.overridePath}: versions in the order sent (${seqs.join(',')})`);
        const storedSeqs = new Set(seqs);
        if (p.overridePending !== null) {
          p.overridesUnanswered.add(p.overridePending);
          if (storedSeqs.has(p.overridePending)) stats.unansweredOverridesStored++;
          else stats.unansweredOverridesNotStored++;
          p.overridePending = null;
        }
        for (const s of p.overridesAcked) assert.ok(storedSeqs.has(s), `${label} ${p.overridePath}: acknowledged #${s} is stored`);
        const acknowledged = new Set(p.overridesAcked);
        for (const s of seqs) assert.ok(acknowledged.has(s) || p.overridesUnanswered.has(s), `${label} ${p.overridePath}: #${s} stored but never sent`);
        // What a booting phone is served: the newest version, whole, parsing, checksum right.
        const served = await call(base, p, 'GET', p.overridePath);
        if (!seqs.length) {
          assert.equal(served.status, 404, `${label} ${p.overridePath}: nothing stored, nothing served`);
          continue;
        }
        assert.equal(served.status, 200, `${label} ${p.overridePath}: served`);
        const servedSeq = checkOverride(p.mac, served.body);
        assert.equal(servedSeq, seqs[seqs.length - 1], `${label} ${p.overridePath}: the newest version is served`);
        assert.ok(served.body.equals(p.overridesSent.get(servedSeq)!), `${label} ${p.overridePath}: served byte for byte`);
        const lastAcked = p.overridesAcked[p.overridesAcked.length - 1];
        assert.ok(servedSeq === lastAcked || (p.overridesUnanswered.has(servedSeq) && (lastAcked === undefined || servedSeq > lastAcked)), `${label} ${p.overridePath}: served #${servedSeq}, last acknowledged #${lastAcked}`);
      }
    } finally {
      await ctx.store.close();
    }
  };

  for (let round = 1; round <= KILL_ROUNDS; round++) {
    const base = server.httpUrl;
    const killAt = randomInt(ACKS_BEFORE_KILL[0], ACKS_BEFORE_KILL[1] + 1);
    const delayMs = randomInt(0, 25);
    const began = Date.now();
    const acksBefore = stats.logAcks + stats.overrideAcks;
    let killIssued = false;
    let killing: Promise<void> | undefined;
    const kill = () => {
      if (killIssued) return;
      killIssued = true;
      killing = killHard(server!);
    };
    const watchdog = setTimeout(kill, ROUND_LIMIT_MS);
    const unexpected: string[] = [];
    await Promise.all(
      phones.map(async (p) => {
        try {
          await resume(base, p);
          while (!killIssued) {
            if (randomInt(10) < 7) await appendOnce(base, p, round);
            else await overrideOnce(base, p);
            if (stats.logAcks + stats.overrideAcks - acksBefore === killAt) setTimeout(kill, delayMs);
          }
        } catch (err) {
          // After the kill a failed request is what a phone sees; before it, it is a bug.
          if (!killIssued || err instanceof assert.AssertionError) unexpected.push(`${p.mac}: ${(err as Error).message}`);
        }
      }),
    );
    clearTimeout(watchdog);
    kill();
    await killing;
    const roundAcks = stats.logAcks + stats.overrideAcks - acksBefore;
    t.diagnostic(`round ${round}: SIGKILL after ${roundAcks} acknowledgements (armed at ${killAt} + ${delayMs} ms), ${Date.now() - began} ms`);
    assert.deepEqual(unexpected, [], `round ${round}: uploads failed before the kill`);
    assert.ok(Date.now() - began < ROUND_LIMIT_MS, `round ${round} reached ${killAt} acknowledgements within ${ROUND_LIMIT_MS} ms`);

    server = await startServer({ dataDir });
    await verify(server.httpUrl, `after kill ${round}:`);
  }

  // The phones carry on after the last restart: HEAD, ranged PUTs from the reported length, a new override.
  const base = server.httpUrl;
  await Promise.all(
    phones.map(async (p) => {
      await resume(base, p);
      for (let i = 0; i < CLEAN_ROUND_APPENDS; i++) await appendOnce(base, p, KILL_ROUNDS + 1);
      await overrideOnce(base, p);
    }),
  );
  await verify(base, 'after the clean round:');
  const tmp = join(dataDir, 'blobs', 'tmp');
  const leftovers = existsSync(tmp) ? readdirSync(tmp).filter((f) => statSync(join(tmp, f)).isFile()).length : 0;
  t.diagnostic(
    `${stats.logAcks} log appends and ${stats.overrideAcks} overrides acknowledged; ` +
      `unanswered at a kill and found stored / not stored: log chunks ${stats.unansweredChunksStored} / ${stats.unansweredChunksNotStored}, overrides ${stats.unansweredOverridesStored} / ${stats.unansweredOverridesNotStored}; ` +
      `${phones.reduce((n, p) => n + p.logAcked.length, 0)} log bytes (${stats.segments} segments held in the rotating tenant at the end); ${stats.cutRotations} rotation(s) cut by a kill; ${stats.strayBytesAfterKill} log file(s) found with uncommitted bytes past the committed length after a kill (cut by the next append); ${leftovers} temporary blob file(s) left by killed uploads`,
  );
  await server.stop();
  server = undefined;
});

test('a rotation cut by a crash between its rename and its commit: reads serve the committed log, the next append restores it', { timeout: 60_000 }, async () => {
  // kill -9 can land after a rotation renamed the current file to the segment starting at the
  // committed base and before the commit: the current file is then missing (killed before the new
  // one was created) or holds the unacknowledged chunk (killed after writing it). The random kills
  // above reach this state now and then; here it is made on purpose, through the file layout
  // provisioning/phone-logs.ts documents, with the server stopped.
  const dataDir = tempDir();
  dataDirs.push(dataDir);
  const rot = (await addTenants(dataDir)).find((x) => x.rotates)!;
  const missing = new Phone('0004f2000e01', rot);
  const unacked = new Phone('0004f2000e02', rot);
  const chunk = (p: Phone, tag: string, size: number) => Buffer.from(`${tag}|${p.mac}|`.padEnd(size - 1, tag) + '\n');
  server = await startServer({ dataDir });
  const put = async (p: Phone, data: Buffer) => {
    const start = p.logAcked.length;
    const r = await call(server!.httpUrl, p, 'PUT', p.logPath, data, { 'content-range': `bytes ${start}-${start + data.length - 1}/*` });
    assert.ok(r.status === 201 || r.status === 204, `${p.logPath} append at ${start}: HTTP ${r.status} ${r.body.toString()}`);
    p.logAcked = Buffer.concat([p.logAcked, data]);
  };
  for (const p of [missing, unacked]) {
    await put(p, chunk(p, 'A', 600));
    await put(p, chunk(p, 'B', 600)); // 1200 > 1024: A becomes segment s0, B the current file (base 600)
    await put(p, chunk(p, 'C', 300)); // current file B + C, 900 bytes
  }
  await killHard(server);
  server = undefined;

  // The next append (D, 1000 bytes: 900 + 1000 > 1024) rotates; the kill cuts it before its commit.
  for (const p of [missing, unacked]) {
    const current = join(dataDir, 'logs', String(rot.id), p.logPath);
    assert.equal(statSync(current).size, 900);
    renameSync(current, join(`${current}.segments`, `s600.t${Date.now()}`));
    if (p === unacked) writeFileSync(current, chunk(p, 'D', 1000));
  }

  const restarted = await startServer({ dataDir });
  server = restarted;
  const ctx = await openAdminContext({ dataDir });
  try {
    const failures: string[] = [];
    for (const p of [missing, unacked]) {
      const what = `${p.logPath} (${p === missing ? 'current file missing' : 'current file holds the unacknowledged chunk'})`;
      try {
        const h = await call(restarted.httpUrl, p, 'HEAD', p.logPath);
        assert.equal(Number(h.headers['content-length']), 1500, `${what}: HEAD gives the committed length`);
        const r = await call(restarted.httpUrl, p, 'GET', p.logPath).catch((err: Error) => assert.fail(`${what}: GET fails (${err.message})`));
        assert.equal(r.status, 206, `${what}: GET ${r.status} ${r.body.toString().slice(0, 200)}`);
        assert.equal(r.headers['content-range'], 'bytes 600-1499/1500', `${what}: Content-Range`);
        assert.ok(r.body.equals(p.logAcked.subarray(600)), `${what}: GET serves the committed current bytes (B + C), not ${show(r.body)}`);
        const log = (await ctx.store.getPhoneLog(rot.id, p.logPath))!;
        const pieces = await readHeldBytes(ctx.logFiles, log, await listLogSegments(ctx.logFiles, rot.id, p.logPath, log.base), 0, 1500).catch((err: Error) =>
          assert.fail(`${what}: the held bytes cannot be read (${err.message})`),
        );
        assert.ok(Buffer.concat(pieces.map((x) => x.bytes)).equals(p.logAcked), `${what}: the held bytes are A + B + C`);
      } catch (err) {
        failures.push((err as Error).message.split('\n')[0]!);
      }
    }
    assert.deepEqual(failures, [], 'reads after the crash serve the committed log');
    // The phone carries on from the length HEAD gave: the append restores the cut rotation first.
    for (const p of [missing, unacked]) {
      await put(p, chunk(p, 'D', 1000));
      const log = (await ctx.store.getPhoneLog(rot.id, p.logPath))!;
      const pieces = await readHeldBytes(ctx.logFiles, log, await listLogSegments(ctx.logFiles, rot.id, p.logPath, log.base), 0, log.base + log.length);
      assert.ok(Buffer.concat(pieces.map((x) => x.bytes)).equals(p.logAcked), `${p.logPath}: A + B + C + D after the next append`);
      const r = await call(restarted.httpUrl, p, 'GET', p.logPath);
      assert.ok(r.body.equals(p.logAcked.subarray(log.base)), `${p.logPath}: GET serves the new current file`);
    }
  } finally {
    await ctx.store.close();
  }
  await restarted.stop();
  server = undefined;
});
