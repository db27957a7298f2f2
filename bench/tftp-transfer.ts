import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { atftpGet, negotiatedOptions, type TftpOptions } from './atftp-client.js';
import { int, workerCounts, readSettings } from './bench-args.js';
import { BENCH_START, progress } from './bench-progress.js';
import { startTftpHpa } from './baseline-tftpd.js';
import { setUpTenant, startPolyprov } from './polyprov-transfer-server.js';
import { flushToDisk, runBench, type Server } from './processes.js';
import { OTHER_LOAD_WARNING_PERCENT } from './report.js';
import { makeTransferFiles } from './transfer-files.js';
import { downloadConcurrently, type ConcurrentResult } from './transfer-clients.js';
import { FAST_TEMP, fmt, intList, median, MiB, mibPerSecond, round, sum, table } from './transfer-report.js';

// npm run bench:tftp [-- --clients 1,20 --workers 1,2 --repeat 3 …]
//
// How fast does polyprov hand a phone its firmware over TFTP, beside tftp-hpa, the classic server,
// measured in the same run with the same client? See USAGE.

const WINDOW_FACTOR = 4;

const CASES: (TftpOptions & { label: string })[] = [
  { label: 'blksize 512', blksize: 512 },
  { label: 'blksize 1468', blksize: 1468 },
  { label: 'blksize 1468 windowsize 16', blksize: 1468, windowsize: 16 },
];

const USAGE = `usage: npm run bench:tftp -- [options]

TFTP download benchmark: a file of random bytes (64 MiB, made once per run) is
downloaded on loopback by atftp at blksize 512, at blksize 1468, and at blksize
1468 with windowsize 16 (RFC 7440), by 1 client and by 20 clients at once (each
the whole file). Targets, measured in the same run with the same client:
  tftp-hpa        in.tftpd --foreground --address 127.0.0.1:PORT --secure
                  --blocksize 65464 (Debian tftpd-hpa; one process per
                  transfer). It does not implement windowsize: it leaves it
                  out of its OACK, so its windowsize row is lock-step.
  polyprov -w N   polyprov serve --workers N, TFTP only (HTTP, HTTPS, FTP and
                  FTPS off); the tenant is chosen by the client's subnet
                  (127.0.0.0/8), the file is a stored file of its tree

Client: atftp 0.8 for both servers and every row. It is the only client here
that negotiates windowsize, so one client serves every row; lock-step, it is as
fast as curl's tftp:// and a little cheaper (64 MiB from in.tftpd, 3 runs
each: blksize 512 in 2.1 s either way, CPU 0.83 s vs curl's 0.95 s; blksize
1468 in 0.75 s, 0.30 s vs 0.32 s), which leaves more of a 2-core machine to
the server. The table shows its CPU: below 100% of a core per client, it is
not what limits a row. Which options each server acknowledged is read from an
atftp --trace of a small file and printed. Before each measured row, one
warm-up download of a 4 MiB file with the same options; the files are flushed
to disk (sync) after setup.

Run time with the defaults on 2 cores: 2 to 2.5 minutes per round (the
20-client blksize 512 rows take half of it), so 6.5 to 8 minutes with
--repeat 3; --repeat 1 or --clients 1 for a quicker look.

Every download is written to a tmpfs (${FAST_TEMP}, else the temp folder) and
must have the file's size; one per row (the first client's) is compared by
sha256. A client still running after --timeout is killed and counted as an
error.

Targets checked (printed with PASS/FAIL):
  polyprov ≥ tftp-hpa at the same options (each row)
  polyprov windowsize 16 ≥ ${WINDOW_FACTOR} × tftp-hpa's best row, at the same number
  of clients (per-row aggregate MiB/s)

options:
  --size-mib N      size of the file (default 64)
  --clients LIST    concurrent clients, one set of rows each (default 1,20)
  --workers LIST    polyprov worker counts, one row each (default 1,2)
  --repeat R        measure every target R times, interleaved, each time on a
                    fresh server, and report the median MiB/s (default 3)
  --timeout S       time limit of one download, seconds (default 300)
  --json            print the figures as JSON instead of a table
  --help            this text

Progress goes to stderr, results to stdout. Exit status: 0 when every download
succeeded and was byte-exact, whether or not the targets were reached (a
missed target is reported as FAIL, not an error); 1 when a download failed,
was wrong or timed out, or the bench could not run.`;

interface Settings {
  sizeMiB: number;
  clients: number[];
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
      clients: { type: 'string', default: '1,20' },
      workers: { type: 'string', default: '1,2' },
      repeat: { type: 'string', default: '3' },
      timeout: { type: 'string', default: '300' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return 'help';
  return {
    sizeMiB: int('size-mib', values['size-mib'], 1, 1024),
    clients: intList('clients', values.clients, 1, 100),
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
  start: () => Promise<Server>;
  /** Sample the server's CPU this often: in.tftpd forks a process per transfer and does not wait for it (see watchTreeCpu). */
  cpuSampleMs?: number;
}

/** One row of one round. */
type Measurement = ConcurrentResult;

interface Row {
  case: string;
  blksize: number;
  windowsize?: number;
  clients: number;
  target: string;
  kind: 'baseline' | 'polyprov';
  workers?: number;
  /** What the server acknowledged in its OACK (from the trace probe of the first round). */
  negotiated: Record<string, string>;
  lockStep: boolean;
  /** Aggregate: all clients' bytes over the wall time of the row; median over the rounds without errors (NaN: none). */
  mibPerSecond: number;
  roundsMibPerSecond: number[];
  /** Median of every client's own MiB/s, all rounds pooled. */
  perClientMedianMibPerSecond: number;
  serverCpuSecondsPerGiB?: number;
  /** CPU of the atftp processes during the row, % of one core. */
  clientCpuPercent?: number;
  /** CPU of other processes on the machine during the row (not the bench's), % of one core. */
  otherCpuPercent?: number;
  downloads: number;
  hashed: number;
  errors: number;
  errorSamples: string[];
  /** Against tftp-hpa at the same options and clients; polyprov rows only. */
  ofBaseline?: number;
  pass?: boolean;
}

const rowKey = (caseIndex: number, clients: number) => `${caseIndex}/${clients}`;

async function main(): Promise<number> {
  const settings = readSettings(parseSettings, USAGE);
  if (typeof settings === 'number') return settings;
  const timeoutMs = settings.timeoutSeconds * 1000;

  // The same files for both servers: in.tftpd serves `tree`, polyprov a copy in its blob store.
  const { work, outDir, tree, expected } = makeTransferFiles('tftp', settings.sizeMiB);
  const size = expected.size;
  writeFileSync(join(tree, 'probe.bin'), randomBytes(8 * 1024));
  const dataDir = join(work, 'data');
  progress('setting up the polyprov tenant (polyprov tenant add, file add)…');
  await setUpTenant(dataDir, { 'big.bin': join(tree, 'big.bin'), 'warm.bin': join(tree, 'warm.bin'), 'probe.bin': join(tree, 'probe.bin') });
  await flushToDisk();
  const setupSeconds = (performance.now() - BENCH_START) / 1000;

  const targets: Target[] = [
    {
      name: 'tftp-hpa',
      kind: 'baseline',
      description: 'in.tftpd (tftp-hpa) --foreground --secure --blocksize 65464: one process per transfer, no windowsize',
      start: () => startTftpHpa(tree),
      cpuSampleMs: 50,
    },
    ...settings.workers.map(
      (w): Target => ({
        name: `polyprov -w ${w}`,
        kind: 'polyprov',
        workers: w,
        description: `polyprov serve --workers ${w}${w > 1 ? ` (cluster primary + ${w} workers sharing the port)` : ''}, TFTP only, SQLite store, tenant by subnet`,
        start: () => startPolyprov('tftp', dataDir, w),
      }),
    ),
  ];

  const measurements = new Map<Target, Map<string, Measurement[]>>(targets.map((t) => [t, new Map()]));
  const negotiated = new Map<Target, Record<string, string>[]>();
  const serverWarnings = new Map<Target, string[]>(targets.map((t) => [t, []]));

  const measureTarget = async (t: Target, roundNo: number) => {
    progress(`${t.name}${settings.repeat > 1 ? ` (round ${roundNo}/${settings.repeat})` : ''}: ${t.description}…`);
    const server = await t.start();
    progress(`  listening on port ${server.port}`);
    try {
      if (!negotiated.has(t)) {
        const seen: Record<string, string>[] = [];
        for (const c of CASES) seen.push(await negotiatedOptions(server.port, 'probe.bin', c, 30_000));
        negotiated.set(t, seen);
        progress(`  options acknowledged: ${CASES.map((c, i) => `${c.label} → ${describeOack(seen[i]!)}`).join('; ')}`);
      }
      for (let ci = 0; ci < CASES.length; ci++) {
        const c = CASES[ci]!;
        for (const clients of settings.clients) {
          const warm = await downloadConcurrently({
            clients: 1,
            outDir,
            tag: 'warm',
            timeoutMs,
            expected: { size: 4 * MiB, sha256: '' },
            toFile: 1,
            hash: 0,
            command: (out) => atftpGet(server.port, 'warm.bin', out, c),
          });
          const r = await downloadConcurrently({
            clients,
            outDir,
            tag: 'big',
            timeoutMs,
            expected,
            toFile: clients,
            hash: 1,
            command: (out) => atftpGet(server.port, 'big.bin', out, c),
            server: { pid: server.pid, sampleEveryMs: t.cpuSampleMs },
          });
          const m: Measurement = { ...r, failures: [...warm.failures.map((f) => `warm-up ${f}`), ...r.failures] };
          const list = measurements.get(t)!.get(rowKey(ci, clients)) ?? [];
          list.push(m);
          measurements.get(t)!.set(rowKey(ci, clients), list);
          const clientRates = r.clientMs.map((ms) => mibPerSecond(size, ms));
          progress(
            `  ${c.label}, ${clients} client${clients > 1 ? 's' : ''}: ${fmt(mibPerSecond(size * clients, r.wallMs), 1)} MiB/s` +
              (clients > 1 ? ` aggregate, per-client median ${fmt(median(clientRates), 1)} MiB/s` : '') +
              ` in ${fmt(r.wallMs / 1000, 1)} s, ${m.failures.length} error(s)${m.failures.length ? `: ${m.failures[0]}` : ''}`,
          );
        }
      }
    } finally {
      serverWarnings.get(t)!.push(...server.warnings);
      await server.stop();
    }
  };

  // Rounds interleave the targets, so that a slow spell of the machine does not land on one only.
  for (let n = 1; n <= settings.repeat; n++) for (const t of targets) await measureTarget(t, n);

  // Figures.
  const rows: Row[] = [];
  for (let ci = 0; ci < CASES.length; ci++) {
    const c = CASES[ci]!;
    for (const clients of settings.clients) {
      for (const t of targets) {
        const ms = measurements.get(t)!.get(rowKey(ci, clients)) ?? [];
        // A round with a failed download has no figure (NaN): its time says nothing.
        const rates = ms.map((m) => (m.failures.length ? NaN : mibPerSecond(size * clients, m.wallMs)));
        const bytes = size * clients * ms.length;
        const serverCpu = ms.every((m) => m.serverCpuSeconds !== undefined) ? sum(ms.map((m) => m.serverCpuSeconds!)) : undefined;
        const clientCpu = ms.every((m) => m.clientCpuSeconds !== undefined) ? sum(ms.map((m) => m.clientCpuSeconds!)) : undefined;
        const otherCpu = ms.every((m) => m.otherCpuSeconds !== undefined) ? sum(ms.map((m) => m.otherCpuSeconds!)) : undefined;
        const wall = sum(ms.map((m) => m.wallMs)) / 1000;
        const oack = negotiated.get(t)?.[ci] ?? {};
        const failures = ms.flatMap((m) => m.failures);
        rows.push({
          case: c.label,
          blksize: c.blksize,
          ...(c.windowsize ? { windowsize: c.windowsize } : {}),
          clients,
          target: t.name,
          kind: t.kind,
          ...(t.workers !== undefined ? { workers: t.workers } : {}),
          negotiated: oack,
          lockStep: Number(oack.windowsize ?? 1) <= 1,
          mibPerSecond: round(median(rates.filter(Number.isFinite)), 1),
          roundsMibPerSecond: rates.map((r) => round(r, 1)),
          perClientMedianMibPerSecond: round(median(ms.flatMap((m) => m.clientMs.map((x) => mibPerSecond(size, x)))), 1),
          ...(serverCpu !== undefined ? { serverCpuSecondsPerGiB: round(serverCpu / (bytes / (1024 * MiB)), 2) } : {}),
          ...(clientCpu !== undefined && wall > 0 ? { clientCpuPercent: round((clientCpu / wall) * 100, 0) } : {}),
          ...(otherCpu !== undefined && wall > 0 ? { otherCpuPercent: round((otherCpu / wall) * 100, 0) } : {}),
          downloads: clients * ms.length,
          hashed: sum(ms.map((m) => m.hashed)),
          errors: failures.length,
          errorSamples: [...new Set(failures)].slice(0, 5),
        });
      }
    }
  }
  for (const r of rows) {
    if (r.kind !== 'polyprov') continue;
    const base = rows.find((b) => b.kind === 'baseline' && b.case === r.case && b.clients === r.clients)!;
    r.ofBaseline = round(r.mibPerSecond / base.mibPerSecond, 3);
    r.pass = r.ofBaseline >= 1;
  }
  const windowed = CASES.find((c) => c.windowsize)!.label;
  const windowVerdicts = settings.clients.flatMap((clients) => {
    const best = rows.filter((r) => r.kind === 'baseline' && r.clients === clients).reduce((a, b) => (b.mibPerSecond > a.mibPerSecond || !Number.isFinite(a.mibPerSecond) ? b : a));
    return rows
      .filter((r) => r.kind === 'polyprov' && r.clients === clients && r.case === windowed)
      .map((r) => ({
        target: r.target,
        clients,
        mibPerSecond: r.mibPerSecond,
        baselineBest: best.mibPerSecond,
        baselineBestCase: best.case,
        required: round(best.mibPerSecond * WINDOW_FACTOR, 1),
        pass: r.mibPerSecond >= best.mibPerSecond * WINDOW_FACTOR, // false when either has no figure
      }));
  });
  const errors = sum(rows.map((r) => r.errors));
  const summary = {
    settings: {
      fileBytes: size,
      sha256: expected.sha256,
      cases: CASES.map((c) => c.label),
      clients: settings.clients,
      workers: settings.workers,
      repeat: settings.repeat,
      timeoutSeconds: settings.timeoutSeconds,
      client: 'atftp 0.8',
      cpus: availableParallelism(),
      node: process.version,
    },
    rows,
    targets: {
      sameOptions: { rule: 'polyprov ≥ tftp-hpa at the same options', pass: rows.filter((r) => r.kind === 'polyprov').every((r) => r.pass) },
      windowsize: { rule: `polyprov ${windowed} ≥ ${WINDOW_FACTOR} × tftp-hpa's best row (same number of clients)`, verdicts: windowVerdicts },
    },
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
    'polyprov TFTP download benchmark',
    `  a ${settings.sizeMiB} MiB file of random bytes (sha256 ${expected.sha256.slice(0, 16)}…) downloaded on loopback by atftp 0.8, by ${settings.clients.join(' and by ')} client(s) at once (each the whole file)`,
    `  every download written to a tmpfs and checked by size, the first client's of each row by sha256; warm-up: one 4 MiB download per row`,
    `  targets measured one after another${settings.repeat > 1 ? `, ${settings.repeat} rounds interleaved, fresh servers each round` : ''}; ${availableParallelism()} CPUs shared by the clients and the server; Node ${process.version}`,
    '',
  ];
  const cells = rows.map((r) => {
    const note = r.windowsize && r.lockStep ? ' (lock-step: windowsize not acknowledged)' : '';
    return [
      r.case,
      String(r.clients),
      r.target + note,
      fmt(r.mibPerSecond, 1),
      r.clients > 1 ? fmt(r.perClientMedianMibPerSecond, 1) : '',
      r.serverCpuSecondsPerGiB === undefined ? '-' : fmt(r.serverCpuSecondsPerGiB, 2),
      r.clientCpuPercent === undefined ? '-' : `${fmt(r.clientCpuPercent)}%`,
      String(r.errors),
      r.kind === 'baseline' ? '100%' : Number.isFinite(r.ofBaseline) ? `${fmt(r.ofBaseline! * 100, 0)}% ${r.pass ? 'PASS' : 'FAIL'}` : '- (errors)',
    ];
  });
  out.push(...table(['case', 'clients', 'target', 'MiB/s', 'per-client p50', 'server CPU s/GiB', 'atftp CPU', 'errors', 'vs tftp-hpa (≥100%)'], cells, 3));
  out.push(
    '',
    '  MiB/s: all clients\' bytes over the wall time of the row (spawn of the first atftp to exit of the last)' + (settings.repeat > 1 ? `, median of ${settings.repeat} rounds` : ''),
    '  per-client p50: median of each client\'s own MiB/s (spawn to exit), all rounds pooled',
    '  server CPU s/GiB: CPU time of the server\'s processes (forked transfer processes and cluster workers included) per GiB sent',
    '  atftp CPU: CPU of the atftp processes over the wall time of the row, % of one core',
    '  server CPU of tftp-hpa is sampled every 50 ms (its transfer processes are not waited for): a little low',
  );
  for (const t of targets) out.push(`  ${t.name}: ${t.description}; acknowledged ${CASES.map((c, i) => `${c.label} → ${describeOack(negotiated.get(t)?.[i] ?? {})}`).join(', ')}`);
  if (settings.repeat > 1) {
    out.push('  MiB/s of each round:');
    for (const r of rows) out.push(`    ${r.case}, ${r.clients} client(s), ${r.target}: ${r.roundsMibPerSecond.map((x) => fmt(x, 1)).join(', ')}`);
  }
  const busy = rows.filter((r) => (r.otherCpuPercent ?? 0) > OTHER_LOAD_WARNING_PERCENT);
  if (busy.length) {
    out.push(
      `  WARNING: other processes used more than ${OTHER_LOAD_WARNING_PERCENT}% of a core during ${busy.length} row(s) (${busy.map((r) => `${r.case} ×${r.clients} ${r.target} ${fmt(r.otherCpuPercent)}%`).join(', ')}): those figures are unreliable; run again on a quiet machine`,
    );
  }
  for (const r of rows) for (const e of r.errorSamples) out.push(`  error (${r.case}, ${r.clients} client(s), ${r.target}): ${e}`);
  for (const [name, ws] of Object.entries(summary.serverWarnings)) for (const w of ws) out.push(`  server warning (${name}): ${w}`);
  out.push('');
  const polyRows = rows.filter((r) => r.kind === 'polyprov');
  out.push(
    `target "polyprov ≥ tftp-hpa at the same options": ${polyRows.filter((r) => r.pass).length} of ${polyRows.length} polyprov rows → ${summary.targets.sameOptions.pass ? 'PASS' : 'FAIL'}` +
      (summary.targets.sameOptions.pass ? '' : ` (below: ${polyRows.filter((r) => !r.pass).map((r) => `${r.target} ${r.case} ×${r.clients} ${fmt(r.ofBaseline! * 100, 0)}%`).join(', ')})`),
  );
  for (const v of windowVerdicts) {
    out.push(
      `target "polyprov ${windowed} ≥ ${WINDOW_FACTOR} × tftp-hpa's best row", ${v.clients} client(s), ${v.target}: ${fmt(v.mibPerSecond, 1)} MiB/s vs ${WINDOW_FACTOR} × ${fmt(v.baselineBest, 1)} (tftp-hpa ${v.baselineBestCase}) = ${fmt(v.required, 1)} → ${v.pass ? 'PASS' : 'FAIL'}`,
    );
  }
  if (errors) out.push(`${errors} download(s) failed or differed → the bench fails`);
  out.push(`whole bench: ${fmt(summary.durationSeconds, 1)} s (setup ${fmt(summary.setupSeconds, 1)} s)`, '');
  process.stdout.write(out.join('\n'));
  return errors ? 1 : 0;
}

function describeOack(o: Record<string, string>): string {
  const parts = Object.entries(o).map(([k, v]) => `${k} ${v}`);
  return parts.length ? parts.join(' ') : 'no OACK';
}

runBench(main);
