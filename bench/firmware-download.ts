import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { int, readSettings, workerCounts } from './bench-args.js';
import { BENCH_START, progress, serverEnv } from './bench-progress.js';
import { CURL } from './ftp-clients.js';
import { PASSWORD, polyprovCli, setUpTenant, startPolyprov, TENANT } from './polyprov-transfer-server.js';
import { flushToDisk, httpListeningPort, registerTempDir, runBench, startServer, treeCpu, type CommandResult, type Server } from './processes.js';
import { OTHER_LOAD_WARNING_PERCENT } from './report.js';
import { downloadConcurrently, type Expected } from './transfer-clients.js';
import { FAST_TEMP, fmt, intList, median, MiB, mibPerSecond, round, sum, table } from './transfer-report.js';

// npm run bench:firmware [-- --clients 50 --sizes 16,64 --workers 1,2 --repeat 3 …]
//
// The issue's benchmark: "Run 50 concurrent 64 MB image downloads over HTTP. Report the aggregate
// throughput beside nginx, or beside a bare node:http file stream measured in the same run, and
// the server's peak RSS, which must stay flat no matter how large the image is." See USAGE.

/** The part number of the image (a VVX 500's): phones ask for `<part>.sip.ld`. */
const PART = '3111-44500-001';
const IMAGE = `${PART}.sip.ld`;
/** The peak RSS of a polyprov row without blob cache may grow by less than this from the smallest to the largest size. */
const RSS_GROWTH_LIMIT_MIB = 32;
/** polyprov's default --blob-cache-mb (src/config.ts). */
const DEFAULT_BLOB_CACHE_MB = 256;
const RSS_SAMPLE_MS = 50;
/** polyprov's read size for blobs on the local disk (READ_BYTES, src/blobs/local-file-range.ts). */
const POLYPROV_READ_KIB = 256;
/** Concurrent downloads of the warm-up before each measured row (one of them hashed). */
const WARM_CLIENTS = 5;
/** curl processes the measured downloads are dealt to (one per core of the test machine). */
const DEFAULT_CURL_PROCESSES = 2;

/** The release a size is imported as: 6.4.0.<MiB>, so each size is its own folder. */
const versionFor = (sizeMiB: number) => `6.4.0.${sizeMiB}`;
const urlPath = (sizeMiB: number) => `/firmware/${versionFor(sizeMiB)}/${IMAGE}`;

const USAGE = `usage: npm run bench:firmware -- [options]

Firmware download benchmark over HTTP, on loopback: --clients downloads
(default 50) of the whole of one firmware image at once, each over its own
connection, writing to /dev/null; every one must report HTTP 200 and the
image's size (curl -w '%{size_download} %{http_code}'). The image is a file of
random bytes (16 MiB and 64 MiB by default, --sizes; made once per run).
Every row moves the same bytes, --clients × the largest size: with a smaller
image each phone downloads it again as soon as it is done (4 times for 16
MiB beside 64 MiB), so that --clients downloads are always in flight and the
rows differ in the image's size only, not in how long the server is loaded.

Clients: curl 7.88 (libcurl, like the phones' own HTTP stack) in parallel
mode (--parallel --parallel-immediate): the downloads are dealt to
--curl-processes processes (default ${DEFAULT_CURL_PROCESSES}, one per core here), each opening
one connection per download at once, so all 50 start within ~20 ms. One
process per download (--curl-processes 50) works too, but on 2 cores starting
50 curl processes took 0.5 to 1.2 s, as long as a whole 16 MiB row: early
downloads were done before the last had begun, so the row was not 50
concurrent downloads. Each download sends a VVX 500 updater's User-Agent with
its own MAC, and HTTP Basic credentials up front (real phones answer a 401
first). Before each measured row, ${WARM_CLIENTS} downloads of warm-up, the first into
a tmpfs (${FAST_TEMP}, else the temp folder) and compared by sha256.

Targets, each a fresh server per row, measured in the same run:
  node:http        bench/baseline-node-http.ts: a bare node:http server in its
                   own process, fs.createReadStream of the same file piped to
                   the response with Content-Length; no auth (nginx is not
                   installed here; this is the issue's alternative). It reads
                   ${POLYPROV_READ_KIB} KiB at a time like polyprov (--baseline-read-kib), not
                   Node's default 64 KiB: with 64 KiB reads it served 50 × 64
                   MiB ~30% slower here (1.7 against 2.2 to 2.7 GiB/s), which
                   would credit polyprov with a difference in read size
  polyprov -w N    polyprov serve --workers N --blob-cache-mb 0, HTTP only
                   (HTTPS, TFTP, FTP, FTPS off); the image imported with
                   polyprov firmware import -t ${TENANT} (a folder with
                   ${IMAGE} and sip.ver: version 6.4.0.<MiB>),
                   the largest made the target (firmware target set), and
                   fetched as /firmware/<version>/${IMAGE}
                   with HTTP Basic as the tenant's provisioning user
  polyprov -w N, blob cache
                   the same with the default --blob-cache-mb (${DEFAULT_BLOB_CACHE_MB}), N the first
                   of --workers: one row to show the other behaviour

Why two polyprov behaviours: polyprov keeps recently served blobs (firmware
images) in memory, per worker, up to --blob-cache-mb in all and half of that
per image, so that a fleet's thousands of downloads of one image cost a copy
into the socket each rather than a read and a copy. With the cache on, the
peak RSS grows by the image's size (one copy per worker) by design; with
--blob-cache-mb 0 every download streams from the blob store through a fixed
256 KiB read buffer, and the RSS must not depend on the image's size. The
flatness target is therefore judged on the --blob-cache-mb 0 rows; the cached
row is printed beside them, with its growth, and judged on nothing.

Figures, per target and size:
  aggregate        all downloads' bytes over the wall time of the row (first
                   curl process started to last one exited), MiB/s; median
                   of the rounds
  vs node:http     aggregate as % of node:http's at the same size (reported:
                   the issue sets no target for it)
  per client       median of every download's own MiB/s (curl's
                   time_total), rounds pooled
  server CPU       CPU seconds of the server's processes (cluster primary and
                   workers) per GiB sent
  RSS before       the server's RSS (sum of VmRSS of its processes) when the
                   measured downloads start, after warm-up
  peak RSS         the highest sum of VmRSS, sampled every ${RSS_SAMPLE_MS} ms from
                   /proc/<pid>/status during the row
  peak HWM         the sum of the processes' VmHWM (each one's own peak since
                   it started, the start and warm-up included) at the row's
                   end: it catches peaks between two samples
  (RSS figures: median of the rounds; every round's peak is listed too)

Target checked (printed with PASS/FAIL), for each polyprov -w N row with
--blob-cache-mb 0: "peak RSS grows by less than ${RSS_GROWTH_LIMIT_MIB} MiB from the smallest to
the largest size" (16 → 64 MiB by default), on the medians of the rounds.
${RSS_GROWTH_LIMIT_MIB} MiB is below the 48 MiB that one image held in memory would add between
16 and 64 MiB (the cached row shows that growth), and above most of the
spread of a fresh process's peak under the same load. 50 downloads lift each
polyprov process's RSS by 40 to 70 MiB over its idle ~150 MiB: every 256 KiB
read is a new buffer, freed when V8 next collects garbage, and the allocator
keeps its high-water mark. That level did not grow with the image (-w 2,
rows of 12.5 GiB each: 600, 546 and 632 MiB at 16, 64 and 256 MiB) nor with
more downloads (batch after batch on one server stays level), but it varies
by ~20 MiB per worker from one fresh process to the next: with -w 2 two
workers' spread adds up, and the verdict lies within that noise (measured
+3 to +48 MiB over five runs; -w 1 -1 to +14 MiB). With other --sizes the target
catches a held copy only when they are more than ${RSS_GROWTH_LIMIT_MIB} MiB apart.

Run time with the defaults on 2 cores: about 90 s on a quiet machine (8
fresh servers per round, 3 rounds, ~5 s of setup), up to 2 minutes while
other work runs; --repeat 1 for a 35-second look.
Nothing else heavy should run meanwhile: the CPU other processes used during
each row is measured, and a warning is printed above ${OTHER_LOAD_WARNING_PERCENT}% of a core.

options:
  --sizes LIST       image sizes in MiB, one set of rows each (default 16,64;
                     the throughput is compared at each, the RSS from the
                     smallest to the largest)
  --clients N        concurrent downloads (default 50)
  --curl-processes P curl processes the downloads are dealt to (default ${DEFAULT_CURL_PROCESSES};
                     at most --clients: one per download)
  --baseline-read-kib K
                     node:http's read size, KiB (default ${POLYPROV_READ_KIB}, polyprov's; 64
                     is Node's default)
  --workers LIST     polyprov worker counts, one row each (default 1,2)
  --repeat R         measure every row R times, interleaved, each time on a
                     fresh server, and report the median MiB/s (default 3)
  --timeout S        time limit of one download, seconds (default 120)
  --json             print the figures as JSON instead of a table
  --help             this text

Progress goes to stderr, results to stdout. Exit status: 0 when every
download succeeded and was right and the RSS target was met (or not judged:
one size only); 2 when only the RSS target was missed; 1 when a download
failed, was wrong or timed out, or the bench could not run.`;

interface Settings {
  sizes: number[];
  clients: number;
  curlProcesses: number;
  baselineReadKiB: number;
  workers: number[];
  repeat: number;
  timeoutSeconds: number;
  json: boolean;
}

function parseSettings(argv: string[]): Settings | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      sizes: { type: 'string', default: '16,64' },
      clients: { type: 'string', default: '50' },
      'curl-processes': { type: 'string', default: String(DEFAULT_CURL_PROCESSES) },
      'baseline-read-kib': { type: 'string', default: String(POLYPROV_READ_KIB) },
      workers: { type: 'string', default: '1,2' },
      repeat: { type: 'string', default: '3' },
      timeout: { type: 'string', default: '120' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return 'help';
  return {
    sizes: intList('sizes', values.sizes, 1, 1024).sort((a, b) => a - b),
    clients: int('clients', values.clients, 1, 200),
    curlProcesses: int('curl-processes', values['curl-processes'], 1, 200),
    baselineReadKiB: int('baseline-read-kib', values['baseline-read-kib'], 4, 16 * 1024),
    workers: workerCounts(values.workers),
    repeat: int('repeat', values.repeat, 1, 10),
    timeoutSeconds: int('timeout', values.timeout, 1, 3600),
    json: values.json,
  };
}

interface Target {
  name: string;
  kind: 'baseline' | 'polyprov';
  workers?: number;
  /** polyprov's --blob-cache-mb; undefined for the baseline. */
  blobCacheMb?: number;
  /** Judged by the RSS flatness target. */
  flat: boolean;
  description: string;
  start: (sizeMiB: number) => Promise<Server>;
}

// ---------------------------------------------------------------------------------------------
// The server's memory: VmRSS and VmHWM of its processes (Linux /proc; elsewhere left out).

interface MemoryFigures {
  /** Sum of VmRSS at the first sample. */
  startBytes: number;
  /** Highest sum of VmRSS over the samples. */
  peakBytes: number;
  /** Sum of each process's VmHWM at the last sample. */
  hwmBytes: number;
  samples: number;
  processes: number;
  /** Each process's own highest VmRSS over the samples, the server's main process first. */
  peakByProcessBytes: number[];
}

function readMemory(pid: number): { rss: number; hwm: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN) * 1024;
    const rss = kb('VmRSS');
    const hwm = kb('VmHWM');
    return Number.isFinite(rss) && Number.isFinite(hwm) ? { rss, hwm } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Samples the RSS of `root` and its descendants (polyprov's cluster workers) every `everyMs` until
 * stop(). The processes are listed once, at the start: a server's workers are all up once it says
 * it is ready, and one that died meanwhile would show as an error anyway.
 */
function watchTreeMemory(root: number, everyMs: number): { stop(): MemoryFigures | undefined } {
  // Node processes only: tsx starts an esbuild service when it has a changed file to compile, and
  // that one's memory is the loader's, not the server's (and would be there in one row, not another).
  const exe = (pid: number) => {
    try {
      return readlinkSync(`/proc/${pid}/exe`);
    } catch {
      return undefined;
    }
  };
  const rootExe = exe(root);
  const pids = [...(treeCpu(root)?.keys() ?? [root])].filter((pid) => pid === root || exe(pid) === rootExe);
  let start: number | undefined;
  let peak = 0;
  let samples = 0;
  const hwm = new Map<number, number>();
  const peakOf = new Map<number, number>();
  const sample = () => {
    let total = 0;
    let seen = 0;
    for (const pid of pids) {
      const m = readMemory(pid);
      if (!m) continue;
      seen++;
      total += m.rss;
      peakOf.set(pid, Math.max(peakOf.get(pid) ?? 0, m.rss));
      hwm.set(pid, Math.max(hwm.get(pid) ?? 0, m.hwm));
    }
    if (!seen) return;
    samples++;
    start ??= total;
    peak = Math.max(peak, total);
  };
  sample();
  const timer = setInterval(sample, everyMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return start === undefined
        ? undefined
        : { startBytes: start, peakBytes: peak, hwmBytes: sum([...hwm.values()]), samples, processes: pids.length, peakByProcessBytes: pids.map((pid) => peakOf.get(pid) ?? 0) };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Clients.

interface CurlReport {
  bytes: number;
  code: number;
  seconds: number;
}

/**
 * A VVX 500's updater fetching its application image, as phone number `n` (its MAC in the serial
 * number), so polyprov takes the path it takes for phones (UA parsed, inventory noted).
 */
const phoneUserAgent = (n: number) => `FileTransport PolycomVVX-VVX_500-UA/6.3.0.14929 (SN:0004f2${(0xa00000 + n).toString(16)}) Type/Updater`;

/**
 * One curl process downloading the image once per entry of `phones` (a phone may come more than
 * once), `inFlight` at a time (parallel mode: each transfer its own connection and its phone's
 * User-Agent; a finished one is replaced by the next), the first into `firstOutput` and the others
 * into /dev/null. It prints "<bytes> <HTTP code> <seconds>" per transfer as each ends.
 */
function curlDownloads(
  port: number,
  sizeMiB: number,
  phones: number[],
  inFlight: number,
  firstOutput: string,
  auth: boolean,
  timeoutSeconds: number,
): { command: string; args: string[] } {
  const url = `http://127.0.0.1:${port}${urlPath(sizeMiB)}`;
  return {
    command: CURL,
    args: [
      '--no-progress-meter',
      // --parallel-immediate: open every connection at once, rather than wait on the first to see
      // whether later transfers could share it (HTTP/2 multiplexing, which a phone never does).
      ...(phones.length > 1 ? ['--parallel', '--parallel-immediate', '--parallel-max', String(inFlight)] : []),
      ...phones.flatMap((phone, i) => [
        ...(i > 0 ? ['--next'] : []),
        '-sS',
        '--max-time',
        String(timeoutSeconds),
        '-A',
        phoneUserAgent(phone),
        ...(auth ? ['--basic', '-u', `${TENANT}:${PASSWORD}`] : []),
        '-o',
        i === 0 ? firstOutput : '/dev/null',
        '-w',
        '%{size_download} %{http_code} %{time_total}\\n',
        url,
      ]),
    ],
  };
}

function curlReports(r: CommandResult): CurlReport[] {
  return r.stdout
    .trim()
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => {
      const [bytes, code, seconds] = l.trim().split(/\s+/).map(Number);
      return { bytes: bytes ?? NaN, code: code ?? NaN, seconds: seconds ?? NaN };
    });
}

/** What is wrong with one curl process's report of `count` downloads of `size` bytes, if anything. */
function judgeCurl(r: CommandResult, count: number, size: number): string | undefined {
  const reports = curlReports(r);
  if (reports.length !== count) return `curl reported ${reports.length} download(s), expected ${count}`;
  const bad = reports.filter((c) => c.code !== 200 || c.bytes !== size);
  return bad.length ? `${bad.length} of ${count} downloads wrong, e.g. ${bad[0]!.bytes} bytes with HTTP ${bad[0]!.code}, expected ${size} with 200` : undefined;
}

/**
 * Phones 1…count dealt out to `processes` curl processes in turn, each phone downloading `times`
 * times in a row: a process's list holds its phones once per time, in order, so that with as many
 * in flight as it has phones, each phone's next download starts when one of them ends.
 */
function dealPhones(count: number, processes: number, times = 1): { phones: number[]; inFlight: number }[] {
  const own = Array.from({ length: Math.min(processes, count) }, () => [] as number[]);
  for (let phone = 1; phone <= count; phone++) own[(phone - 1) % own.length]!.push(phone);
  return own.map((ps) => ({ phones: Array.from({ length: times }, () => ps).flat(), inFlight: ps.length }));
}

// ---------------------------------------------------------------------------------------------

/** One measured row of one round. */
interface Measurement {
  wallMs: number;
  /** Each curl's MiB/s by its own time_total. */
  clientRates: number[];
  /** From the first curl process's spawn to the last one's. */
  spawnSpreadMs: number;
  serverCpuSeconds: number | undefined;
  clientCpuSeconds: number | undefined;
  otherCpuSeconds: number | undefined;
  memory: MemoryFigures | undefined;
  failures: string[];
}

interface Row {
  target: string;
  kind: 'baseline' | 'polyprov';
  workers?: number;
  blobCacheMb?: number;
  sizeMiB: number;
  clients: number;
  /** Each phone's downloads in one round (one after another, --clients in flight). */
  downloadsPerPhone: number;
  /** Aggregate MiB/s, median over the rounds without errors (NaN: none). */
  mibPerSecond: number;
  roundsMibPerSecond: number[];
  perClientMedianMibPerSecond: number;
  serverCpuSecondsPerGiB?: number;
  clientCpuPercent?: number;
  otherCpuPercent?: number;
  /** MiB; see USAGE. */
  rssBeforeMiB?: number;
  /** Median over the rounds of each round's peak (the judged figure). */
  peakRssMiB?: number;
  roundsPeakRssMiB: number[];
  /** Each process's own peak, per round (the server's main process first, then its workers). */
  roundsPeakRssByProcessMiB: number[][];
  maxPeakRssMiB?: number;
  /** Median over the rounds. */
  peakHwmMiB?: number;
  downloads: number;
  errors: number;
  errorSamples: string[];
  /** Against node:http at the same size; polyprov rows only. */
  ofBaseline?: number;
}

interface Flatness {
  target: string;
  blobCacheMb: number;
  judged: boolean;
  fromMiB: number;
  toMiB: number;
  peakRssFromMiB: number;
  peakRssToMiB: number;
  growthMiB: number;
  hwmGrowthMiB: number;
  limitMiB: number;
  /** Judged rows only. */
  pass?: boolean;
}

const toMiB = (bytes: number) => round(bytes / MiB, 1);

async function main(): Promise<number> {
  const settings = readSettings(parseSettings, USAGE);
  if (typeof settings === 'number') return settings;
  const smallest = settings.sizes[0]!;
  const largest = settings.sizes[settings.sizes.length - 1]!;
  /** Downloads per phone in a row of this size: every row moves the bytes of the largest image's. */
  const timesFor = (sizeMiB: number) => Math.ceil(largest / sizeMiB);

  // The images: one folder per size, as a release to import (the image and its sip.ver); the
  // baseline serves the same file, polyprov its copy in the blob store.
  const work = mkdtempSync(join(tmpdir(), 'polyprov-bench-firmware-'));
  registerTempDir(work);
  const outDir = mkdtempSync(join(existsSync(FAST_TEMP) ? FAST_TEMP : tmpdir(), 'polyprov-bench-firmware-out-'));
  registerTempDir(outDir);
  const images = new Map<number, { file: string; folder: string; expected: Expected }>();
  for (const sizeMiB of settings.sizes) {
    progress(`making a ${sizeMiB} MiB image of random bytes in ${work}…`);
    const folder = join(work, `release-${sizeMiB}`);
    mkdirSync(folder);
    const bytes = randomBytes(sizeMiB * MiB);
    const file = join(folder, IMAGE);
    writeFileSync(file, bytes);
    writeFileSync(join(folder, 'sip.ver'), `${versionFor(sizeMiB)}\n`);
    images.set(sizeMiB, { file, folder, expected: { size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') } });
  }
  const dataDir = join(work, 'data');
  progress(`setting up the polyprov tenant (polyprov tenant add, firmware import ×${settings.sizes.length}, firmware target set)…`);
  await setUpTenant(dataDir, {});
  for (const sizeMiB of settings.sizes) await polyprovCli(dataDir, ['firmware', 'import', '-t', TENANT, images.get(sizeMiB)!.folder]);
  await polyprovCli(dataDir, ['firmware', 'target', 'set', versionFor(settings.sizes[settings.sizes.length - 1]!), '-t', TENANT]);
  await flushToDisk();
  const setupSeconds = (performance.now() - BENCH_START) / 1000;

  const startPolyprovHttp = (workers: number, blobCacheMb: number | undefined) =>
    startPolyprov('http', dataDir, workers, blobCacheMb !== undefined ? ['--blob-cache-mb', String(blobCacheMb)] : []);

  const cachedWorkers = settings.workers[0]!;
  const targets: Target[] = [
    {
      name: 'node:http',
      kind: 'baseline',
      flat: false,
      description: `bare node:http, 1 process, fs.createReadStream (${settings.baselineReadKiB} KiB reads) piped to the response, Content-Length, no auth`,
      start: (sizeMiB) =>
        startServer({
          name: 'node:http baseline',
          args: ['--import', 'tsx', 'bench/baseline-node-http.ts', images.get(sizeMiB)!.file, urlPath(sizeMiB), String(settings.baselineReadKiB * 1024)],
          env: serverEnv(),
          readyWhen: (line) => httpListeningPort(line, true),
        }),
    },
    ...settings.workers.map(
      (w): Target => ({
        name: `polyprov -w ${w}`,
        kind: 'polyprov',
        workers: w,
        blobCacheMb: 0,
        flat: true,
        description: `polyprov serve --workers ${w} --blob-cache-mb 0${w > 1 ? ` (cluster primary + ${w} workers sharing the port)` : ''}, HTTP only, SQLite store, Basic auth`,
        start: () => startPolyprovHttp(w, 0),
      }),
    ),
    {
      name: `polyprov -w ${cachedWorkers}, blob cache`,
      kind: 'polyprov',
      workers: cachedWorkers,
      blobCacheMb: DEFAULT_BLOB_CACHE_MB,
      flat: false,
      description: `polyprov serve --workers ${cachedWorkers} with the default --blob-cache-mb (${DEFAULT_BLOB_CACHE_MB}): images up to ${DEFAULT_BLOB_CACHE_MB / 2} MiB are held in memory per worker after their first download`,
      start: () => startPolyprovHttp(cachedWorkers, undefined),
    },
  ];

  const key = (t: Target, sizeMiB: number) => `${t.name}/${sizeMiB}`;
  const measurements = new Map<string, Measurement[]>();
  const serverWarnings = new Map<Target, string[]>(targets.map((t) => [t, []]));

  const measureRow = async (t: Target, sizeMiB: number, roundNo: number) => {
    const { expected } = images.get(sizeMiB)!;
    const size = expected.size;
    const auth = t.kind === 'polyprov';
    progress(`${t.name}, ${sizeMiB} MiB${settings.repeat > 1 ? ` (round ${roundNo}/${settings.repeat})` : ''}: ${t.description}…`);
    const server = await t.start(sizeMiB);
    try {
      // Phones (MACs) 1…5 in the warm-up, 1…N measured; the warm-up's first download is hashed.
      const [warmPhones] = dealPhones(Math.min(WARM_CLIENTS, settings.clients), 1);
      const warm = await downloadConcurrently({
        clients: 1,
        outDir,
        tag: 'warm',
        timeoutMs: (settings.timeoutSeconds + 5) * 1000,
        expected,
        toFile: 1,
        hash: 1,
        command: (out) => curlDownloads(server.port, sizeMiB, warmPhones!.phones, warmPhones!.inFlight, out, auth, settings.timeoutSeconds),
        judge: (r) => judgeCurl(r, warmPhones!.phones.length, size),
      });
      // The blob cache loads an image in the background on its first request: let it finish.
      await new Promise((r) => setTimeout(r, 250));
      // Every row moves the bytes of the largest image's row: the phones download a smaller image
      // again and again, always --clients at once, so rows differ in the image's size only, not
      // in how long the server works (its RSS creeps up with time under load, see USAGE).
      const times = timesFor(sizeMiB);
      const dealt = dealPhones(settings.clients, settings.curlProcesses, times);
      let next = 0;
      const memory = watchTreeMemory(server.pid, RSS_SAMPLE_MS);
      const r = await downloadConcurrently({
        clients: dealt.length,
        outDir,
        tag: 'big',
        timeoutMs: (settings.timeoutSeconds * times + 5) * 1000,
        expected,
        toFile: 0,
        hash: 0,
        command: () => {
          const d = dealt[next++]!;
          return curlDownloads(server.port, sizeMiB, d.phones, d.inFlight, '/dev/null', auth, settings.timeoutSeconds);
        },
        server: { pid: server.pid },
      });
      const mem = memory.stop();
      const m: Measurement = {
        wallMs: r.wallMs,
        clientRates: r.results.flatMap((x) => curlReports(x).map((c) => mibPerSecond(size, c.seconds * 1000))).filter(Number.isFinite),
        spawnSpreadMs: Math.max(...r.results.map((x) => x.startedAt)) - Math.min(...r.results.map((x) => x.startedAt)),
        serverCpuSeconds: r.serverCpuSeconds,
        clientCpuSeconds: r.clientCpuSeconds,
        otherCpuSeconds: r.otherCpuSeconds,
        memory: mem,
        failures: [
          ...warm.failures.map((f) => `warm-up ${f}`),
          ...r.failures,
          // Processes that exited well: each of their downloads must be right (results are in spawn order).
          ...r.results.flatMap((x, i) => {
            const wrong = x.code === 0 && !x.timedOut ? judgeCurl(x, dealt[i]!.phones.length, size) : undefined;
            return wrong ? [`curl process ${i + 1}: ${wrong}`] : [];
          }),
        ],
      };
      const list = measurements.get(key(t, sizeMiB)) ?? [];
      list.push(m);
      measurements.set(key(t, sizeMiB), list);
      progress(
        `  ${settings.clients} × ${sizeMiB} MiB${times > 1 ? ` × ${times}` : ''}: ${fmt(mibPerSecond(size * settings.clients * times, r.wallMs), 0)} MiB/s aggregate in ${fmt(r.wallMs / 1000, 2)} s` +
          ` (${dealt.length} curl process${dealt.length > 1 ? 'es' : ''} started within ${fmt(m.spawnSpreadMs, 0)} ms), per-client median ${fmt(median(m.clientRates), 1)} MiB/s` +
          (mem
            ? `, RSS ${fmt(mem.startBytes / MiB, 0)} → peak ${fmt(mem.peakBytes / MiB, 0)} MiB (HWM ${fmt(mem.hwmBytes / MiB, 0)} MiB` +
              (mem.processes > 1 ? `; ${mem.processes} processes, each one's peak ${mem.peakByProcessBytes.map((b) => fmt(b / MiB, 0)).join(' + ')} MiB` : '') +
              ')'
            : '') +
          `, ${m.failures.length} error(s)${m.failures.length ? `: ${m.failures[0]}` : ''}`,
      );
    } finally {
      serverWarnings.get(t)!.push(...server.warnings);
      await server.stop();
    }
  };

  // Rounds interleave the targets and sizes, so that a slow spell of the machine does not land on
  // one row only; every row has a fresh server, so no row's peak is another's.
  for (let n = 1; n <= settings.repeat; n++) for (const t of targets) for (const s of settings.sizes) await measureRow(t, s, n);

  // Figures.
  const rows: Row[] = [];
  for (const t of targets) {
    for (const sizeMiB of settings.sizes) {
      const ms = measurements.get(key(t, sizeMiB)) ?? [];
      const size = images.get(sizeMiB)!.expected.size;
      const times = timesFor(sizeMiB);
      const bytes = size * settings.clients * times * ms.length;
      const rates = ms.map((m) => (m.failures.length ? NaN : mibPerSecond(size * settings.clients * times, m.wallMs)));
      const known = (k: 'serverCpuSeconds' | 'clientCpuSeconds' | 'otherCpuSeconds') => (ms.every((m) => m[k] !== undefined) ? sum(ms.map((m) => m[k]!)) : undefined);
      const serverCpu = known('serverCpuSeconds');
      const clientCpu = known('clientCpuSeconds');
      const otherCpu = known('otherCpuSeconds');
      const wall = sum(ms.map((m) => m.wallMs)) / 1000;
      const mems = ms.map((m) => m.memory).filter((m): m is MemoryFigures => m !== undefined);
      const failures = ms.flatMap((m) => m.failures);
      rows.push({
        target: t.name,
        kind: t.kind,
        ...(t.workers !== undefined ? { workers: t.workers } : {}),
        ...(t.blobCacheMb !== undefined ? { blobCacheMb: t.blobCacheMb } : {}),
        sizeMiB,
        clients: settings.clients,
        mibPerSecond: round(median(rates.filter(Number.isFinite)), 0),
        roundsMibPerSecond: rates.map((r) => round(r, 0)),
        perClientMedianMibPerSecond: round(median(ms.flatMap((m) => m.clientRates)), 1),
        ...(serverCpu !== undefined && bytes > 0 ? { serverCpuSecondsPerGiB: round(serverCpu / (bytes / (1024 * MiB)), 2) } : {}),
        ...(clientCpu !== undefined && wall > 0 ? { clientCpuPercent: round((clientCpu / wall) * 100, 0) } : {}),
        ...(otherCpu !== undefined && wall > 0 ? { otherCpuPercent: round((otherCpu / wall) * 100, 0) } : {}),
        ...(mems.length === ms.length && mems.length > 0
          ? {
              rssBeforeMiB: toMiB(median(mems.map((m) => m.startBytes))),
              peakRssMiB: toMiB(median(mems.map((m) => m.peakBytes))),
              maxPeakRssMiB: toMiB(Math.max(...mems.map((m) => m.peakBytes))),
              peakHwmMiB: toMiB(median(mems.map((m) => m.hwmBytes))),
            }
          : {}),
        roundsPeakRssMiB: mems.map((m) => toMiB(m.peakBytes)),
        roundsPeakRssByProcessMiB: mems.map((m) => m.peakByProcessBytes.map(toMiB)),
        downloadsPerPhone: times,
        downloads: settings.clients * times * ms.length,
        errors: failures.length,
        errorSamples: [...new Set(failures)].slice(0, 5),
      });
    }
  }
  for (const r of rows) {
    if (r.kind !== 'polyprov') continue;
    const base = rows.find((b) => b.kind === 'baseline' && b.sizeMiB === r.sizeMiB)!;
    r.ofBaseline = round(r.mibPerSecond / base.mibPerSecond, 3);
  }

  const flatness: Flatness[] = [];
  if (smallest !== largest) {
    for (const t of targets) {
      if (t.kind !== 'polyprov') continue;
      const from = rows.find((r) => r.target === t.name && r.sizeMiB === smallest)!;
      const to = rows.find((r) => r.target === t.name && r.sizeMiB === largest)!;
      if (from.peakRssMiB === undefined || to.peakRssMiB === undefined) continue;
      const growth = round(to.peakRssMiB - from.peakRssMiB, 1);
      flatness.push({
        target: t.name,
        blobCacheMb: t.blobCacheMb!,
        judged: t.flat,
        fromMiB: smallest,
        toMiB: largest,
        peakRssFromMiB: from.peakRssMiB,
        peakRssToMiB: to.peakRssMiB,
        growthMiB: growth,
        hwmGrowthMiB: round(to.peakHwmMiB! - from.peakHwmMiB!, 1),
        limitMiB: RSS_GROWTH_LIMIT_MIB,
        // A row with failed downloads proves nothing about its memory.
        ...(t.flat ? { pass: growth < RSS_GROWTH_LIMIT_MIB && from.errors === 0 && to.errors === 0 } : {}),
      });
    }
  }
  const judged = flatness.filter((f) => f.judged);
  const rssPass = judged.every((f) => f.pass);
  const errors = sum(rows.map((r) => r.errors));
  const summary = {
    settings: {
      sizesMiB: settings.sizes,
      imageBytes: Object.fromEntries(settings.sizes.map((s) => [s, images.get(s)!.expected.size])),
      sha256: Object.fromEntries(settings.sizes.map((s) => [s, images.get(s)!.expected.sha256])),
      path: '/firmware/<version>/' + IMAGE,
      clients: settings.clients,
      client: `curl 7.88, ${Math.min(settings.curlProcesses, settings.clients)} process(es) in parallel mode (one connection per download), output /dev/null`,
      curlProcesses: Math.min(settings.curlProcesses, settings.clients),
      baselineReadBytes: settings.baselineReadKiB * 1024,
      workers: settings.workers,
      repeat: settings.repeat,
      timeoutSeconds: settings.timeoutSeconds,
      rssSampleMs: RSS_SAMPLE_MS,
      cpus: availableParallelism(),
      node: process.version,
    },
    rows,
    rssFlatness: {
      rule: `peak RSS of each polyprov row with --blob-cache-mb 0 grows by less than ${RSS_GROWTH_LIMIT_MIB} MiB from ${smallest} to ${largest} MiB`,
      judged: judged.length > 0,
      pass: judged.length > 0 ? rssPass : null,
      rows: flatness,
    },
    serverWarnings: Object.fromEntries(targets.map((t) => [t.name, [...new Set(serverWarnings.get(t))].slice(0, 5)])),
    failed: errors > 0,
    durationSeconds: round((performance.now() - BENCH_START) / 1000, 1),
    setupSeconds: round(setupSeconds, 1),
  };
  const status = errors ? 1 : judged.length > 0 && !rssPass ? 2 : 0;

  if (settings.json) {
    process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
    return status;
  }
  const out = [
    'polyprov firmware download benchmark (HTTP)',
    `  ${settings.clients} concurrent downloads of a whole image (${settings.sizes.map((s) => `${s} MiB`).join(', ')} of random bytes) to /dev/null, each checked for HTTP 200 and its size; a warm-up download per row compared by sha256`,
    ...(settings.sizes.some((x) => timesFor(x) > 1)
      ? [`  every row moves ${settings.clients} × ${largest} MiB: with a smaller image (×K) each phone downloads it K times in a row, ${settings.clients} downloads always in flight`]
      : []),
    `  clients: ${Math.min(settings.curlProcesses, settings.clients)} curl process(es) in parallel mode, one connection and one phone User-Agent per download`,
    `  polyprov serves /firmware/<version>/${IMAGE} from its firmware library, with HTTP Basic; node:http serves the same file from disk, no auth`,
    `  targets measured one after another, a fresh server per row${settings.repeat > 1 ? `, ${settings.repeat} rounds interleaved` : ''}; ${availableParallelism()} CPUs shared by the clients and the server; Node ${process.version}`,
    '',
  ];
  const cells = rows.map((r) => [
    r.target,
    `${r.sizeMiB} MiB${r.downloadsPerPhone > 1 ? ` ×${r.downloadsPerPhone}` : ''}`,
    `${fmt(r.mibPerSecond, 0)} MiB/s`,
    r.kind === 'baseline' ? '100%' : Number.isFinite(r.ofBaseline) ? `${fmt(r.ofBaseline! * 100, 0)}%` : '- (errors)',
    `${fmt(r.perClientMedianMibPerSecond, 1)} MiB/s`,
    r.serverCpuSecondsPerGiB === undefined ? '-' : `${fmt(r.serverCpuSecondsPerGiB, 2)} s/GiB`,
    r.clientCpuPercent === undefined ? '-' : `${fmt(r.clientCpuPercent)}%`,
    r.rssBeforeMiB === undefined ? '-' : `${fmt(r.rssBeforeMiB, 0)} MiB`,
    r.peakRssMiB === undefined ? '-' : `${fmt(r.peakRssMiB, 0)} MiB`,
    r.peakHwmMiB === undefined ? '-' : `${fmt(r.peakHwmMiB, 0)} MiB`,
    String(r.errors),
  ]);
  out.push(...table(['target', 'image', 'aggregate', 'vs node:http', 'per client p50', 'server CPU', 'client CPU', 'RSS before', 'peak RSS', 'peak HWM', 'errors'], cells, 2));
  out.push(
    '',
    '  aggregate: all downloads\' bytes over the wall time (first curl process started to last one exited); per client: median of each download\'s own MiB/s (curl\'s time_total)',
    '  server CPU: CPU seconds of the server\'s processes per GiB sent; client CPU: the curl processes over the wall time, % of one core',
    `  RSS: sum of VmRSS of the server's processes (cluster primary and workers); before: when the measured downloads start; peak: highest of the samples every ${RSS_SAMPLE_MS} ms; HWM: sum of the processes' VmHWM at the end (their peaks since start); medians of the rounds`,
  );
  for (const t of targets) out.push(`  ${t.name}: ${t.description}`);
  if (settings.repeat > 1) {
    out.push('  each round (aggregate MiB/s; peak RSS MiB):');
    for (const r of rows) {
      const each = r.roundsPeakRssByProcessMiB.some((ps) => ps.length > 1) ? ` (by process: ${r.roundsPeakRssByProcessMiB.map((ps) => ps.map((x) => fmt(x, 0)).join('+')).join(', ')})` : '';
      out.push(`    ${r.target}, ${r.sizeMiB} MiB: ${r.roundsMibPerSecond.map((x) => fmt(x, 0)).join(', ')}; ${r.roundsPeakRssMiB.map((x) => fmt(x, 0)).join(', ')}${each}`);
    }
  }
  const busy = rows.filter((r) => (r.otherCpuPercent ?? 0) > OTHER_LOAD_WARNING_PERCENT);
  if (busy.length) {
    out.push(
      `  WARNING: other processes used more than ${OTHER_LOAD_WARNING_PERCENT}% of a core during ${busy.map((r) => `${r.target} ${r.sizeMiB} MiB (${fmt(r.otherCpuPercent)}%)`).join(', ')}: those throughput figures are unreliable; run again on a quiet machine`,
    );
  }
  for (const r of rows) for (const e of r.errorSamples) out.push(`  error (${r.target}, ${r.sizeMiB} MiB): ${e}`);
  for (const [name, ws] of Object.entries(summary.serverWarnings)) for (const w of ws) out.push(`  server warning (${name}): ${w}`);
  out.push('');
  for (const r of rows.filter((x) => x.kind === 'polyprov' && x.sizeMiB === largest)) {
    const base = rows.find((b) => b.kind === 'baseline' && b.sizeMiB === largest)!;
    out.push(`throughput (reported, no target), ${settings.clients} × ${largest} MiB: ${r.target} ${fmt(r.mibPerSecond, 0)} MiB/s vs node:http ${fmt(base.mibPerSecond, 0)} MiB/s = ${fmt(r.ofBaseline! * 100, 0)}%`);
  }
  for (const f of flatness) {
    const line = `${f.peakRssFromMiB.toFixed(0)} → ${f.peakRssToMiB.toFixed(0)} MiB (${f.growthMiB >= 0 ? '+' : ''}${f.growthMiB.toFixed(1)} MiB; HWM ${f.hwmGrowthMiB >= 0 ? '+' : ''}${f.hwmGrowthMiB.toFixed(1)} MiB)`;
    if (f.judged) {
      out.push(`target "peak RSS grows by less than ${f.limitMiB} MiB from ${f.fromMiB} to ${f.toMiB} MiB", ${f.target} (--blob-cache-mb 0): ${line} → ${f.pass ? 'PASS' : 'FAIL'}`);
    } else {
      out.push(`peak RSS from ${f.fromMiB} to ${f.toMiB} MiB (not judged), ${f.target} (--blob-cache-mb ${f.blobCacheMb}): ${line}: the cache holds each image once per worker, by design`);
    }
  }
  if (!flatness.length) out.push(`RSS flatness not judged: it needs two --sizes (got ${settings.sizes.join(',')})`);
  if (errors) out.push(`${errors} error(s): a download failed or its bytes differed → the bench fails`);
  out.push(`whole bench: ${fmt(summary.durationSeconds, 1)} s (setup ${fmt(summary.setupSeconds, 1)} s)`, '');
  process.stdout.write(out.join('\n'));
  return status;
}

runBench(main);
