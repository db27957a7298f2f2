import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { int, workerCounts, readSettings } from './bench-args.js';
import { BENCH_START, progress } from './bench-progress.js';
import { startVsftpd, VSFTPD_PASSWORD, VSFTPD_USER } from './baseline-vsftpd.js';
import { appendChunks, curlRetr, curlRetrToFile, curlTransfers, judgeCurl, retrieve, type FtpLogin } from './ftp-clients.js';
import { passivePortRange } from './free-port.js';
import { FTP_USER, PASSWORD, setUpTenant, startPolyprov } from './polyprov-transfer-server.js';
import { flushToDisk, machineBusyCpu, runBench, watchTreeCpu, type Server } from './processes.js';
import { OTHER_LOAD_WARNING_PERCENT } from './report.js';
import { makeTransferFiles } from './transfer-files.js';
import { downloadConcurrently, verify, type ConcurrentResult } from './transfer-clients.js';
import { FAST_TEMP, fmt, median, MiB, mibPerSecond, percentile, round, sum, table } from './transfer-report.js';

// npm run bench:ftp [-- --clients 1,20 --appends 1000 --workers 1,2 --repeat 3 …]
//
// How fast does polyprov serve a phone's firmware over FTP, and take its log appends, beside
// vsftpd measured in the same run with the same clients? See USAGE.

const RETR_REQUIRED = 0.8;
const PASSIVE_PORTS = 200;
const OP_TIMEOUT_MS = 15_000;

const USAGE = `usage: npm run bench:ftp -- [options]

FTP benchmark, on loopback, three measurements per target and round:
  RETR ×1     one curl downloads a file of random bytes (64 MiB, made once
              per run) --retr-count times in a row in one session; MiB/s of
              the median transfer, by curl's own timing of it (EPSV, data
              connection, RETR, the bytes, 226; the login in the first)
  RETR ×N     N curl processes at once (--clients), each the whole file;
              aggregate MiB/s from the moment the first client's data began
              to flow (by curl's timing) to the last curl's exit, and the
              median client's MiB/s
  curl 7.88 now and then (a few transfers in a hundred) waits one second of
  its own before it opens a passive data connection, against either server
  (seen with --trace-time): the median transfer of RETR ×1 and the data-flow
  window of RETR ×N leave that wait out.
  APPE        one basic-ftp session appends --appends chunks of --append-bytes
              (default 1000 × 1 KiB), one APPE per chunk over a new passive
              data connection, in order; polyprov to logs/<mac>-app.log (a
              phone log: each append is fsynced and committed before 226),
              vsftpd to a file in its root (no fsync). Then the file is read
              back over RETR and must be exactly the chunks in order.
Targets, measured in the same run:
  vsftpd          vsftpd in the foreground on 127.0.0.1, anonymous login with
                  upload and append allowed (config in bench/baseline-vsftpd.ts;
                  one process per session, sendfile)
  polyprov -w N   polyprov serve --workers N, FTP only (HTTP, HTTPS, TFTP and
                  implicit FTPS off), a tenant's user name and password

Clients: curl for RETR (both servers), basic-ftp for APPE (both servers).
Downloads being measured go to /dev/null and are checked by the byte count
and final reply (226) curl reports; each round also downloads the file once
(unmeasured) into a tmpfs (${FAST_TEMP}, else the temp folder) and compares
its sha256.
Before measuring, each server gets a 4 MiB RETR and 20 APPEs of warm-up, and
the check download above; the files are flushed to disk (sync) after setup.

Target checked (printed with PASS/FAIL): polyprov RETR ×1 ≥ ${RETR_REQUIRED * 100}% of vsftpd's
MiB/s, on each polyprov row. RETR ×N and APPE have no target: their figures
are printed beside vsftpd's.

options:
  --size-mib N       size of the file (default 64)
  --retr-count K     downloads in a row for RETR ×1 (default 30: vsftpd sends
                     64 MiB in under 20 ms, so fewer make too short a sample)
  --clients N        concurrent downloads for RETR ×N; 0 skips it (default 20)
  --appends N        APPEs per round (default 1000)
  --append-bytes B   bytes per APPE (default 1024)
  --workers LIST     polyprov worker counts, one row each (default 1,2)
  --repeat R         measure every target R times, interleaved, each time on a
                     fresh server, and report the median (default 3)
  --timeout S        time limit of one curl process (all its transfers) and of
                     the APPE loop, seconds (default 120)
  --json             print the figures as JSON instead of a table
  --help             this text

Run time with the defaults on 2 cores: about 6 minutes, 4.5 of them polyprov's
APPEs; --repeat 1 or --appends 200 for a quicker look.

Progress goes to stderr, results to stdout. Exit status: 0 when every transfer
succeeded and every byte was right, whether or not the target was reached (a
missed target is reported as FAIL, not an error); 1 when a transfer failed,
was wrong or timed out, or the bench could not run.`;

interface Settings {
  sizeMiB: number;
  retrCount: number;
  clients: number;
  appends: number;
  appendBytes: number;
  workers: number[];
  repeat: number;
  timeoutSeconds: number;
  json: boolean;
}

function parseSettings(argv: string[]): Settings | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      'size-mib': { type: 'string', default: '64' },
      'retr-count': { type: 'string', default: '30' },
      clients: { type: 'string', default: '20' },
      appends: { type: 'string', default: '1000' },
      'append-bytes': { type: 'string', default: '1024' },
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
    sizeMiB: int('size-mib', values['size-mib'], 1, 1024),
    retrCount: int('retr-count', values['retr-count'], 1, 100),
    clients: int('clients', values.clients, 0, 100),
    appends: int('appends', values.appends, 1, 100_000),
    appendBytes: int('append-bytes', values['append-bytes'], 16, 1024 * 1024),
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
  description: string;
  /** A fresh server; passive data ports from `passive`. */
  start: (passive: { min: number; max: number }) => Promise<Server>;
  login: (port: number) => FtpLogin;
  /** Where APPE writes in round n (a fresh file each round: the server keeps its data folder). */
  appendPath: (round: number) => string;
  warmAppendPath: string;
  /** Sample the server's CPU this often (see watchTreeCpu); vsftpd waits for its session processes, so their CPU is counted without. */
  cpuSampleMs?: number;
}

type Test = 'retr1' | 'retrN' | 'appe';

/** One measurement of one test in one round. */
interface Sample {
  /** MiB/s for RETR, APPEs per second for APPE; NaN when something failed (its time says nothing). */
  value: number;
  /** RETR ×N: each client's MiB/s; APPE: each APPE's milliseconds. */
  each: number[];
  /** MiB (RETR) or APPEs done, for CPU per unit. */
  units: number;
  /** Wall time the CPU figures were taken over. */
  seconds: number;
  serverCpuSeconds: number | undefined;
  clientCpuSeconds: number | undefined;
  otherCpuSeconds: number | undefined;
  failures: string[];
}

interface Row {
  test: Test;
  label: string;
  target: string;
  kind: 'baseline' | 'polyprov';
  workers?: number;
  unit: 'MiB/s' | 'APPE/s';
  /** Median over the rounds. */
  value: number;
  rounds: number[];
  /** RETR ×N: median of every client's MiB/s; APPE: median APPE latency in ms. Rounds pooled. */
  p50?: number;
  /** APPE: 99th percentile latency in ms. */
  p99?: number;
  /** Server CPU seconds per GiB sent (RETR) or CPU milliseconds per APPE. */
  serverCpu?: number;
  /** Client CPU over the wall time, % of one core (curl processes, or basic-ftp in this process). */
  clientCpuPercent?: number;
  otherCpuPercent?: number;
  errors: number;
  errorSamples: string[];
  ofBaseline?: number;
  pass?: boolean;
}

/** A phone log per polyprov round and row: 0004f2000001, 0004f2000002… */
const logMac = (i: number) => `0004f2${(i + 1).toString(16).padStart(6, '0')}`;
const WARM_MAC = '0004f20fffff';

/** APPE chunks: text lines numbered in order, so a reordering or a lost chunk shows. */
function makeChunks(count: number, bytes: number): Buffer[] {
  const filler = randomBytes(bytes).toString('base64');
  return Array.from({ length: count }, (_, i) => {
    const head = `${String(i + 1).padStart(7, '0')} polyprov bench APPE `;
    return Buffer.from((head + filler).slice(0, bytes - 1) + '\n', 'latin1');
  });
}

async function main(): Promise<number> {
  const settings = readSettings(parseSettings, USAGE);
  if (typeof settings === 'number') return settings;
  const timeoutMs = settings.timeoutSeconds * 1000;

  // The same files for both servers: vsftpd serves `root`, polyprov a copy in its blob store.
  const { work, outDir, tree: root, expected } = makeTransferFiles('ftp', settings.sizeMiB);
  const size = expected.size;
  const chunks = makeChunks(settings.appends, settings.appendBytes);
  const appended = Buffer.concat(chunks);
  const warmChunks = makeChunks(20, settings.appendBytes);

  const dataDir = join(work, 'data');
  const macCount = settings.repeat * settings.workers.length;
  progress(`setting up the polyprov tenant (polyprov tenant add, file add, ${macCount + 1} devices)…`);
  await setUpTenant(dataDir, { 'big.bin': join(root, 'big.bin'), 'warm.bin': join(root, 'warm.bin') }, [...Array.from({ length: macCount }, (_, i) => logMac(i)), WARM_MAC]);
  await flushToDisk();
  const setupSeconds = (performance.now() - BENCH_START) / 1000;

  const targets: Target[] = [
    {
      name: 'vsftpd',
      kind: 'baseline',
      description: 'vsftpd, anonymous login, one process per session, sendfile; APPE to a plain file (no fsync)',
      start: (passive) => startVsftpd(root, work, passive),
      login: (port) => ({ port, user: VSFTPD_USER, password: VSFTPD_PASSWORD }),
      appendPath: (n) => `app-${n}.log`,
      warmAppendPath: 'warm.log',
    },
    ...settings.workers.map(
      (w, wi): Target => ({
        name: `polyprov -w ${w}`,
        kind: 'polyprov',
        workers: w,
        description: `polyprov serve --workers ${w}${w > 1 ? ` (cluster primary + ${w} workers)` : ''}, FTP only, SQLite store; APPE to a phone log (fsync + commit per APPE)`,
        start: (passive) => startPolyprov('ftp', dataDir, w, ['--ftp-passive-ports', `${passive.min}-${passive.max}`]),
        login: (port) => ({ port, user: FTP_USER, password: PASSWORD }),
        appendPath: (n) => `logs/${logMac((n - 1) * settings.workers.length + wi)}-app.log`,
        warmAppendPath: `logs/${WARM_MAC}-app.log`,
      }),
    ),
  ];

  const samples = new Map<Target, Record<Test, Sample[]>>(targets.map((t) => [t, { retr1: [], retrN: [], appe: [] }]));
  const serverWarnings = new Map<Target, string[]>(targets.map((t) => [t, []]));

  const fromConcurrent = (r: ConcurrentResult, value: number, units: number, seconds: number, each: number[]): Sample => ({
    value,
    each,
    units,
    seconds,
    serverCpuSeconds: r.serverCpuSeconds,
    clientCpuSeconds: r.clientCpuSeconds,
    otherCpuSeconds: r.otherCpuSeconds,
    failures: r.failures,
  });

  const measureTarget = async (t: Target, roundNo: number) => {
    progress(`${t.name}${settings.repeat > 1 ? ` (round ${roundNo}/${settings.repeat})` : ''}: ${t.description}…`);
    const server = await t.start(passivePortRange(PASSIVE_PORTS));
    progress(`  listening on port ${server.port}`);
    const login = t.login(server.port);
    const record = (test: Test, sample: Sample) => samples.get(t)![test].push(sample);
    try {
      // Warm-up: a small RETR and a few APPEs.
      const warmFailures: string[] = [];
      const warmRetr = await downloadConcurrently({
        clients: 1,
        outDir,
        tag: 'warm',
        timeoutMs,
        expected: { size: 4 * MiB, sha256: '' },
        toFile: 0,
        hash: 0,
        command: (out) => curlRetr(login, 'warm.bin', [out], settings.timeoutSeconds),
        judge: (r) => judgeCurl(r.stdout, 1, 4 * MiB),
      });
      warmFailures.push(...warmRetr.failures.map((f) => `warm-up RETR ${f}`));
      const warmAppe = await appendChunks(login, t.warmAppendPath, warmChunks, performance.now() + timeoutMs, OP_TIMEOUT_MS);
      if (warmAppe.error) warmFailures.push(`warm-up ${warmAppe.error}`);

      // The byte check of this round: one download into a file, before the measured ones (it
      // also brings the file into the page cache, for vsftpd's sendfile).
      const copy = join(outDir, 'check.out');
      const fetchFailure = (await curlRetrToFile(login, 'big.bin', copy, settings.timeoutSeconds)) ?? (await verify(copy, expected, true));
      await rm(copy, { force: true });

      // RETR ×1: K downloads in a row, one curl session.
      const k = settings.retrCount;
      const r1 = await downloadConcurrently({
        clients: 1,
        outDir,
        tag: 'retr',
        timeoutMs,
        expected,
        toFile: 0,
        hash: 0,
        command: () => curlRetr(login, 'big.bin', Array.from({ length: k }, () => '/dev/null'), settings.timeoutSeconds),
        judge: (r) => judgeCurl(r.stdout, k, size),
        server: { pid: server.pid, sampleEveryMs: t.cpuSampleMs },
      });
      // The median transfer: curl's occasional one-second wait before a data connection (see
      // CurlTransfer) hits either server at random and says nothing about it.
      const transfers = curlTransfers(r1.results[0]?.stdout ?? '');
      const r1Rate = r1.failures.length ? NaN : mibPerSecond(size, median(transfers.map((x) => x.seconds)) * 1000);
      record('retr1', fromConcurrent({ ...r1, failures: [...warmFailures, ...r1.failures, ...(fetchFailure ? [`sha256 check download: ${fetchFailure}`] : [])] }, r1Rate, (size * k) / MiB, r1.wallMs / 1000, transfers.map((x) => mibPerSecond(size, x.seconds * 1000))));
      progress(`  RETR ×1: ${k} × ${settings.sizeMiB} MiB, median ${fmt(r1Rate, 1)} MiB/s (curl's timing), ${r1.failures.length + warmFailures.length + (fetchFailure ? 1 : 0)} error(s)${fetchFailure ? `: ${fetchFailure}` : ''}`);

      // RETR ×N: N curl processes at once.
      if (settings.clients > 0) {
        const n = settings.clients;
        const rn = await downloadConcurrently({
          clients: n,
          outDir,
          tag: 'retrN',
          timeoutMs,
          expected,
          toFile: 0,
          hash: 0,
          command: (out) => curlRetr(login, 'big.bin', [out], settings.timeoutSeconds),
          judge: (r) => judgeCurl(r.stdout, 1, size),
          server: { pid: server.pid, sampleEveryMs: t.cpuSampleMs },
        });
        const reports = rn.results.map((r) => curlTransfers(r.stdout)[0]);
        const each = reports.map((x) => mibPerSecond(size, (x?.seconds ?? NaN) * 1000));
        // From the moment the first client's data began to flow (its exit minus curl's time
        // after pretransfer) to the last exit: starting N processes, and curl's own occasional
        // one-second wait before a data connection, would otherwise weigh more than the
        // transfers of a sendfile server.
        const flowMs = reports.map((x) => ((x?.seconds ?? NaN) - (x?.pretransferSeconds ?? NaN)) * 1000);
        const windowMs = Math.max(...rn.results.map((r) => r.endedAt)) - Math.min(...rn.results.map((r, i) => r.endedAt - (Number.isFinite(flowMs[i]) ? flowMs[i]! : r.elapsedMs)));
        const rate = rn.failures.length ? NaN : mibPerSecond(size * n, windowMs);
        record('retrN', fromConcurrent(rn, rate, (size * n) / MiB, rn.wallMs / 1000, each));
        progress(`  RETR ×${n}: ${fmt(rate, 1)} MiB/s aggregate, per-client median ${fmt(median(each), 1)} MiB/s, ${rn.failures.length} error(s)${rn.failures.length ? `: ${rn.failures[0]}` : ''}`);
      }

      // APPE: one session, one chunk per APPE, then read back.
      const path = t.appendPath(roundNo);
      const watch = watchTreeCpu(server.pid, t.cpuSampleMs);
      const machine0 = machineBusyCpu();
      const own0 = process.cpuUsage();
      const run = await appendChunks(login, path, chunks, performance.now() + timeoutMs, OP_TIMEOUT_MS);
      const own = process.cpuUsage(own0);
      const serverCpu = await watch.stop();
      const machine1 = machineBusyCpu();
      const ownCpu = (own.user + own.system) / 1e6;
      const failures: string[] = [];
      if (run.error) failures.push(run.error);
      if (run.cutShort) failures.push(`only ${run.appended} of ${chunks.length} APPEs within --timeout ${settings.timeoutSeconds} s`);
      const stored = await retrieve(login, path, OP_TIMEOUT_MS, appended.length * 2).catch((err: Error) => err);
      if (stored instanceof Error) failures.push(`reading ${path} back: ${stored.message}`);
      else if (!stored.equals(appended)) failures.push(`${path} read back: ${stored.length} bytes, expected ${appended.length}, ${firstDifference(stored, appended)}`);
      const appeRate = run.elapsedMs > 0 ? (run.appended / run.elapsedMs) * 1000 : 0;
      record('appe', {
        value: failures.length ? NaN : appeRate,
        each: run.latenciesMs,
        units: run.appended,
        seconds: run.elapsedMs / 1000,
        serverCpuSeconds: serverCpu,
        clientCpuSeconds: ownCpu,
        otherCpuSeconds: machine0 !== undefined && machine1 !== undefined && serverCpu !== undefined ? Math.max(0, machine1 - machine0 - serverCpu - ownCpu) : undefined,
        failures,
      });
      progress(`  APPE: ${run.appended} × ${settings.appendBytes} B at ${fmt(appeRate, 0)} APPE/s, p50 ${fmt(median(run.latenciesMs), 2)} ms, ${failures.length} error(s)${failures.length ? `: ${failures[0]}` : ''}`);
    } finally {
      serverWarnings.get(t)!.push(...server.warnings);
      await server.stop();
    }
  };

  // Rounds interleave the targets, so that a slow spell of the machine does not land on one only.
  for (let n = 1; n <= settings.repeat; n++) for (const t of targets) await measureTarget(t, n);

  // Figures.
  const tests: { test: Test; label: string; unit: Row['unit'] }[] = [
    { test: 'retr1', label: `RETR ×1 (${settings.retrCount} in a row)`, unit: 'MiB/s' },
    ...(settings.clients > 0 ? [{ test: 'retrN' as const, label: `RETR ×${settings.clients} at once`, unit: 'MiB/s' as const }] : []),
    { test: 'appe', label: `APPE ${settings.appends} × ${settings.appendBytes} B`, unit: 'APPE/s' },
  ];
  const rows: Row[] = [];
  for (const { test, label, unit } of tests) {
    for (const t of targets) {
      const ss = samples.get(t)![test];
      const values = ss.map((x) => x.value);
      const seconds = sum(ss.map((x) => x.seconds));
      const units = sum(ss.map((x) => x.units));
      const known = (k: 'serverCpuSeconds' | 'clientCpuSeconds' | 'otherCpuSeconds') => (ss.every((x) => x[k] !== undefined) ? sum(ss.map((x) => x[k]!)) : undefined);
      const serverCpu = known('serverCpuSeconds');
      const clientCpu = known('clientCpuSeconds');
      const otherCpu = known('otherCpuSeconds');
      const each = ss.flatMap((x) => x.each);
      const failures = ss.flatMap((x) => x.failures);
      rows.push({
        test,
        label,
        target: t.name,
        kind: t.kind,
        ...(t.workers !== undefined ? { workers: t.workers } : {}),
        unit,
        value: round(median(values.filter(Number.isFinite)), unit === 'MiB/s' ? 1 : 0),
        rounds: values.map((v) => round(v, unit === 'MiB/s' ? 1 : 0)),
        ...(test === 'retrN' ? { p50: round(median(each), 1) } : {}),
        ...(test === 'appe' ? { p50: round(median(each), 2), p99: round(percentile(each, 99), 2) } : {}),
        ...(serverCpu !== undefined && units > 0 ? { serverCpu: round(test === 'appe' ? (serverCpu / units) * 1000 : serverCpu / (units / 1024), 2) } : {}),
        ...(clientCpu !== undefined && seconds > 0 ? { clientCpuPercent: round((clientCpu / seconds) * 100, 0) } : {}),
        ...(otherCpu !== undefined && seconds > 0 ? { otherCpuPercent: round((otherCpu / seconds) * 100, 0) } : {}),
        errors: failures.length,
        errorSamples: [...new Set(failures)].slice(0, 5),
      });
    }
  }
  for (const r of rows) {
    if (r.kind !== 'polyprov') continue;
    const base = rows.find((b) => b.kind === 'baseline' && b.test === r.test)!;
    r.ofBaseline = round(r.value / base.value, 3);
    if (r.test === 'retr1') r.pass = r.ofBaseline >= RETR_REQUIRED;
  }
  const judged = rows.filter((r) => r.test === 'retr1' && r.kind === 'polyprov');
  const errors = sum(rows.map((r) => r.errors));
  const summary = {
    settings: {
      fileBytes: size,
      sha256: expected.sha256,
      retrCount: settings.retrCount,
      clients: settings.clients,
      appends: settings.appends,
      appendBytes: settings.appendBytes,
      workers: settings.workers,
      repeat: settings.repeat,
      timeoutSeconds: settings.timeoutSeconds,
      clientsUsed: { retr: 'curl', appe: 'basic-ftp' },
      cpus: availableParallelism(),
      node: process.version,
    },
    rows,
    target: { rule: `polyprov RETR ×1 ≥ ${RETR_REQUIRED * 100}% of vsftpd's`, pass: judged.every((r) => r.pass) },
    serverWarnings: Object.fromEntries(targets.map((t) => [t.name, [...new Set(serverWarnings.get(t))].slice(0, 5)])),
    failed: errors > 0,
    durationSeconds: round((performance.now() - BENCH_START) / 1000, 1),
    setupSeconds: round(setupSeconds, 1),
  };

  if (settings.json) {
    process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
    return errors ? 1 : 0;
  }
  const out = [
    'polyprov FTP benchmark',
    `  RETR of a ${settings.sizeMiB} MiB file of random bytes (sha256 ${expected.sha256.slice(0, 16)}…) by curl; APPE of ${settings.appends} × ${settings.appendBytes} B in one basic-ftp session, read back and compared`,
    `  targets measured one after another${settings.repeat > 1 ? `, ${settings.repeat} rounds interleaved, fresh servers each round` : ''}; ${availableParallelism()} CPUs shared by the clients and the server; Node ${process.version}`,
    '',
  ];
  const cells = rows.map((r) => [
    r.label,
    r.target,
    `${fmt(r.value, r.unit === 'MiB/s' ? 1 : 0)} ${r.unit}`,
    r.p50 === undefined ? '' : r.test === 'appe' ? `${fmt(r.p50, 2)} / ${fmt(r.p99, 2)} ms` : `${fmt(r.p50, 1)} MiB/s`,
    r.serverCpu === undefined ? '-' : r.test === 'appe' ? `${fmt(r.serverCpu, 2)} ms/APPE` : `${fmt(r.serverCpu, 2)} s/GiB`,
    r.clientCpuPercent === undefined ? '-' : `${fmt(r.clientCpuPercent)}%`,
    String(r.errors),
    r.kind === 'baseline' ? '100%' : Number.isFinite(r.ofBaseline) ? `${fmt(r.ofBaseline! * 100, 0)}%${r.pass === undefined ? '' : r.pass ? ' PASS' : ' FAIL'}` : '- (errors)',
  ]);
  out.push(...table(['test', 'target', 'rate', 'per client / APPE p50 / p99', 'server CPU', 'client CPU', 'errors', `vs vsftpd (RETR ×1 ≥ ${RETR_REQUIRED * 100}%)`], cells, 2));
  out.push(
    '',
    `  RETR ×1: ${settings.retrCount} downloads in one curl session; MiB/s of the median transfer by curl's time_total (EPSV, data connection, RETR, bytes, 226)`,
    ...(settings.clients > 0
      ? [`  RETR ×${settings.clients}: all clients' bytes from the moment the first client's data began to flow (curl's time_total − time_pretransfer) to the exit of the last curl; per client: median of each curl's own MiB/s`]
      : []),
    '  APPE: APPEs acknowledged (226) per second in one session; p50 / p99: latency of one APPE (PASV/EPSV, data connection, APPE, 226)',
    '  server CPU: the server\'s processes (vsftpd\'s session processes and polyprov\'s cluster workers included)',
    '  client CPU: curl processes (RETR) or this process running basic-ftp (APPE), over the wall time, % of one core',
  );
  for (const t of targets) out.push(`  ${t.name}: ${t.description}`);
  if (settings.repeat > 1) {
    out.push('  each round:');
    for (const r of rows) out.push(`    ${r.label}, ${r.target}: ${r.rounds.map((x) => fmt(x, r.unit === 'MiB/s' ? 1 : 0)).join(', ')} ${r.unit}`);
  }
  const busy = rows.filter((r) => (r.otherCpuPercent ?? 0) > OTHER_LOAD_WARNING_PERCENT);
  if (busy.length) {
    out.push(
      `  WARNING: other processes used more than ${OTHER_LOAD_WARNING_PERCENT}% of a core during ${busy.map((r) => `${r.label} ${r.target} (${fmt(r.otherCpuPercent)}%)`).join(', ')}: those figures are unreliable; run again on a quiet machine`,
    );
  }
  for (const r of rows) for (const e of r.errorSamples) out.push(`  error (${r.label}, ${r.target}): ${e}`);
  for (const [name, ws] of Object.entries(summary.serverWarnings)) for (const w of ws) out.push(`  server warning (${name}): ${w}`);
  out.push('');
  const base1 = rows.find((r) => r.test === 'retr1' && r.kind === 'baseline')!;
  for (const r of judged) {
    out.push(`target "polyprov RETR ×1 ≥ ${RETR_REQUIRED * 100}% of vsftpd's", ${r.target}: ${fmt(r.value, 1)} vs ${fmt(base1.value, 1)} MiB/s = ${fmt(r.ofBaseline! * 100, 0)}% → ${r.pass ? 'PASS' : 'FAIL'}`);
  }
  const baseAppe = rows.find((r) => r.test === 'appe' && r.kind === 'baseline')!;
  for (const r of rows.filter((x) => x.test === 'appe' && x.kind === 'polyprov')) {
    out.push(`APPE (no target): ${r.target} ${fmt(r.value, 0)} APPE/s beside vsftpd ${fmt(baseAppe.value, 0)} APPE/s (polyprov fsyncs and commits each append before 226; vsftpd does not fsync)`);
  }
  if (errors) out.push(`${errors} error(s): a transfer failed or its bytes differed → the bench fails`);
  out.push(`whole bench: ${fmt(summary.durationSeconds, 1)} s (setup ${fmt(summary.setupSeconds, 1)} s)`, '');
  process.stdout.write(out.join('\n'));
  return errors ? 1 : 0;
}

function firstDifference(a: Buffer, b: Buffer): string {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return `first difference at byte ${i}`;
  return a.length === b.length ? 'identical' : `one is a prefix of the other`;
}

runBench(main);
