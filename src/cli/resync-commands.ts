import type { Command } from 'commander';
import type { Logger } from 'pino';
import { pino } from 'pino';
import { cancelResync, createResync, reachStatus, runResync, type ResyncProgress, type ResyncRunOptions } from '../admin/reach.js';
import { AdminError } from '../admin/admin-error.js';
import type { AdminContext } from '../admin/admin-context.js';
import type { ReachJob, ReachMethod, Tenant } from '../store/store.js';
import { tenantOption, withTenant, type Opts } from './admin-commands.js';
import { printJson, printTable } from './print-table.js';

// polyprov resync …: tell phones to re-read their configuration now, paced so that a site of two
// thousand phones does not come back to the server in the same second.

const HOW = `
How phones are told:
  notify  an out-of-dialog SIP NOTIFY with "Event: check-sync", sent to the address the phone last
          fetched a file from (port 5060), or through the PBX/SBC set with "polyprov notify config".
          What the phone then does is policy ("polyprov notify behaviour"): by default it re-reads
          its files and reboots only if they changed; with --always-reboot it always reboots.
  push    POST /push to the phone's web server with Action:UpdateConfig (the Push API); needs
          "polyprov push enable" first, which gives phones the credentials they challenge for.
Each phone's answer (200, 4xx, timeout, error) is recorded: see "polyprov resync results".
An interrupted run (Ctrl-C) keeps its place: "polyprov resync resume <job>" sends the rest.`;

function number(name: string, v: unknown, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new AdminError(`invalid ${name} "${String(v)}": expected a number`);
  return n;
}

function sendOptions(c: Command): Command {
  return c
    .option('--sip-bind <address>', 'local address the NOTIFY socket binds to (env POLYPROV_SIP_BIND; default all)')
    .option('--sip-port <port>', 'local UDP port for NOTIFYs (default: any)')
    .option('--sip-advertise <host>', 'host put in Via and Contact when phones must answer to another address (NAT)')
    .option('--sip-t1-ms <ms>', 'RFC 3261 T1: first retransmission after this, doubling to 4 s (default 500)')
    .option('--sip-timeout-ms <ms>', 'give up on a phone after this long (default 64 × T1 = 32 s)')
    .option('--push-timeout-ms <ms>', 'give up on a Push request after this long (default 10000)')
    .option('--push-verify-tls', "check the phone's certificate on Push over HTTPS (off by default: phones present Poly's factory certificate, issued to no address)");
}

function runOptions(o: Opts, logger: Logger, signal: AbortSignal): ResyncRunOptions {
  const bindHost = (o.sipBind as string | undefined) ?? process.env.POLYPROV_SIP_BIND;
  const t1 = o.sipT1Ms === undefined ? undefined : number('--sip-t1-ms', o.sipT1Ms, 500);
  return {
    logger,
    signal,
    sip: {
      ...(bindHost ? { bindHost } : {}),
      ...(o.sipPort !== undefined ? { bindPort: number('--sip-port', o.sipPort, 0) } : {}),
      ...(o.sipAdvertise ? { advertisedHost: o.sipAdvertise as string } : {}),
      ...(t1 !== undefined ? { t1Ms: t1 } : {}),
      ...(o.sipTimeoutMs !== undefined ? { timeoutMs: number('--sip-timeout-ms', o.sipTimeoutMs, 32_000) } : {}),
    },
    ...(o.pushTimeoutMs !== undefined ? { pushTimeoutMs: number('--push-timeout-ms', o.pushTimeoutMs, 10_000) } : {}),
    pushVerifyTls: o.pushVerifyTls === true,
    onProgress: (p) => process.stderr.write(progressLine(p)),
  };
}

function progressLine(p: ResyncProgress): string {
  const o = p.outcomes;
  const left = p.total - p.done;
  return `resync ${p.job}: ${p.done}/${p.total} done (${o.ok} ok, ${o.rejected} rejected, ${o.timeout} timeout, ${o.error} error)${left ? `, about ${Math.ceil(p.remainingMs / 1000)} s left` : ''}\n`;
}

/** Runs a job in the foreground; Ctrl-C stops starting new sends, lets the started ones finish, and leaves the job resumable. */
async function runInForeground(ctx: AdminContext, t: Tenant, job: ReachJob, o: Opts): Promise<void> {
  const logger = pino({ level: process.env.POLYPROV_LOG_LEVEL ?? 'warn' }, pino.destination(2));
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const run = await runResync(ctx, t, job.id, runOptions(o, logger, stop.signal));
    const j = run.job;
    if (run.interrupted) {
      process.stdout.write(`resync ${j.id} interrupted with ${j.total - j.done} of ${j.total} device(s) left; send the rest with: polyprov resync resume ${j.id} -t ${t.slug}\n`);
      process.exitCode = 3;
    } else {
      process.stdout.write(`resync ${j.id} done: ${j.outcomes.ok} ok, ${j.outcomes.rejected} rejected, ${j.outcomes.timeout} timeout, ${j.outcomes.error} error (see: polyprov resync results -t ${t.slug})\n`);
      if (j.outcomes.ok < j.total) process.exitCode = 4;
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

export function registerResyncCommands(program: Command): void {
  const resync = program
    .command('resync')
    .description('tell phones to re-read their configuration now (SIP NOTIFY check-sync or the Push API), paced and resumable')
    .addHelpText('after', HOW);

  tenantOption(
    sendOptions(
      resync
        .command('start [macs...]')
        .description('resync the listed phones, or those of --site, --group, --model, or --all of the tenant, at --rate phones per second')
        .option('--via <method>', 'notify (SIP check-sync) or push (Push API)', 'notify')
        .option('--site <slug>', "the site's devices")
        .option('--group <slug>', "the group's devices")
        .option('--model <model>', 'devices of this model, e.g. VVX_450')
        .option('--all', 'every device of the tenant, registered or only seen')
        .option('--rate <per-second>', 'phones per second, on average', '10')
        .option('--jitter <fraction>', 'each send moves up to ± this fraction of the interval at random, so phones do not line up', '0.5')
        .addHelpText('after', HOW),
    ),
  ).action(async (macs: string[], _o, cmd: Command) =>
    withTenant(cmd, async (ctx, t, o) => {
      const via = o.via as string;
      if (via !== 'notify' && via !== 'push') throw new AdminError(`invalid --via "${via}": expected notify or push`);
      const scoped = o.site !== undefined || o.group !== undefined || o.model !== undefined;
      if (!macs.length && !scoped && !o.all) throw new AdminError('say which phones: MAC addresses, --site, --group, --model, or --all');
      const job = await createResync(ctx, t, {
        method: via as ReachMethod,
        ...(macs.length ? { macs } : {}),
        scope: { ...(o.site ? { site: o.site as string } : {}), ...(o.group ? { group: o.group as string } : {}), ...(o.model ? { model: o.model as string } : {}) },
        ratePerSecond: number('--rate', o.rate, 10),
        jitter: number('--jitter', o.jitter, 0.5),
      });
      process.stderr.write(`resync ${job.id}: ${job.total} device(s) by ${job.method} at ${job.ratePerSecond}/s (about ${Math.ceil(job.total / job.ratePerSecond)} s)\n`);
      await runInForeground(ctx, t, job, o);
    }),
  );

  tenantOption(sendOptions(resync.command('resume <job>').description('send the devices an interrupted resync has not reached yet'))).action(async (id: string, _o, cmd: Command) =>
    withTenant(cmd, async (ctx, t, o) => {
      const job = await ctx.store.getReachJob(t.id, number('job', id, 0));
      if (!job) throw new AdminError(`no resync job ${id} in tenant "${t.slug}" (see: polyprov resync list)`);
      await runInForeground(ctx, t, job, o);
    }),
  );

  tenantOption(resync.command('list').description("the tenant's resync jobs, newest first").option('--json', 'print JSON')).action(async (_o, cmd: Command) =>
    withTenant(cmd, async (ctx, t, o) => {
      const jobs = await ctx.store.listReachJobs(t.id);
      if (o.json) return printJson(jobs);
      printTable(
        ['job', 'via', 'devices of', 'rate/s', 'status', 'done', 'ok', 'rejected', 'timeout', 'error', 'created'],
        jobs.map((j) => [j.id, j.method, Object.entries(j.selector).map(([k, v]) => `${k} ${v}`).join(', '), j.ratePerSecond, j.status, `${j.done}/${j.total}`, j.outcomes.ok, j.outcomes.rejected, j.outcomes.timeout, j.outcomes.error, j.createdAt]),
      );
    }),
  );

  tenantOption(resync.command('cancel <job>').description('give up on the devices a resync has not reached (their results so far are kept)')).action(async (id: string, _o, cmd: Command) =>
    withTenant(cmd, async (ctx, t) => {
      const j = await cancelResync(ctx, t, number('job', id, 0));
      process.stdout.write(`resync ${j.id} cancelled with ${j.total - j.done} device(s) not reached\n`);
    }),
  );

  tenantOption(
    resync
      .command('results [mac]')
      .description("each phone's newest answer to a NOTIFY and to a Push (or one phone's)")
      .option('--json', 'print JSON'),
  ).action(async (mac: string | undefined, _o, cmd: Command) =>
    withTenant(cmd, async (ctx, t, o) => {
      const rows = await reachStatus(ctx, t, mac);
      if (o.json) return printJson(rows);
      if (!rows.length) return void process.stdout.write(mac ? `no resync has been sent to ${mac} yet\n` : 'no resync has been sent yet\n');
      printTable(
        ['mac', 'via', 'outcome', 'status', 'target', 'detail', 'at', 'job'],
        rows.map((r) => [r.mac, r.method, r.outcome, r.status, r.target, r.detail, r.at, r.jobId]),
      );
    }),
  );
}
