import { percentile, type LoadResult } from './load-generator.js';

// Figures of one measured target, and their presentation as a table or JSON.

export interface TargetFigures {
  name: string;
  /** What the row is, in words. */
  description: string;
  kind: 'baseline' | 'polyprov';
  workers?: number;
  requests: number;
  phones: number;
  elapsedMs: number;
  /** Median over the rounds (--repeat). */
  requestsPerSecond: number;
  roundsRequestsPerSecond: number[];
  p50Ms: number;
  p99Ms: number;
  errors: number;
  errorSamples: string[];
  warmupErrors: number;
  /** True when --seconds ended the run before every phone was done. */
  cutShort: boolean;
  /** CPU seconds of the server's process tree during the measurement (Linux only). */
  serverCpuSeconds?: number;
  serverCpuPerRequestUs?: number;
  /** CPU of the bench process (the load generator) during the measurement, % of one core. */
  loadGeneratorCpuPercent: number;
  /** CPU used by everything else on the machine during the measurement, % of one core (Linux only). */
  otherCpuPercent?: number;
  /** Server log lines at warn level or above, first few. */
  serverWarnings: string[];
  /** Throughput as a fraction of the baseline's; on polyprov rows only. */
  ofBaseline?: number;
  pass?: boolean;
}

/** One measurement of one target: a fresh server, its warm-up, then the measured pass. */
export interface RoundResult {
  load: LoadResult;
  warmupErrors: number;
  warmupErrorSamples: string[];
  /** CPU seconds of the server's process tree during the measured pass (Linux only). */
  serverCpuSeconds: number | undefined;
  loadGeneratorCpuSeconds: number;
  /** CPU seconds the whole machine was busy during the measured pass (Linux only). */
  machineCpuSeconds: number | undefined;
  serverWarnings: string[];
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Figures of a target over its rounds: req/s is the median round's, latencies are pooled, CPU is summed. */
export function figuresOf(base: Pick<TargetFigures, 'name' | 'description' | 'kind' | 'workers'>, rounds: RoundResult[]): TargetFigures {
  const loads = rounds.map((r) => r.load);
  const latencies = new Float64Array(sum(loads.map((l) => l.latenciesMs.length)));
  let at = 0;
  for (const l of loads) {
    latencies.set(l.latenciesMs, at);
    at += l.latenciesMs.length;
  }
  latencies.sort();
  const requests = sum(loads.map((l) => l.requests));
  const elapsedMs = sum(loads.map((l) => l.elapsedMs));
  const rates = loads.map((l) => (l.elapsedMs > 0 ? (l.requests / l.elapsedMs) * 1000 : 0));
  const clientCpu = sum(rounds.map((r) => r.loadGeneratorCpuSeconds));
  const f: TargetFigures = {
    ...base,
    requests,
    phones: sum(loads.map((l) => l.phonesDone)),
    elapsedMs: round(elapsedMs, 1),
    requestsPerSecond: round(median(rates), 1),
    roundsRequestsPerSecond: rates.map((r) => round(r, 1)),
    p50Ms: round(percentile(latencies, 50), 3),
    p99Ms: round(percentile(latencies, 99), 3),
    errors: sum(loads.map((l) => l.failures)),
    errorSamples: [...new Set([...loads.flatMap((l) => l.failureSamples), ...rounds.flatMap((r) => r.warmupErrorSamples.map((e) => `warm-up: ${e}`))])].slice(0, 8),
    warmupErrors: sum(rounds.map((r) => r.warmupErrors)),
    cutShort: loads.some((l) => l.cutShort),
    loadGeneratorCpuPercent: round(elapsedMs > 0 ? (clientCpu / (elapsedMs / 1000)) * 100 : 0, 1),
    serverWarnings: [...new Set(rounds.flatMap((r) => r.serverWarnings))].slice(0, 5),
  };
  if (base.workers === undefined) delete f.workers;
  if (rounds.every((r) => r.serverCpuSeconds !== undefined)) {
    const serverCpu = sum(rounds.map((r) => r.serverCpuSeconds!));
    f.serverCpuSeconds = round(serverCpu, 3);
    f.serverCpuPerRequestUs = round(requests > 0 ? (serverCpu / requests) * 1e6 : 0, 1);
    if (rounds.every((r) => r.machineCpuSeconds !== undefined) && elapsedMs > 0) {
      const other = sum(rounds.map((r) => r.machineCpuSeconds!)) - serverCpu - clientCpu;
      f.otherCpuPercent = round(Math.max(0, (other / (elapsedMs / 1000)) * 100), 1);
    }
  }
  return f;
}

export interface Summary {
  settings: Record<string, unknown>;
  targets: TargetFigures[];
  verdict: { required: number; judgedOn: string; ofBaseline: number; pass: boolean } | null;
  failed: boolean;
  durationSeconds: number;
  setupSeconds: number;
}

/** Above this much CPU (% of one core) used by other processes, a row's figures are flagged as unreliable. */
export const OTHER_LOAD_WARNING_PERCENT = 15;

const round = (n: number, digits: number) => (Number.isFinite(n) ? Number(n.toFixed(digits)) : n);

const fmt = (n: number | undefined, digits = 0) => (n === undefined || !Number.isFinite(n) ? '-' : n.toFixed(digits));

export function renderTable(s: Summary, header: string[]): string {
  const cols = ['target', 'requests', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'server CPU/req', 'vs baseline'];
  const rows = s.targets.map((t) => [
    t.name,
    String(t.requests) + (t.cutShort ? '*' : ''),
    fmt(t.requestsPerSecond),
    fmt(t.p50Ms, 2),
    fmt(t.p99Ms, 2),
    String(t.errors + t.warmupErrors),
    t.serverCpuPerRequestUs === undefined ? '-' : `${fmt(t.serverCpuPerRequestUs)} µs`,
    t.ofBaseline === undefined ? (t.kind === 'baseline' ? '100%' : '-') : `${fmt(t.ofBaseline * 100, 1)}% ${t.pass ? 'PASS' : 'FAIL'}`,
  ]);
  const widths = cols.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  const out = [...header, '', line(cols), ...rows.map(line), ''];
  for (const t of s.targets) out.push(`  ${t.name}: ${t.description}`);
  out.push(
    '  server CPU/req: CPU time of all the target\'s processes (cluster primary and workers included) per request',
    `  load generator (this process) CPU during measurement: ${s.targets.map((t) => `${t.name} ${fmt(t.loadGeneratorCpuPercent)}%`).join(', ')} of one core`,
  );
  if (s.targets.some((t) => t.roundsRequestsPerSecond.length > 1)) {
    out.push(`  req/s is the median of ${s.targets[0]!.roundsRequestsPerSecond.length} rounds (fresh servers each round; p50/p99 and CPU over all rounds):`);
    for (const t of s.targets) out.push(`    ${t.name}: ${t.roundsRequestsPerSecond.map((r) => fmt(r)).join(', ')} req/s`);
  }
  if (s.targets.some((t) => t.otherCpuPercent !== undefined)) {
    out.push(`  other processes' CPU during measurement: ${s.targets.map((t) => `${t.name} ${fmt(t.otherCpuPercent)}%`).join(', ')} of one core`);
  }
  const busy = s.targets.filter((t) => (t.otherCpuPercent ?? 0) > OTHER_LOAD_WARNING_PERCENT);
  if (busy.length) {
    out.push(`  WARNING: other processes were busy during ${busy.map((t) => t.name).join(', ')}: those figures are unreliable; run again on a quiet machine`);
  }
  if (s.targets.some((t) => t.cutShort)) out.push('  * --seconds ran out before every phone was done');
  for (const t of s.targets) {
    for (const e of t.errorSamples) out.push(`  error (${t.name}): ${e}`);
    if (t.warmupErrors) out.push(`  error (${t.name}): ${t.warmupErrors} request(s) failed during warm-up`);
    for (const w of t.serverWarnings) out.push(`  server warning (${t.name}): ${w}`);
  }
  out.push('');
  if (s.verdict) {
    out.push(
      `target "polyprov ≥ ${fmt(s.verdict.required * 100)}% of baseline throughput", judged on ${s.verdict.judgedOn}: ${fmt(s.verdict.ofBaseline * 100, 1)}% → ${s.verdict.pass ? 'PASS' : 'FAIL'}`,
    );
  }
  const errors = s.targets.reduce((n, t) => n + t.errors + t.warmupErrors, 0);
  if (errors) out.push(`${errors} request(s) failed → the bench fails`);
  out.push(`whole bench: ${fmt(s.durationSeconds, 1)} s (setup ${fmt(s.setupSeconds, 1)} s)`);
  return out.join('\n') + '\n';
}
