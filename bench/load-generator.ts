import { request } from 'node:http';
import { performance } from 'node:perf_hooks';

// Simulated phones. Each one fetches its master file, then its configuration, each over a new
// TCP connection (`agent: false`, `Connection: close`) as Poly phones do. Credentials are sent
// preemptively with HTTP Basic: real phones first get a 401 challenge and then answer it, but that
// extra round trip measures nothing about the serving path, so it is left out on every target.

export const MASTER_PATH = '/000000000000.cfg';
export const configPath = (mac: string) => `/${mac}-polyprov.cfg`;
export const userAgentFor = (mac: string) => `FileTransport PolycomVVX-VVX_450-UA/6.4.6.2163 (SN:${mac}) Type/Application`;

export interface LoadOptions {
  port: number;
  /** The phones to run, in order; each fetches the master then its configuration. */
  macs: readonly string[];
  /** Requests in flight at once (one per simulated phone at a time). */
  concurrency: number;
  /** Value of the Authorization header. */
  authorization: string;
  /** performance.now() after which no new request starts; requests in flight still complete. */
  deadline?: number;
  /** Expected body per path: a different body counts as a failure. */
  expected?: ReadonlyMap<string, Buffer>;
  /** Filled with path → response (status 200 only). */
  collect?: Map<string, Fetched>;
  requestTimeoutMs?: number;
}

export interface Fetched {
  body: Buffer;
  headers: Record<string, string>;
}

export interface LoadResult {
  /** Requests that got an answer or failed (all requests started). */
  requests: number;
  failures: number;
  /** Up to a few distinct failure descriptions. */
  failureSamples: string[];
  /** Latency of every request, ms, in completion order. */
  latenciesMs: Float64Array;
  /** From the first request's start to the last one's end. */
  elapsedMs: number;
  /** Phones that fetched both files (successfully or not). */
  phonesDone: number;
  /** True when the deadline stopped the run before every phone was done. */
  cutShort: boolean;
}

interface Answer {
  status: number;
  body: Buffer;
  headers: Record<string, string>;
}

const KEPT_HEADERS = ['content-type', 'etag', 'cache-control', 'accept-ranges'];

function get(port: number, path: string, mac: string, authorization: string, timeoutMs: number): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'GET',
        agent: false,
        headers: { 'User-Agent': userAgentFor(mac), Authorization: authorization, Connection: 'close', Accept: '*/*' },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const headers: Record<string, string> = {};
          for (const h of KEPT_HEADERS) {
            const v = res.headers[h];
            if (typeof v === 'string') headers[h] = v;
          }
          resolve({ status: res.statusCode ?? 0, body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks), headers });
        });
        res.on('error', reject);
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const maxRequests = opts.macs.length * 2;
  const latencies = new Float64Array(maxRequests);
  const timeoutMs = opts.requestTimeoutMs ?? 10_000;
  const samples = new Set<string>();
  let n = 0;
  let failures = 0;
  let next = 0;
  let phonesDone = 0;
  let cutShort = false;
  const expired = () => opts.deadline !== undefined && performance.now() >= opts.deadline;

  const fail = (what: string) => {
    failures++;
    if (samples.size < 5) samples.add(what);
  };

  /** One request; false when it failed (the phone then gives up, as a real one would). */
  const fetchOne = async (path: string, mac: string): Promise<boolean> => {
    const t0 = performance.now();
    try {
      const a = await get(opts.port, path, mac, opts.authorization, timeoutMs);
      latencies[n++] = performance.now() - t0;
      if (a.status !== 200) {
        fail(`${path}: HTTP ${a.status}`);
        return false;
      }
      const want = opts.expected?.get(path);
      if (opts.expected && (!want || !want.equals(a.body))) {
        fail(`${path}: body differs from the one polyprov served first`);
        return false;
      }
      opts.collect?.set(path, { body: a.body, headers: a.headers });
      return true;
    } catch (err) {
      latencies[n++] = performance.now() - t0;
      fail(`${path}: ${(err as Error).message}`);
      return false;
    }
  };

  const phone = async () => {
    for (;;) {
      if (next >= opts.macs.length) return;
      if (expired()) {
        cutShort = true;
        return;
      }
      const mac = opts.macs[next++]!;
      if ((await fetchOne(MASTER_PATH, mac)) && !expired()) await fetchOne(configPath(mac), mac);
      phonesDone++;
    }
  };

  const start = performance.now();
  await Promise.all(Array.from({ length: Math.min(opts.concurrency, opts.macs.length) }, phone));
  const elapsedMs = performance.now() - start;
  return { requests: n, failures, failureSamples: [...samples], latenciesMs: latencies.subarray(0, n), elapsedMs, phonesDone, cutShort };
}

/** Nearest-rank percentile of samples sorted in ascending order (0 < p ≤ 100). */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}
