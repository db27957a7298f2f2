import type { Command } from 'commander';
import type { AdminContext } from '../admin/admin-context.js';
import { AdminError } from '../admin/admin-error.js';
import {
  compileSearch,
  listDeviceLogs,
  readDeviceLogFrom,
  requireLogKind,
  searchDeviceLogs,
  showDeviceLog,
  tailDeviceLog,
  type LogLineView,
} from '../admin/phone-logs.js';
import { requireTenant } from '../admin/tenants.js';
import { openAdminContext } from '../app.js';
import { loadConfig } from '../config.js';
import type { LogHighlight } from '../domain/phone-log.js';
import { pruneOldLogSegments } from '../provisioning/phone-logs.js';
import type { Tenant } from '../store/store.js';
import { tenantOption, withDeviceTenant, withTenant, type Opts } from './admin-commands.js';
import { printJson, printTable } from './print-table.js';

// `polyprov log …`: read, tail and search the logs phones upload, and apply retention by age.
// Flagged lines (classifyLogLine: TLS, certificate, DNS, failed transfers, severe levels) start
// with a marker such as `!tls,certificate`, so pipes and scripts see them; on a terminal they are
// coloured too (unless NO_COLOR is set).

const COLOURS: Record<LogHighlight, string> = {
  error: '\x1b[31m', // red
  'file-transfer': '\x1b[31m',
  tls: '\x1b[35m', // magenta
  certificate: '\x1b[35m',
  dns: '\x1b[33m', // yellow
};
const RESET = '\x1b[0m';

function useColour(): boolean {
  return process.stdout.isTTY === true && !process.env.NO_COLOR;
}

/** One line for people: `[!flags  ]time  module  level  missed  text`, an unparsed line as `?  raw`. */
export function formatLogLine(line: LogLineView, options: { colour?: boolean; source?: boolean } = {}): string {
  const marker = line.flags.length ? `!${line.flags.join(',')}  ` : '';
  const source = options.source ? `${line.mac} ${line.kind}  ` : '';
  const body =
    line.module === null
      ? `?  ${line.raw}`
      : `${line.time}  ${line.module.padEnd(5)}  ${String(line.level)}  ${String(line.missed).padStart(2, '0')}  ${line.text}`;
  const text = `${marker}${source}${body}`;
  const first = line.flags[0];
  return options.colour && first ? `${COLOURS[first]}${text}${RESET}` : text;
}

function writeLines(lines: LogLineView[], o: Opts, options: { source?: boolean } = {}): void {
  if (!lines.length) return;
  const colour = useColour();
  process.stdout.write(lines.map((l) => (o.json ? JSON.stringify(l) : formatLogLine(l, { colour, ...options }))).join('\n') + '\n');
}

function positiveInt(what: string, v: unknown, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new AdminError(`invalid ${what} "${String(v)}": expected a whole number`);
  return n;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });

/** Polls the store every second and prints lines as they complete, until Ctrl-C (or `--timeout`). */
async function follow(ctx: AdminContext, t: Tenant, mac: string, o: Opts, from: number): Promise<void> {
  const kind = requireLogKind(o.kind as string | undefined, 'app');
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const seconds = o.timeout === undefined ? undefined : positiveInt('--timeout', o.timeout, 0);
  const limit = seconds === undefined ? undefined : setTimeout(() => stop.abort(), seconds * 1000);
  try {
    let offset = from;
    while (!stop.signal.aborted) {
      await sleep(1000, stop.signal);
      if (stop.signal.aborted) break;
      const next = await readDeviceLogFrom(ctx, t, mac, kind, offset);
      writeLines(next.lines, o);
      offset = next.end;
    }
  } finally {
    if (limit) clearTimeout(limit);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

export function registerLogCommands(program: Command): void {
  // `polyprov log show … | head` closes the pipe early: that is not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });

  const log = program.command('log').description('read, tail and search the logs phones upload; apply log retention');

  tenantOption(
    log
      .command('list')
      .description('logs with their size (as the phone counts it), current file, segments and last update')
      .option('--mac <mac>', "only this device's logs")
      .option('--json', 'print JSON'),
  ).action(async (_o, cmd: Command) =>
    withTenant(cmd, async (ctx, t, o) => {
      const logs = await listDeviceLogs(ctx, t, o.mac as string | undefined);
      if (o.json) return printJson(logs);
      printTable(
        ['mac', 'kind', 'size', 'current', 'held from', 'segments', 'updated'],
        logs.map((l) => [l.mac, l.kind, l.size, l.current, l.heldFrom, l.segments.length, l.updatedAt]),
      );
    }),
  );

  tenantOption(
    log
      .command('show <mac>')
      .description("a device's log, parsed: time, module, level, missed, text; flagged lines start with !tls, !dns, !file-transfer…")
      .option('--kind <kind>', 'app or boot (default app)')
      .option('--segments', 'include the older segments still kept, oldest first')
      .option('--errors', 'only flagged lines')
      .option('--json', 'print JSON'),
  ).action(async (mac: string, _o, cmd: Command) =>
    withDeviceTenant(cmd, mac, async (ctx, t, o) => {
      const kind = requireLogKind(o.kind as string | undefined, 'app');
      const shown = await showDeviceLog(ctx, t, mac, kind, { segments: o.segments === true });
      const lines = o.errors ? shown.lines.filter((l) => l.flags.length > 0) : shown.lines;
      if (o.json) return printJson({ tenant: t.slug, log: shown.log, lines });
      if (!o.segments) return writeLines(lines, o);
      // With segments: a heading where each file starts.
      let segment: number | null | undefined;
      for (const line of lines) {
        if (line.segment !== segment) {
          segment = line.segment;
          const s = shown.log.segments.find((x) => x.number === segment);
          process.stdout.write(s ? `-- segment ${s.number}, rotated ${s.rotatedAt} --\n` : '-- current --\n');
        }
        writeLines([line], o);
      }
    }),
  );

  tenantOption(
    log
      .command('tail <mac>')
      .description("the last lines of a device's log (older segments too when needed); --follow prints new lines as they arrive")
      .option('--kind <kind>', 'app or boot (default app)')
      .option('-n, --lines <n>', 'how many lines', '50')
      .option('-f, --follow', 'keep printing lines as the phone uploads them (polls every second) until Ctrl-C')
      .option('--timeout <seconds>', 'with --follow: stop after this many seconds')
      .option('--json', 'print one JSON object per line'),
  ).action(async (mac: string, _o, cmd: Command) =>
    withDeviceTenant(cmd, mac, async (ctx, t, o) => {
      const kind = requireLogKind(o.kind as string | undefined, 'app');
      const n = positiveInt('line count', o.lines, 50);
      const tail = await tailDeviceLog(ctx, t, mac, kind, n, { completeOnly: o.follow === true });
      writeLines(tail.lines, o);
      if (o.follow) await follow(ctx, t, mac, o, tail.end);
    }),
  );

  tenantOption(
    log
      .command('search <mac-or-pattern> [pattern]')
      .description("lines matching a regular expression in a device's logs (log search <mac> <regex>) or every device's (log search --all <regex>), older segments included")
      .option('--all', "search every device's logs in the tenant")
      .option('--kind <kind>', 'app or boot (default both)')
      .option('--errors', 'only flagged lines: TLS, certificate, DNS, failed transfers, severe levels')
      .option('-i, --ignore-case', 'match regardless of case')
      .option('--json', 'print JSON'),
  ).action(async (first: string, second: string | undefined, _o, cmd: Command) => {
    const all = cmd.opts().all === true;
    if (all && second !== undefined) throw new AdminError('with --all give only the pattern: log search --all <regex>');
    if (!all && second === undefined) throw new AdminError('give a MAC and a pattern (log search <mac> <regex>), or --all and a pattern');
    const mac = all ? undefined : first;
    const source = all ? first : second!;
    const run = async (ctx: AdminContext, t: Tenant, o: Opts) => {
      const found = await searchDeviceLogs(ctx, t, {
        ...(mac !== undefined ? { mac } : {}),
        ...(o.kind !== undefined ? { kind: requireLogKind(o.kind as string, 'app') } : {}),
        pattern: compileSearch(source, o.ignoreCase === true),
        errorsOnly: o.errors === true,
      });
      if (o.json) return printJson(found);
      writeLines(found, o, { source: true });
    };
    return mac === undefined ? withTenant(cmd, run) : withDeviceTenant(cmd, mac, run);
  });

  log
    .command('prune')
    .description("drop log segments older than each tenant's maximum age (tenant set --log-max-age-days) or beyond its segment count; serve does this hourly")
    .option('-t, --tenant <slug>', 'only this tenant (default: every tenant)')
    .option('--json', 'print JSON')
    .action(async (_o, cmd: Command) => {
      const o = cmd.optsWithGlobals() as Opts;
      const ctx = await openAdminContext(loadConfig({ data: o.data as string | undefined, databaseUrl: o.databaseUrl as string | undefined, config: o.config as string | undefined }));
      try {
        const slug = (o.tenant as string | undefined) ?? process.env.POLYPROV_TENANT;
        const tenants = slug ? [await requireTenant(ctx, slug)] : await ctx.store.listTenants();
        const report = [];
        for (const t of tenants) report.push({ tenant: t.slug, maxAgeDays: t.logMaxAgeDays, segments: t.logSegments, dropped: await pruneOldLogSegments(ctx, t) });
        if (o.json) return printJson(report);
        for (const r of report) {
          const bytes = r.dropped.reduce((sum, d) => sum + d.size, 0);
          const age = r.maxAgeDays === 0 ? 'no age limit' : `older than ${r.maxAgeDays} days`;
          process.stdout.write(`tenant "${r.tenant}": dropped ${r.dropped.length} segment(s), ${bytes} bytes (${age}, ${r.segments} kept per log)\n`);
        }
      } finally {
        await ctx.store.close();
      }
    });
}
