import { cpSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { appendFile, open, readFile } from 'node:fs/promises';
import { request } from 'node:http';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { userAgentFor, type LoadResult } from './load-generator.js';
import { cpuBetween, httpListeningPort, machineBusyCpu, registerTempDir, ROOT, runBench, startServer, treeCpu, type Server } from './processes.js';
import { figuresOf, OTHER_LOAD_WARNING_PERCENT, type RoundResult, type TargetFigures } from './report.js';
import { PASSWORD, setupTenant, USERNAME } from './setup-tenant.js';
import { int, workerCounts, readSettings } from './bench-args.js';
import { BENCH_START, progress, serverEnv } from './bench-progress.js';

// npm run bench:append [-- --phones 50 --chunks 200 --chunk-bytes 100 …]
//
// How fast do phones' log appends go through polyprov, and what does durability cost? Beside
// polyprov, the same chunks are appended to the same number of plain files in this process, once
// with fs.appendFile and once with an fsync per append. See USAGE.

const USAGE = `usage: npm run bench:append -- [options]

Log-append benchmark: N phones each append C small chunks to their log, all
phones at once, each phone one append at a time. Targets, measured one after
another in the same run, with the same chunks:
  fs.appendFile     fs.promises.appendFile of each chunk to one plain file per
                    phone, in this process: no fsync, no HTTP (the floor)
  fs append+fsync   open(file, 'a'), write, FileHandle.sync(), close per chunk:
                    what durability costs a plain file
  polyprov -w N     polyprov serve --workers N (HTTP only, SQLite store): each
                    chunk a PUT /logs/<mac>-app.log with Content-Range
                    bytes START-END/* at the phone's length, one new TCP
                    connection per request (as phones do), phone User-Agent,
                    preemptive HTTP Basic; acknowledged (201/204) only once the
                    chunk is fsynced and its new length committed
Every target starts from empty logs and is checked byte for byte afterwards.
polyprov gets a warm-up of appends to other phones' logs first.

options:
  --phones N        phones, i.e. logs appended to at once (default 50)
  --chunks N        appends per phone (default 200)
  --chunk-bytes B   mean chunk size; sizes vary ±20% (default 100)
  --warmup N        warm-up appends per polyprov server (default 1000)
  --workers LIST    polyprov worker counts, one row each (default 1)
  --repeat R        measure every target R times, interleaved, polyprov on a
                    fresh server and data folder each time; appends/s is the
                    median round (default 3)
  --seconds S       time limit per target and round; phones stop starting
                    appends after it (default 60)
  --cpu-prof-dir D  run polyprov with node --cpu-prof, profiles written to D
                    (profiling slows it down: figures are then not comparable)
  --json            print the figures as JSON instead of a table
  --help            this text

Progress goes to stderr, results to stdout. Exit status: 0 when every append
succeeded and every log matched; 1 otherwise.`;

interface Settings {
  phones: number;
  chunks: number;
  chunkBytes: number;
  warmup: number;
  workers: number[];
  repeat: number;
  seconds: number;
  cpuProfDir: string | undefined;
  json: boolean;
}


function parseSettings(argv: string[]): Settings | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      phones: { type: 'string', default: '50' },
      chunks: { type: 'string', default: '200' },
      'chunk-bytes': { type: 'string', default: '100' },
      warmup: { type: 'string', default: '1000' },
      workers: { type: 'string', default: '1' },
      repeat: { type: 'string', default: '3' },
      seconds: { type: 'string', default: '60' },
      'cpu-prof-dir': { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return 'help';
  const workers = workerCounts(values.workers);
  return {
    phones: int('phones', values.phones, 1, 1000),
    chunks: int('chunks', values.chunks, 1, 10_000),
    chunkBytes: int('chunk-bytes', values['chunk-bytes'], 20, 64 * 1024),
    warmup: int('warmup', values.warmup, 0, 100_000),
    workers,
    repeat: int('repeat', values.repeat, 1, 10),
    seconds: int('seconds', values.seconds, 1, 600),
    cpuProfDir: values['cpu-prof-dir'] ? resolve(values['cpu-prof-dir']) : undefined,
    json: values.json,
  };
}


function startPolyprov(dataDir: string, workers: number, cpuProfDir: string | undefined): Promise<Server> {
  return startServer({
    name: `polyprov --workers ${workers}`,
    args: [...(cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', cpuProfDir] : []), '--import', 'tsx', 'src/cli/main.ts', 'serve', '--data', dataDir, '--host', '127.0.0.1', '--http-port', '0', '--https-port', '0', '--no-https', '--no-admin', '--workers', String(workers), '--log-level', 'warn'],
    env: serverEnv(),
    readyWhen: (line) => httpListeningPort(line, workers === 1),
  });
}

// ---------------------------------------------------------------------------------------------
// Chunks: log lines in the phone's format, sizes varying ±20% around --chunk-bytes, the same for
// every target (generated once, deterministically).

function makeChunks(phones: number, chunks: number, meanBytes: number, seed: number): Buffer[][] {
  let x = seed >>> 0 || 1;
  const rand = () => {
    // xorshift32: reproducible sizes and text from one run to the next.
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x1_0000_0000;
  };
  const hex = '0123456789abcdef';
  return Array.from({ length: phones }, (_, p) =>
    Array.from({ length: chunks }, (_, c) => {
      const size = Math.max(20, Math.round(meanBytes * (0.8 + 0.4 * rand())));
      let line = `${String(c).padStart(10, '0')}|app  |4|00|phone ${p} chunk ${c} `;
      while (line.length < size - 1) line += hex[Math.floor(rand() * 16)];
      return Buffer.from(line.slice(0, size - 1) + '\n');
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// One pass: every phone appends its chunks in order, all phones at once.

type AppendFn = (phone: number, offset: number, chunk: Buffer) => Promise<void>;

async function runAppends(chunks: Buffer[][], append: AppendFn, deadline: number): Promise<LoadResult & { appended: number[] }> {
  const total = chunks.reduce((n, c) => n + c.length, 0);
  const latencies = new Float64Array(total);
  const samples = new Set<string>();
  const appended = chunks.map(() => 0);
  let n = 0;
  let failures = 0;
  let phonesDone = 0;
  let cutShort = false;
  const phone = async (p: number) => {
    let offset = 0;
    for (let c = 0; c < chunks[p]!.length; c++) {
      if (performance.now() >= deadline) {
        cutShort = true;
        break;
      }
      const chunk = chunks[p]![c]!;
      const start = performance.now();
      try {
        await append(p, offset, chunk);
        latencies[n++] = performance.now() - start;
        offset += chunk.length;
        appended[p] = c + 1;
      } catch (err) {
        latencies[n++] = performance.now() - start;
        failures++;
        if (samples.size < 5) samples.add((err as Error).message);
        break; // a phone whose append failed stops (a real one would HEAD and start again later)
      }
    }
    phonesDone++;
  };
  const start = performance.now();
  await Promise.all(chunks.map((_, p) => phone(p)));
  return { requests: n, failures, failureSamples: [...samples], latenciesMs: latencies.subarray(0, n), elapsedMs: performance.now() - start, phonesDone, cutShort, appended };
}

/** A phone's ranged PUT over a new connection; resolves when polyprov acknowledged it (201/204). */
function putChunk(port: number, mac: string, authorization: string, offset: number, chunk: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: `/logs/${mac}-app.log`,
        method: 'PUT',
        agent: false,
        headers: {
          'User-Agent': userAgentFor(mac),
          Authorization: authorization,
          Connection: 'close',
          'Content-Range': `bytes ${offset}-${offset + chunk.length - 1}/*`,
          'Content-Length': chunk.length,
        },
      },
      (res) => {
        const body: Buffer[] = [];
        res.on('data', (c: Buffer) => body.push(c));
        res.on('end', () => {
          if (res.statusCode === 201 || res.statusCode === 204) resolve();
          else reject(new Error(`HTTP ${res.statusCode}: ${Buffer.concat(body).toString().trim().slice(0, 200)}`));
        });
        res.on('error', reject);
      },
    );
    req.setTimeout(10_000, () => req.destroy(new Error('no answer within 10000 ms')));
    req.on('error', reject);
    req.end(chunk);
  });
}

function getLog(port: number, mac: string, authorization: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path: `/logs/${mac}-app.log`, agent: false, headers: { 'User-Agent': userAgentFor(mac), Authorization: authorization, Connection: 'close' } },
      (res) => {
        const body: Buffer[] = [];
        res.on('data', (c: Buffer) => body.push(c));
        res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(body)) : reject(new Error(`GET log of ${mac}: HTTP ${res.statusCode}`))));
        res.on('error', reject);
      },
    );
    req.setTimeout(10_000, () => req.destroy(new Error('no answer within 10000 ms')));
    req.on('error', reject);
    req.end();
  });
}

/** Logs that differ from the chunks their phone had acknowledged, as failure descriptions. */
async function mismatches(chunks: Buffer[][], appended: number[], read: (phone: number) => Promise<Buffer>): Promise<string[]> {
  const out: string[] = [];
  for (let p = 0; p < chunks.length; p++) {
    const want = Buffer.concat(chunks[p]!.slice(0, appended[p]));
    if (!want.length) continue;
    const got = await read(p).catch((err: Error) => Buffer.from(`(${err.message})`));
    if (!got.equals(want)) out.push(`log of phone ${p}: ${got.length} bytes stored, ${want.length} appended, contents differ`);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

interface Target {
  name: string;
  description: string;
  kind: 'baseline' | 'polyprov';
  workers?: number;
  measure(round: number): Promise<RoundResult>;
}

/** The store's SQLite synchronous mode as src/store/open-store.ts sets it, for the policy line (it is not kept in the database file). */
function sqliteSynchronous(): string {
  try {
    return /pragma\(\s*'synchronous\s*=\s*(\w+)'/i.exec(readFileSync(join(ROOT, 'src/store/open-store.ts'), 'utf8'))?.[1]?.toUpperCase() ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<number> {
  const settings = readSettings(parseSettings, USAGE);
  if (typeof settings === 'number') return settings;

  if (settings.cpuProfDir) mkdirSync(settings.cpuProfDir, { recursive: true });
  const work = mkdtempSync(join(tmpdir(), 'polyprov-bench-append-'));
  registerTempDir(work);
  const template = join(work, 'template');
  const warmupPhones = settings.warmup > 0 ? Math.min(settings.phones, 50) : 0;
  progress(`setting up a tenant with ${settings.phones} phones${warmupPhones ? ` (+${warmupPhones} for warm-up)` : ''} in ${work}…`);
  const { macs, warmupMacs } = await setupTenant(template, settings.phones, warmupPhones, (done, total) => progress(`  ${done}/${total} devices`));
  const setupSeconds = (performance.now() - BENCH_START) / 1000;
  const authorization = 'Basic ' + Buffer.from(`${USERNAME}:${PASSWORD}`).toString('base64');
  const chunks = makeChunks(settings.phones, settings.chunks, settings.chunkBytes, 1);
  const warmupChunks = warmupPhones ? makeChunks(warmupPhones, Math.ceil(settings.warmup / warmupPhones), settings.chunkBytes, 2) : [];
  const totalBytes = chunks.flat().reduce((n, c) => n + c.length, 0);
  const deadline = () => performance.now() + settings.seconds * 1000;

  /** A round of an in-process fs target: this process does the work, so its CPU is the target's. */
  const fsRound = async (name: string, round: number, appendOne: (path: string, chunk: Buffer) => Promise<void>): Promise<RoundResult> => {
    const dir = join(work, `${name}-${round}`);
    mkdirSync(dir);
    const pathOf = (p: number) => join(dir, `${macs[p]}-app.log`);
    const machine0 = machineBusyCpu();
    const own0 = process.cpuUsage();
    const load = await runAppends(chunks, (p, _offset, chunk) => appendOne(pathOf(p), chunk), deadline());
    const own = process.cpuUsage(own0);
    const machine1 = machineBusyCpu();
    const bad = await mismatches(chunks, load.appended, (p) => readFile(pathOf(p)));
    load.failures += bad.length;
    load.failureSamples.push(...bad.slice(0, 3));
    return {
      load,
      warmupErrors: 0,
      warmupErrorSamples: [],
      serverCpuSeconds: (own.user + own.system) / 1e6,
      loadGeneratorCpuSeconds: 0,
      machineCpuSeconds: machine0 !== undefined && machine1 !== undefined ? machine1 - machine0 : undefined,
      serverWarnings: [],
    };
  };

  const targets: Target[] = [
    {
      name: 'fs.appendFile',
      description: 'fs.promises.appendFile per chunk, one file per phone, in this process: no fsync, no HTTP',
      kind: 'baseline',
      measure: (round) => fsRound('appendfile', round, (path, chunk) => appendFile(path, chunk)),
    },
    {
      name: 'fs append+fsync',
      description: "open(file, 'a') + write + FileHandle.sync() + close per chunk, in this process: no HTTP",
      kind: 'baseline',
      measure: (round) =>
        fsRound('fsync', round, async (path, chunk) => {
          const fh = await open(path, 'a');
          try {
            await fh.write(chunk);
            await fh.sync();
          } finally {
            await fh.close();
          }
        }),
    },
    ...settings.workers.map(
      (w): Target => ({
        name: `polyprov -w ${w}`,
        description: `polyprov serve --workers ${w}${w > 1 ? ` (cluster primary + ${w} workers)` : ''}, SQLite store, HTTP only: ranged PUT per chunk, new connection each, preemptive Basic`,
        kind: 'polyprov',
        workers: w,
        async measure(round) {
          const dataDir = join(work, `polyprov-w${w}-${round}`);
          cpSync(template, dataDir, { recursive: true });
          const server = await startPolyprov(dataDir, w, settings.cpuProfDir);
          progress(`  listening on port ${server.port}`);
          try {
            let warm: Awaited<ReturnType<typeof runAppends>> | undefined;
            if (warmupChunks.length) {
              warm = await runAppends(warmupChunks, (p, offset, chunk) => putChunk(server.port, warmupMacs[p]!, authorization, offset, chunk), deadline());
              progress(`  warm-up: ${warm.requests} appends in ${(warm.elapsedMs / 1000).toFixed(1)} s${warm.failures ? `, ${warm.failures} failed` : ''}; measuring…`);
            }
            const cpu0 = treeCpu(server.pid);
            const machine0 = machineBusyCpu();
            const own0 = process.cpuUsage();
            const load = await runAppends(chunks, (p, offset, chunk) => putChunk(server.port, macs[p]!, authorization, offset, chunk), deadline());
            const own = process.cpuUsage(own0);
            const machine1 = machineBusyCpu();
            const serverCpu = cpuBetween(cpu0, treeCpu(server.pid));
            const bad = await mismatches(chunks, load.appended, (p) => getLog(server.port, macs[p]!, authorization));
            load.failures += bad.length;
            load.failureSamples.push(...bad.slice(0, 3));
            return {
              load,
              warmupErrors: warm?.failures ?? 0,
              warmupErrorSamples: warm?.failureSamples ?? [],
              serverCpuSeconds: serverCpu,
              loadGeneratorCpuSeconds: (own.user + own.system) / 1e6,
              machineCpuSeconds: machine0 !== undefined && machine1 !== undefined ? machine1 - machine0 : undefined,
              serverWarnings: server.warnings,
            };
          } finally {
            await server.stop();
          }
        },
      }),
    ),
  ];

  // Rounds interleave the targets, so that a slow spell of the machine does not land on one only.
  const rounds = new Map<Target, RoundResult[]>(targets.map((t) => [t, []]));
  for (let n = 1; n <= settings.repeat; n++) {
    for (const t of targets) {
      progress(`measuring ${t.name}${settings.repeat > 1 ? ` (round ${n}/${settings.repeat})` : ''}…`);
      const r = await t.measure(n);
      progress(`  ${r.load.requests} appends in ${(r.load.elapsedMs / 1000).toFixed(1)} s: ${((r.load.requests / r.load.elapsedMs) * 1000).toFixed(0)} appends/s, ${r.load.failures} error(s)`);
      rounds.get(t)!.push(r);
    }
  }
  const figures: TargetFigures[] = targets.map((t) => figuresOf({ name: t.name, description: t.description, kind: t.kind, workers: t.workers }, rounds.get(t)!));
  const plain = figures[0]!;
  const synced = figures[1]!;
  const ratio = (a: TargetFigures, b: TargetFigures) => (b.requestsPerSecond > 0 ? a.requestsPerSecond / b.requestsPerSecond : NaN);
  const failed = figures.some((f) => f.errors + f.warmupErrors > 0);
  const synchronous = sqliteSynchronous();
  const policy =
    'polyprov fsync policy: an fsync per acknowledged append. Under the log\'s lock (the store\'s write transaction), the chunk is written at the ' +
    'committed length and the file fsynced (FileHandle.sync), then the new length is committed; 201/204 is sent after the commit. ' +
    `SQLite runs in WAL mode with synchronous=${synchronous}` +
    (synchronous === 'NORMAL' ? ', so the commit itself is not fsynced: an acknowledged append survives a crash of polyprov (kill -9), not necessarily an OS crash or power loss.' : '.');

  const summary = {
    settings: {
      phones: settings.phones,
      chunksPerPhone: settings.chunks,
      appendsPerTarget: settings.phones * settings.chunks,
      meanChunkBytes: Math.round(totalBytes / (settings.phones * settings.chunks)),
      warmupAppends: warmupChunks.reduce((n, c) => n + c.length, 0),
      workers: settings.workers,
      repeat: settings.repeat,
      secondsLimit: settings.seconds,
      cpus: availableParallelism(),
      uvThreadpoolSize: Number(process.env.UV_THREADPOOL_SIZE ?? 4),
      node: process.version,
      sqliteSynchronous: synchronous,
    },
    targets: figures.map((f) => ({ ...f, ofAppendFile: Number(ratio(f, plain).toFixed(4)), ofAppendFsync: Number(ratio(f, synced).toFixed(4)) })),
    fsyncPolicy: policy,
    failed,
    durationSeconds: Number(((performance.now() - BENCH_START) / 1000).toFixed(1)),
    setupSeconds: Number(setupSeconds.toFixed(1)),
  };

  if (settings.json) {
    process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
    return failed ? 1 : 0;
  }
  const fmt = (n: number | undefined, digits = 0) => (n === undefined || !Number.isFinite(n) ? '-' : n.toFixed(digits));
  const pct = (r: number) => (Number.isFinite(r) ? `${(r * 100).toFixed(r < 0.1 ? 1 : 0)}%` : '-');
  const cols = ['target', 'appends', 'appends/s', 'p50 ms', 'p99 ms', 'errors', 'CPU/append', 'vs fs.appendFile', 'vs fs append+fsync'];
  const rows = figures.map((f) => [
    f.name,
    String(f.requests) + (f.cutShort ? '*' : ''),
    fmt(f.requestsPerSecond),
    fmt(f.p50Ms, 2),
    fmt(f.p99Ms, 2),
    String(f.errors + f.warmupErrors),
    f.serverCpuPerRequestUs === undefined ? '-' : `${fmt(f.serverCpuPerRequestUs)} µs`,
    pct(ratio(f, plain)),
    pct(ratio(f, synced)),
  ]);
  const widths = cols.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  const out = [
    'polyprov log-append benchmark',
    `  ${settings.phones} phones × ${settings.chunks} appends of ~${summary.settings.meanChunkBytes} B (±20%): ${settings.phones * settings.chunks} appends, ${totalBytes} B per target${settings.repeat > 1 ? ' and round' : ''}`,
    `  all phones at once, one append at a time each (${settings.phones} in flight); every log checked byte for byte afterwards`,
    ...(settings.cpuProfDir ? [`  polyprov ran under --cpu-prof (profiles in ${settings.cpuProfDir}): its figures are slowed down by profiling`] : []),
    `  targets measured one after another${settings.repeat > 1 ? `, ${settings.repeat} rounds interleaved` : ''}, limit ${settings.seconds} s each; ${availableParallelism()} CPUs shared by the load generator and the server; libuv thread pool ${summary.settings.uvThreadpoolSize} (fs rows run on this process's pool); Node ${process.version}`,
    '',
    line(cols),
    ...rows.map(line),
    '',
    ...figures.map((f) => `  ${f.name}: ${f.description}`),
    '  CPU/append: fs rows, this process (all its threads); polyprov rows, the server\'s processes (the HTTP client\'s CPU not included)',
  ];
  if (figures.some((f) => f.roundsRequestsPerSecond.length > 1)) {
    out.push(`  appends/s is the median of ${settings.repeat} rounds (p50/p99 over all rounds):`);
    for (const f of figures) out.push(`    ${f.name}: ${f.roundsRequestsPerSecond.map((r) => fmt(r)).join(', ')} appends/s`);
  }
  const busy = figures.filter((f) => (f.otherCpuPercent ?? 0) > OTHER_LOAD_WARNING_PERCENT);
  if (busy.length) out.push(`  WARNING: other processes were busy during ${busy.map((f) => f.name).join(', ')}: those figures are unreliable; run again on a quiet machine`);
  if (figures.some((f) => f.cutShort)) out.push('  * --seconds ran out before every phone was done');
  for (const f of figures) {
    for (const e of f.errorSamples) out.push(`  error (${f.name}): ${e}`);
    for (const w of f.serverWarnings) out.push(`  server warning (${f.name}): ${w}`);
  }
  out.push(
    '',
    `cost of durability on plain files: an fsync per append takes ${fmt(plain.requestsPerSecond)} appends/s to ${fmt(synced.requestsPerSecond)} (${pct(ratio(synced, plain))} of the throughput; p50 ${fmt(plain.p50Ms, 2)} → ${fmt(synced.p50Ms, 2)} ms, p99 ${fmt(plain.p99Ms, 2)} → ${fmt(synced.p99Ms, 2)} ms)`,
    ...figures
      .filter((f) => f.kind === 'polyprov')
      .map((f) => `${f.name}: ${fmt(f.requestsPerSecond)} appends/s, ${pct(ratio(f, synced))} of fs append+fsync and ${pct(ratio(f, plain))} of fs.appendFile`),
    policy,
  );
  if (failed) out.push(`${figures.reduce((n, f) => n + f.errors + f.warmupErrors, 0)} append(s) failed or log(s) differed → the bench fails`);
  out.push(`whole bench: ${fmt(summary.durationSeconds, 1)} s (setup ${fmt(summary.setupSeconds, 1)} s)`, '');
  process.stdout.write(out.join('\n'));
  return failed ? 1 : 0;
}

runBench(main);
