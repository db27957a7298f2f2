import type { Logger } from 'pino';
import { DomainError } from '../domain/domain-error.js';
import { requireMac } from '../domain/mac.js';
import { planNotify, planPush, type PlannedNotify, type PlannedPush } from '../domain/reach-targets.js';
import { TenantSnapshot } from '../provisioning/tenant-snapshot.js';
import { runPaced } from '../reach/paced-fan-out.js';
import { pushUpdate, type PushOutcome } from '../reach/push/push-sender.js';
import { SipNotifier, type NotifyOutcome, type SipNotifierOptions } from '../reach/sip/notify-sender.js';
import type { Device, ReachJob, ReachMethod, ReachOutcome, ReachResult, Tenant } from '../store/store.js';
import type { AdminContext } from './admin-context.js';
import { AdminError } from './admin-error.js';
import { devicesInScope, resolveScope, type ScopeSelector } from './parameters.js';

// Reaching phones in bulk without a stampede: a resync is a stored job (its devices fixed when it
// is created), sent at a set pace with jitter, each device's result recorded as it comes, so an
// interrupted run resumes where it stopped and `reach status` can always say what each phone said.

export interface ResyncRequest {
  method: ReachMethod;
  /** The devices of one layer (none given: the whole tenant)… */
  scope?: ScopeSelector;
  /** …or these devices. */
  macs?: string[];
  ratePerSecond: number;
  jitter: number;
}

export async function createResync(ctx: AdminContext, t: Tenant, req: ResyncRequest): Promise<ReachJob> {
  if (!(req.ratePerSecond > 0 && req.ratePerSecond <= 10_000)) throw new AdminError(`invalid rate ${req.ratePerSecond}: expected phones per second, more than 0 and at most 10000`);
  if (!(req.jitter >= 0 && req.jitter <= 1)) throw new AdminError(`invalid jitter ${req.jitter}: expected a fraction of the interval between phones, from 0 to 1`);
  let macs: string[];
  let selector: Record<string, string>;
  if (req.macs?.length) {
    if (req.scope && Object.values(req.scope).some((v) => v !== undefined)) throw new AdminError('give either MAC addresses or one of --site, --group, --model, not both');
    macs = [...new Set(req.macs.map((m) => requireMac(m)))];
    selector = { devices: macs.length === 1 ? macs[0]! : `${macs.length} listed` };
  } else {
    const sel = req.scope ?? {};
    const scope = await resolveScope(ctx, t, sel, false);
    macs = (await devicesInScope(ctx, t, sel, scope)).map((d) => d.mac);
    selector = Object.fromEntries(Object.entries(sel).filter(([, v]) => v !== undefined)) as Record<string, string>;
    if (!Object.keys(selector).length) selector = { tenant: t.slug };
    if (!macs.length) throw new AdminError(`no devices in ${Object.entries(selector).map(([k, v]) => `${k} "${v}"`).join(', ')}: nothing to resync`);
  }
  return ctx.store.createReachJob({ tenantId: t.id, method: req.method, selector, ratePerSecond: req.ratePerSecond, jitter: req.jitter, macs });
}

export interface ResyncProgress {
  job: number;
  total: number;
  /** Devices with a result, this run and earlier ones. */
  done: number;
  outcomes: Record<ReachOutcome, number>;
  elapsedMs: number;
  /** Estimated time left at the job's pace. */
  remainingMs: number;
}

export interface ResyncRunOptions {
  logger: Logger;
  signal?: AbortSignal;
  /** Called about once a second, and once at the end. */
  onProgress?: (p: ResyncProgress) => void;
  sip?: SipNotifierOptions;
  pushTimeoutMs?: number;
  /** Verify the phone's certificate for Push over HTTPS (off: phones present Poly's factory certificate). */
  pushVerifyTls?: boolean;
}

export interface ResyncRun {
  job: ReachJob;
  /** True when the run stopped on the signal: the job stays running and can be resumed. */
  interrupted: boolean;
}

/** Sends the job's pending devices at its pace and records each result; resumable after an interruption. */
export async function runResync(ctx: AdminContext, t: Tenant, jobId: number, opts: ResyncRunOptions): Promise<ResyncRun> {
  const job = await ctx.store.getReachJob(t.id, jobId);
  if (!job) throw new AdminError(`no resync job ${jobId} in tenant "${t.slug}" (see: polyprov resync list)`);
  if (job.status !== 'running') throw new AdminError(`resync job ${jobId} is ${job.status}: nothing to resume`);
  const pending = await ctx.store.pendingReachJobDevices(t.id, jobId);
  const snap = new TenantSnapshot(await ctx.store.loadTenantPolicy(t.id));
  const seen = new Map((await ctx.store.listDevices(t.id)).map((d) => [d.mac, d]));

  const notifier = job.method === 'notify' ? new SipNotifier({ ...opts.sip, logger: opts.logger }) : undefined;
  await notifier?.start();
  const outcomes = { ...job.outcomes };
  let done = job.done;
  const started = Date.now();
  const buffer: ReachResult[] = [];
  let flushing: Promise<void> = Promise.resolve();
  const flush = () => {
    const batch = buffer.splice(0);
    if (batch.length) flushing = flushing.then(() => ctx.store.recordReachResults(batch));
    return flushing;
  };
  const report = () =>
    opts.onProgress?.({
      job: jobId,
      total: job.total,
      done,
      outcomes: { ...outcomes },
      elapsedMs: Date.now() - started,
      remainingMs: Math.round(((job.total - done) / job.ratePerSecond) * 1000),
    });
  const ticker = setInterval(() => {
    report();
    void flush().catch(() => undefined);
  }, 1000);
  try {
    const summary = await runPaced(
      pending,
      { ratePerSecond: job.ratePerSecond, jitter: job.jitter, ...(opts.signal ? { signal: opts.signal } : {}) },
      (mac) => reachOne(snap, mac, seen.get(mac), job.method, notifier, opts),
      async (mac, r) => {
        outcomes[r.outcome] += 1;
        done += 1;
        buffer.push({ tenantId: t.id, mac, method: job.method, ...r, jobId, at: new Date().toISOString() });
        if (buffer.length >= 200) await flush();
      },
    );
    await flush();
    if (!summary.aborted) await ctx.store.setReachJobStatus(t.id, jobId, 'done');
    report();
    return { job: (await ctx.store.getReachJob(t.id, jobId))!, interrupted: summary.aborted };
  } finally {
    clearInterval(ticker);
    await flush().catch((err: unknown) => opts.logger.error({ err, job: jobId }, 'could not record reach results'));
    await notifier?.close();
  }
}

type OneResult = Pick<ReachResult, 'outcome' | 'status' | 'detail' | 'target'>;

async function reachOne(snap: TenantSnapshot, mac: string, seen: Device | undefined, method: ReachMethod, notifier: SipNotifier | undefined, opts: ResyncRunOptions): Promise<OneResult> {
  const registered = snap.devicesByMac.get(mac);
  const setting = (name: string) => snap.settingFor(name, registered, seen?.model ?? undefined, mac);
  let plan: PlannedNotify | PlannedPush | { problem: string };
  try {
    plan = method === 'notify' ? planNotify(mac, seen?.lastIp ?? null, setting) : planPush(mac, seen?.lastIp ?? null, setting);
  } catch (err) {
    if (!(err instanceof DomainError)) throw err;
    plan = { problem: err.message };
  }
  // A device that cannot be reached is recorded as such, never skipped silently.
  if ('problem' in plan) return { outcome: 'error', status: null, detail: plan.problem, target: '' };
  if (method === 'notify') {
    const p = plan as PlannedNotify;
    const o = await notifier!.notify({ host: p.host, port: p.port, transport: p.transport, requestUri: p.requestUri }, p.credentials ? { credentials: p.credentials } : {});
    return { ...fromNotify(o), target: p.label };
  }
  const p = plan as PlannedPush;
  const o = await pushUpdate({
    url: p.url,
    username: p.username,
    password: p.password,
    ...(opts.pushTimeoutMs ? { timeoutMs: opts.pushTimeoutMs } : {}),
    tls: { rejectUnauthorized: opts.pushVerifyTls ?? false },
  });
  return { ...fromPush(o), target: p.label };
}

function fromNotify(o: NotifyOutcome): Omit<OneResult, 'target'> {
  switch (o.kind) {
    case 'ok':
    case 'rejected':
      return { outcome: o.kind, status: o.status, detail: `${o.status} ${o.reason} after ${o.attempts} ${o.attempts === 1 ? 'try' : 'tries'}${o.authenticated ? ', authenticated' : ''}, ${o.elapsedMs} ms` };
    case 'timeout':
      return { outcome: 'timeout', status: null, detail: `no answer after ${o.attempts} tries, ${o.elapsedMs} ms` };
    case 'error':
      return { outcome: 'error', status: null, detail: o.message };
  }
}

function fromPush(o: PushOutcome): Omit<OneResult, 'target'> {
  switch (o.kind) {
    case 'ok':
      return { outcome: 'ok', status: o.status, detail: `${o.status} after ${o.attempts} ${o.attempts === 1 ? 'request' : 'requests'}, ${o.elapsedMs} ms` };
    case 'rejected':
      return { outcome: 'rejected', status: o.status, detail: `${o.status} ${o.reason}` };
    case 'timeout':
      return { outcome: 'timeout', status: null, detail: `no answer in ${o.elapsedMs} ms` };
    case 'error':
      return { outcome: 'error', status: null, detail: o.message };
  }
}

/** The newest NOTIFY and Push result of each device (or one device). */
export async function reachStatus(ctx: AdminContext, t: Tenant, mac?: string): Promise<ReachResult[]> {
  return ctx.store.latestReachResults(t.id, mac === undefined ? undefined : requireMac(mac));
}

export async function cancelResync(ctx: AdminContext, t: Tenant, jobId: number): Promise<ReachJob> {
  const job = await ctx.store.getReachJob(t.id, jobId);
  if (!job) throw new AdminError(`no resync job ${jobId} in tenant "${t.slug}" (see: polyprov resync list)`);
  if (job.status !== 'running') throw new AdminError(`resync job ${jobId} is already ${job.status}`);
  return ctx.store.setReachJobStatus(t.id, jobId, 'cancelled');
}
