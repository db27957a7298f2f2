import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { configPath, MASTER_PATH, runLoad, type Fetched, type LoadResult } from './load-generator.js';
import { cpuBetween, httpListeningPort, machineBusyCpu, registerTempDir, runBench, startServer, treeCpu, type Server } from './processes.js';
import { figuresOf, renderTable, type RoundResult, type Summary, type TargetFigures } from './report.js';
import { PASSWORD, setupTenant, USERNAME } from './setup-tenant.js';
import { int, workerCounts, readSettings } from './bench-args.js';
import { BENCH_START, progress, serverEnv } from './bench-progress.js';

// npm run bench [-- --devices 2000 --concurrency 64 --seconds 20 …]
//
// How fast does polyprov hand phones their configuration, compared with the cheapest server that
// could send the same bytes? See USAGE below for what is measured and how.

const REQUIRED_OF_BASELINE = 0.5;
const DEFAULT_WARMUP = 8000;
const MAX_WARMUP_PHONES = 1000;
/** Recording what polyprov serves (before any measurement) must finish within this. */
const RECORDING_LIMIT_MS = 180_000;

const USAGE = `usage: npm run bench -- [options]

Config-fetch benchmark: N registered phones each fetch 000000000000.cfg and then
<mac>-polyprov.cfg, one new TCP connection per request (as phones do), with a
phone User-Agent and preemptive HTTP Basic credentials (real phones answer a 401
challenge first; sending credentials up front measures the serving path, not
that extra round trip). Targets, measured one after another on loopback:
  baseline        bare node:http server in one process, serving from a Map the
                  exact bytes polyprov served (no auth, no lookups)
  polyprov -w N   polyprov serve --workers N (HTTP only), for each N of --workers
Each target gets a warm-up pass first, from other registered phones.

options:
  --devices N       measured phones (default 2000)
  --concurrency N   requests in flight (default 64)
  --seconds S       time limit per target for the measurement (and again for
                    the warm-up); phones not started by then are skipped
                    (default 20)
  --warmup N        warm-up requests per target (default ${DEFAULT_WARMUP}), from up to
                    ${MAX_WARMUP_PHONES} other phones fetching again and again (a fresh
                    node process needs several thousand requests before the
                    JIT has settled)
  --warm-cache      warm up with the measured phones themselves (at least one
                    pass), so polyprov has rendered every configuration before
                    measurement (default: each measured configuration is
                    rendered on its first fetch, as on a fleet's first poll
                    after a start)
  --workers LIST    polyprov worker counts, one row each (default 1,2)
  --repeat R        measure every target R times, interleaved, each time on a
                    fresh server, and report the median req/s (default 3;
                    more on a noisy machine)
  --cpu-prof-dir D  run polyprov with node --cpu-prof, profiles written to D
                    (profiling slows it down: figures are then not comparable)
  --json            print the figures as JSON instead of a table
  --help            this text

Progress goes to stderr, results to stdout. Exit status: 0 when every request
succeeded and polyprov --workers 1 (or the first --workers) reached ≥ ${REQUIRED_OF_BASELINE * 100}%
of the baseline's requests/s; 1 when a request failed or the bench could not
run; 2 when only the throughput target was missed.`;

interface Settings {
  devices: number;
  concurrency: number;
  seconds: number;
  warmup: number;
  warmCache: boolean;
  workers: number[];
  repeat: number;
  cpuProfDir: string | undefined;
  json: boolean;
}


function parseSettings(argv: string[]): Settings | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      devices: { type: 'string', default: '2000' },
      concurrency: { type: 'string', default: '64' },
      seconds: { type: 'string', default: '20' },
      warmup: { type: 'string', default: String(DEFAULT_WARMUP) },
      'warm-cache': { type: 'boolean', default: false },
      workers: { type: 'string', default: '1,2' },
      repeat: { type: 'string', default: '3' },
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
    devices: int('devices', values.devices, 1, 100_000),
    concurrency: int('concurrency', values.concurrency, 1, 1024),
    seconds: int('seconds', values.seconds, 1, 600),
    warmup: int('warmup', values.warmup, 0, 100_000),
    warmCache: values['warm-cache'],
    workers,
    repeat: int('repeat', values.repeat, 1, 10),
    cpuProfDir: values['cpu-prof-dir'] ? resolve(values['cpu-prof-dir']) : undefined,
    json: values.json,
  };
}


function startPolyprov(dataDir: string, workers: number, cpuProfDir: string | undefined): Promise<Server> {
  return startServer({
    name: `polyprov --workers ${workers}`,
    args: [
      ...(cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', cpuProfDir] : []),
      '--import',
      'tsx',
      'src/cli/main.ts',
      'serve',
      '--data',
      dataDir,
      '--host',
      '127.0.0.1',
      '--http-port',
      '0',
      '--https-port',
      '0',
      '--no-https',
      '--no-admin',
      '--workers',
      String(workers),
      '--log-level',
      'warn',
    ],
    env: serverEnv(),
    // With one worker the JSON "listening" line (at log level info) or the banner says it is ready;
    // with several, only the banner, which the primary prints once every worker listens.
    readyWhen: (line) => httpListeningPort(line, workers === 1),
  });
}

function startBaseline(responsesFile: string): Promise<Server> {
  return startServer({
    name: 'baseline',
    args: ['--import', 'tsx', 'bench/baseline-server.ts', responsesFile],
    env: serverEnv(),
    readyWhen: (line) => httpListeningPort(line, true),
  });
}

interface Target {
  name: string;
  description: string;
  kind: 'baseline' | 'polyprov';
  workers?: number;
  start: () => Promise<Server>;
}

async function main(): Promise<number> {
  const began = BENCH_START;
  const settings = readSettings(parseSettings, USAGE);
  if (typeof settings === 'number') return settings;

  const work = mkdtempSync(join(tmpdir(), 'polyprov-bench-'));
  registerTempDir(work);
  const dataDir = join(work, 'data');
  if (settings.cpuProfDir) mkdirSync(settings.cpuProfDir, { recursive: true });

  const warmupPhones = settings.warmCache ? 0 : Math.min(MAX_WARMUP_PHONES, Math.ceil(settings.warmup / 2));
  progress(`setting up ${settings.devices} devices${warmupPhones ? ` (+${warmupPhones} for warm-up)` : ''} in ${work}…`);
  const { macs, warmupMacs } = await setupTenant(dataDir, settings.devices, warmupPhones, (done, total) => progress(`  ${done}/${total} devices`));
  const setupSeconds = (performance.now() - began) / 1000;
  const authorization = 'Basic ' + Buffer.from(`${USERNAME}:${PASSWORD}`).toString('base64');

  // 1. What polyprov serves, fetched once per path (from a server started only for this, so that
  //    no measured polyprov starts with these renders cached).
  progress('fetching every file once from polyprov, for the baseline…');
  const served = new Map<string, Fetched>();
  {
    const server = await startPolyprov(dataDir, 1, undefined);
    progress(`  listening on port ${server.port}`);
    let r: LoadResult;
    try {
      r = await runLoad({
        port: server.port,
        macs: [...macs, ...warmupMacs],
        concurrency: settings.concurrency,
        authorization,
        collect: served,
        deadline: performance.now() + RECORDING_LIMIT_MS,
      });
    } finally {
      await server.stop();
    }
    if (r.failures || r.cutShort) {
      progress(
        r.failures
          ? `polyprov failed ${r.failures} of ${r.requests} requests while recording: ${r.failureSamples.join('; ')}`
          : `polyprov did not serve every file within ${RECORDING_LIMIT_MS / 1000} s while recording: giving up`,
      );
      return 1;
    }
  }
  const responsesFile = join(work, 'baseline-responses.json');
  const stored: Record<string, { headers: Record<string, string>; body: string }> = {};
  for (const [path, f] of served) stored[path] = { headers: f.headers, body: f.body.toString('base64') };
  writeFileSync(responsesFile, JSON.stringify(stored));
  const expected = new Map<string, Buffer>([...served].map(([p, f]) => [p, f.body]));
  const configBytes = macs.reduce((n, m) => n + (served.get(configPath(m))?.body.length ?? 0), 0) / macs.length;

  // 2. The targets, one after another.
  const targets: Target[] = [
    {
      name: 'baseline',
      description: 'bare node:http server, 1 process, the same bytes from a Map (no auth, no lookups)',
      kind: 'baseline',
      start: () => startBaseline(responsesFile),
    },
    ...settings.workers.map((w) => ({
      name: `polyprov -w ${w}`,
      description:
        w === 1
          ? 'polyprov serve --workers 1: one process, SQLite store, HTTP only'
          : `polyprov serve --workers ${w}: cluster primary + ${w} worker processes sharing the port, SQLite store, HTTP only`,
      kind: 'polyprov' as const,
      workers: w,
      start: () => startPolyprov(dataDir, w, settings.cpuProfDir),
    })),
  ];
  // The warm-up phones fetch round after round until --warmup requests are made; with
  // --warm-cache, every measured phone fetches at least once.
  const warmupSource = settings.warmCache ? macs : warmupMacs;
  const warmupRounds = settings.warmCache ? Math.max(macs.length, Math.ceil(settings.warmup / 2)) : warmupSource.length ? Math.ceil(settings.warmup / 2) : 0;
  const warmupMacList = Array.from({ length: warmupRounds }, (_, i) => warmupSource[i % warmupSource.length]!);
  const measure = async (t: Target, roundNo: number): Promise<RoundResult> => {
    progress(`measuring ${t.name}${settings.repeat > 1 ? ` (round ${roundNo}/${settings.repeat})` : ''}: ${t.description}…`);
    const server = await t.start();
    progress(`  listening on port ${server.port}`);
    try {
      const warm = await runLoad({
        port: server.port,
        macs: warmupMacList,
        concurrency: settings.concurrency,
        authorization,
        expected,
        deadline: performance.now() + settings.seconds * 1000,
      });
      progress(`  warm-up: ${warm.requests} requests in ${(warm.elapsedMs / 1000).toFixed(1)} s${warm.cutShort ? ' (cut short by --seconds)' : ''}; measuring…`);
      const cpu0 = treeCpu(server.pid);
      const machine0 = machineBusyCpu();
      const own0 = process.cpuUsage();
      const load = await runLoad({
        port: server.port,
        macs,
        concurrency: settings.concurrency,
        authorization,
        expected,
        deadline: performance.now() + settings.seconds * 1000,
      });
      const own = process.cpuUsage(own0);
      const machine1 = machineBusyCpu();
      const serverCpu = cpuBetween(cpu0, treeCpu(server.pid));
      progress(`  ${load.requests} requests in ${(load.elapsedMs / 1000).toFixed(1)} s: ${((load.requests / load.elapsedMs) * 1000).toFixed(0)} req/s, ${load.failures + warm.failures} error(s)`);
      return {
        load,
        warmupErrors: warm.failures,
        warmupErrorSamples: warm.failureSamples,
        serverCpuSeconds: serverCpu,
        loadGeneratorCpuSeconds: (own.user + own.system) / 1e6,
        machineCpuSeconds: machine0 !== undefined && machine1 !== undefined ? machine1 - machine0 : undefined,
        serverWarnings: server.warnings,
      };
    } finally {
      await server.stop();
    }
  };
  // Rounds interleave the targets (baseline, polyprov…, baseline, polyprov…), so that a slow
  // spell of the machine does not land on one target only.
  const rounds = new Map<Target, RoundResult[]>(targets.map((t) => [t, []]));
  for (let n = 1; n <= settings.repeat; n++) {
    for (const t of targets) rounds.get(t)!.push(await measure(t, n));
  }
  const figures: TargetFigures[] = targets.map((t) => figuresOf({ name: t.name, description: t.description, kind: t.kind, workers: t.workers }, rounds.get(t)!));

  // 3. Verdict and report.
  const baseline = figures.find((f) => f.kind === 'baseline')!;
  for (const f of figures) {
    if (f.kind !== 'polyprov') continue;
    f.ofBaseline = baseline.requestsPerSecond > 0 ? Number((f.requestsPerSecond / baseline.requestsPerSecond).toFixed(4)) : 0;
    f.pass = f.ofBaseline >= REQUIRED_OF_BASELINE;
  }
  const judged = figures.find((f) => f.kind === 'polyprov' && f.workers === 1) ?? figures.find((f) => f.kind === 'polyprov');
  const failed = figures.some((f) => f.errors + f.warmupErrors > 0);
  const summary: Summary = {
    settings: {
      devices: settings.devices,
      requestsPerTarget: settings.devices * 2,
      concurrency: settings.concurrency,
      secondsLimit: settings.seconds,
      warmupRequests: warmupMacList.length * 2,
      warmCache: settings.warmCache,
      workers: settings.workers,
      repeat: settings.repeat,
      cpuProfiling: settings.cpuProfDir !== undefined,
      masterBytes: served.get(MASTER_PATH)?.body.length ?? 0,
      meanConfigBytes: Math.round(configBytes),
      cpus: availableParallelism(),
      node: process.version,
    },
    targets: figures,
    verdict: judged
      ? {
          required: REQUIRED_OF_BASELINE,
          judgedOn: `${judged.name} (${judged.workers === 1 ? 'one process, like the baseline' : 'first polyprov row'})`,
          ofBaseline: judged.ofBaseline!,
          pass: judged.pass!,
        }
      : null,
    failed,
    durationSeconds: Number(((performance.now() - began) / 1000).toFixed(1)),
    setupSeconds: Number(setupSeconds.toFixed(1)),
  };

  if (settings.json) {
    process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
  } else {
    const header = [
      'polyprov config-fetch benchmark',
      `  ${settings.devices} phones, each GET /000000000000.cfg (${summary.settings.masterBytes} B) then GET /<mac>-polyprov.cfg (${summary.settings.meanConfigBytes} B on average): ${settings.devices * 2} requests per target${settings.repeat > 1 ? ' and round' : ''}`,
      `  one new TCP connection per request (Connection: close), ${settings.concurrency} in flight, phone User-Agent, preemptive HTTP Basic, loopback`,
      settings.warmCache
        ? `  warm-up: ${warmupMacList.length * 2} requests from the measured phones, so polyprov serves every configuration from its render cache`
        : `  warm-up: ${warmupMacList.length * 2} requests from ${warmupMacs.length} other phones; polyprov renders each measured configuration on its first fetch`,
      `  targets measured one after another${settings.repeat > 1 ? `, ${settings.repeat} rounds` : ''}, limit ${settings.seconds} s each; ${availableParallelism()} CPUs shared by the load generator and the server; Node ${process.version}`,
    ];
    if (settings.cpuProfDir) header.push(`  polyprov ran under --cpu-prof (profiles in ${settings.cpuProfDir}): its figures are slowed down by profiling`);
    process.stdout.write(renderTable(summary, header));
  }
  if (failed) return 1;
  return summary.verdict && !summary.verdict.pass ? 2 : 0;
}

runBench(main);
