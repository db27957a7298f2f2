import type { Command } from 'commander';
import {
  createRollout,
  describeSelector,
  pauseRollout,
  removeRollout,
  resumeRollout,
  rollBackRollout,
  rolloutStatus,
  tickRollouts,
  type TickResult,
} from '../admin/rollouts.js';
import { requireTenant } from '../admin/tenants.js';
import { parseDuration, parseWaves, type RolloutDecision } from '../domain/rollout-plan.js';
import { tenantOption, withContext, withTenant } from './admin-commands.js';
import { printJson, printTable } from './print-table.js';

// polyprov rollout …: staged firmware rollouts in waves.

function describeDecision(d: RolloutDecision): string {
  switch (d.action) {
    case 'advance':
      return `release wave ${d.wave + 1}`;
    case 'complete':
      return 'complete';
    case 'resume':
      return 'resume (the current wave is healthy again)';
    case 'pause':
      return `pause: ${d.reason}`;
    case 'wait':
      return `wait: ${d.reason}`;
  }
}

const printTicks = (results: TickResult[]) => {
  if (results.length === 0) process.stdout.write('no running or paused rollout\n');
  for (const r of results) process.stdout.write(`${r.tenant}/${r.rollout}: ${describeDecision(r.decision)}\n`);
};

export function registerRolloutCommands(program: Command): void {
  const rollout = program
    .command('rollout')
    .description('move a set of devices from one firmware version to another in waves (canary first), pausing when phones do not come back on the new version');

  tenantOption(
    rollout
      .command('create <name>')
      .description('create a rollout over registered devices (all of the tenant, or of --site, --group, --model); its first wave is released at once')
      .requiredOption('--from <version>', 'the version the devices run now (what a rollback returns to)')
      .requiredOption('--to <version>', 'the new version')
      .option('--site <slug>', 'only devices of this site')
      .option('--group <slug>', 'only devices of this group')
      .option('--model <model>', 'only devices of this model, e.g. VVX_450')
      .option('--waves <percentages>', 'cumulative share of the devices each wave releases', '1,10,100')
      .option('--interval <duration>', 'least time a healthy wave soaks before the next (e.g. 30m, 2h, 1d)', '1h')
      .option('--deadline <duration>', "time a wave's phones have to report the new version", '2h')
      .option('--max-failures <percent>', 'share of a wave that may fail to report the new version by the deadline before the rollout pauses', '0')
      .option('--window <HH:MM-HH:MM>', 'maintenance window in UTC in which waves are released (default: any time)'),
  ).action(async (name: string, _o, cmd: Command) =>
    withTenant(cmd, async (ctx, t, o) => {
      const r = await createRollout(ctx, t, {
        name,
        from: o.from as string,
        to: o.to as string,
        selector: { ...(o.site ? { site: o.site as string } : {}), ...(o.group ? { group: o.group as string } : {}), ...(o.model ? { model: o.model as string } : {}) },
        waves: parseWaves(o.waves as string),
        waveIntervalMs: parseDuration(o.interval as string),
        deadlineMs: parseDuration(o.deadline as string),
        maxFailurePercent: Number(o.maxFailures),
        ...(o.window ? { window: o.window as string } : {}),
      });
      for (const w of r.warnings) process.stderr.write(`warning: ${w}\n`);
      const sizes = r.waves.map((_, w) => r.members.filter((m) => m.wave === w).length);
      process.stdout.write(`rollout ${r.name}: ${r.members.length} device(s) of ${describeSelector(r.selector)} from ${r.fromVersion} to ${r.toVersion} in waves of ${sizes.join(' + ')}; wave 1 released\n`);
    }),
  );

  tenantOption(rollout.command('list').description("the tenant's rollouts").option('--json', 'print JSON')).action(async (_o, cmd: Command) =>
    withTenant(cmd, async (ctx, t, o) => {
      const rs = await ctx.store.listRollouts(t.id);
      if (o.json) return printJson(rs);
      printTable(
        ['name', 'from', 'to', 'devices', 'wave', 'status', 'reason'],
        rs.map((r) => [r.name, r.fromVersion, r.toVersion, r.members.length, `${r.currentWave + 1}/${r.waves.length}`, r.status, r.reason ?? '']),
      );
    }),
  );

  tenantOption(rollout.command('status <name>').description('waves, versions reported, stuck phones and what the next tick would do').option('--json', 'print JSON')).action(
    async (name: string, _o, cmd: Command) =>
      withTenant(cmd, async (ctx, t, o) => {
        const s = await rolloutStatus(ctx, t, name);
        if (o.json) return printJson(s);
        const r = s.rollout;
        process.stdout.write(`rollout ${r.name} (${describeSelector(r.selector)}): ${r.fromVersion} -> ${r.toVersion}, ${r.status}${r.reason ? ` (${r.reason})` : ''}\n`);
        printTable(
          ['wave', 'share', 'devices', 'on new version', 'released'],
          s.waves.map((w) => [w.wave + 1, `${w.percent}%`, w.size, w.updated, w.released ? 'yes' : 'no']),
        );
        process.stdout.write(`versions reported: ${Object.entries(s.versions).map(([v, n]) => `${v}: ${n}`).join(', ')}\n`);
        if (s.stuck.length) {
          process.stdout.write('released phones not on the new version:\n');
          printTable(['mac', 'wave', 'reports', 'last seen'], s.stuck.map((m) => [m.mac, m.wave + 1, m.running ?? 'never seen', m.lastSeen ?? '-']));
        }
        process.stdout.write(`next tick: ${describeDecision(s.next)}\n`);
      }),
  );

  tenantOption(rollout.command('tick').description('move rollouts on now (serve does this every minute): release waves, pause or complete')).action(async (_o, cmd: Command) =>
    withContext(cmd, async (ctx, o) => {
      const slug = (o.tenant as string | undefined) ?? process.env.POLYPROV_TENANT;
      const tenants = slug ? [await requireTenant(ctx, slug)] : await ctx.store.listTenants();
      const results: TickResult[] = [];
      for (const t of tenants) results.push(...(await tickRollouts(ctx, t)));
      printTicks(results);
    }),
  );

  for (const [verb, description, run] of [
    ['pause', 'hold a running rollout: no further wave is released', pauseRollout],
    ['resume', 'let a paused rollout go on (it pauses again if its wave is still unhealthy)', resumeRollout],
    ['rollback', 'send every released phone back to the old version', rollBackRollout],
  ] as const) {
    tenantOption(rollout.command(`${verb} <name>`).description(description)).action(async (name: string, _o, cmd: Command) =>
      withTenant(cmd, async (ctx, t) => {
        const r = await run(ctx, t, name);
        process.stdout.write(`rollout ${r.name}: ${r.status}\n`);
      }),
    );
  }

  tenantOption(rollout.command('remove <name>').description('forget a rollout: its phones follow the policy target again')).action(async (name: string, _o, cmd: Command) =>
    withTenant(cmd, async (ctx, t) => {
      await removeRollout(ctx, t, name);
      process.stdout.write(`removed rollout ${name}\n`);
    }),
  );
}
