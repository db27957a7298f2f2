import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { AdminError } from '../admin/admin-error.js';
import { disableBootstrap, enableBootstrap } from '../admin/bootstrap.js';
import { setPolling, unsetPolling } from '../admin/polling.js';
import { clearNotifyConfig, disablePush, enablePush, setCheckSyncBehaviour, setNotifyConfig } from '../admin/reach-settings.js';
import { loadConfig } from '../config.js';
import { isSecretParameter } from '../domain/secret-parameters.js';
import { scopeOptions, selector, tenantOption, withTenant, type Opts } from './admin-commands.js';

// The policy behind reaching phones: where NOTIFYs go and what check-sync does, the Push API,
// polling windows, and the plain-HTTP → HTTPS bootstrap. Each writes parameters of one layer
// (the tenant's unless --model, --site, --group or --device), so `explain` shows them.

function printSet(params: Record<string, string>): void {
  for (const [name, value] of Object.entries(params)) {
    const shown = isSecretParameter(name) ? '********' : name === 'device.sec.TLS.customCaCert1' ? '(PEM certificate)' : value;
    process.stdout.write(`set ${name}=${shown}\n`);
  }
}

function boolOption(o: Opts, name: string): boolean | undefined {
  return o[name] === undefined ? undefined : o[name] === true;
}

export function registerReachSettingsCommands(program: Command): void {
  const notify = program.command('notify').description('where check-sync NOTIFYs go, and what phones do when they get one');
  tenantOption(
    scopeOptions(
      notify
        .command('config')
        .description("send NOTIFYs through a PBX or SBC instead of straight to the phone's last address, with Digest credentials if it challenges")
        .option('--target <host[:port]>', 'PBX/SBC that relays NOTIFYs (default: the address the phone last fetched a file from, port 5060)')
        .option('--transport <udp|tcp|tls>', 'SIP transport (default udp; tls uses port 5061 unless given)')
        .option('--request-uri <template>', 'Request-URI per phone, with {user} (user part of reg.1.address), {host}, {port}, {ip}, {mac}; default sip:{user}@{host}:{port}')
        .option('--username <name>', 'Digest user name for a 401/407 challenge')
        .option('--password <secret>', 'Digest password for a 401/407 challenge'),
    ),
  ).action(async (_o, cmd: Command) =>
    withTenant(cmd, async (ctx, t, o) => {
      printSet(
        await setNotifyConfig(ctx, t, selector(o), {
          ...(o.target !== undefined ? { target: o.target as string } : {}),
          ...(o.transport !== undefined ? { transport: o.transport as string } : {}),
          ...(o.requestUri !== undefined ? { requestUri: o.requestUri as string } : {}),
          ...(o.username !== undefined ? { username: o.username as string } : {}),
          ...(o.password !== undefined ? { password: o.password as string } : {}),
        }),
      );
    }),
  );
  tenantOption(scopeOptions(notify.command('clear').description("remove a layer's NOTIFY settings"))).action(async (_o, cmd: Command) =>
    withTenant(cmd, async (ctx, t, o) => {
      process.stdout.write((await clearNotifyConfig(ctx, t, selector(o))) ? 'NOTIFY settings removed\n' : 'this layer had no NOTIFY settings\n');
    }),
  );
  tenantOption(
    scopeOptions(
      notify
        .command('behaviour')
        .alias('behavior')
        .description('what a phone does on check-sync (sets voIpProt.SIP.specialEvent.checkSync.*)')
        .option('--always-reboot', 'reboot on every check-sync, even when no file changed (alwaysReboot="1"; the way to restart phones remotely)')
        .option('--no-always-reboot', 'reboot only when the files changed and the changed parameters need it (the stock default)')
        .option('--directory', 'also re-read the contact directory (downloadDirectory="1")')
        .option('--no-directory', 'leave the contact directory alone (the stock default)')
        .option('--call-list', 'also re-read the call list (downloadCallList="1")')
        .option('--no-call-list', 'leave the call list alone (the stock default)')
        .addHelpText(
          'after',
          '\nPolycom phones ignore a "reboot=" parameter on the Event header (that is the Snom/Yealink convention),\nso polyprov always sends plain "Event: check-sync" and reboots are decided by this policy.',
        ),
    ),
  ).action(async (_o, cmd: Command) =>
    withTenant(cmd, async (ctx, t, o) => {
      // commander sets the --no-* defaults to true: only flags actually given count.
      const given = (k: string) => (cmd.getOptionValueSource(k) === 'cli' ? boolOption(o, k) : undefined);
      const b = { alwaysReboot: given('alwaysReboot'), directory: given('directory'), callList: given('callList') };
      printSet(await setCheckSyncBehaviour(ctx, t, selector(o), Object.fromEntries(Object.entries(b).filter(([, v]) => v !== undefined))));
    }),
  );

  const push = program.command('push').description("the phones' Push API, which resync --via push uses");
  tenantOption(
    scopeOptions(
      push
        .command('enable')
        .description('turn on the Push API (web server, every message priority) with the credentials phones will challenge for')
        .requiredOption('--username <name>', 'apps.push.username')
        .requiredOption('--password <secret>', 'apps.push.password')
        .option('--url <template>', "where to POST, with {ip} and {mac} (default https://{ip}/push; an http:// URL also lifts apps.push.secureTunnelRequired)"),
    ),
  ).action(async (_o, cmd: Command) =>
    withTenant(cmd, async (ctx, t, o) => {
      printSet(await enablePush(ctx, t, selector(o), { username: o.username as string, password: o.password as string, ...(o.url !== undefined ? { urlTemplate: o.url as string } : {}) }));
    }),
  );
  tenantOption(scopeOptions(push.command('disable').description("remove a layer's Push API settings"))).action(async (_o, cmd: Command) =>
    withTenant(cmd, async (ctx, t, o) => {
      process.stdout.write((await disablePush(ctx, t, selector(o))) ? 'Push API settings removed\n' : 'this layer had no Push API settings\n');
    }),
  );

  const polling = program.command('polling').description('phones re-read their configuration on a schedule (prov.polling.*), spread over a window');
  tenantOption(
    scopeOptions(
      polling
        .command('set')
        .description("poll once a day (or every --period) at a minute of the window chosen per phone from its MAC, so a tenant's phones never poll in the same minute")
        .requiredOption('--window <HH:MM-HH:MM>', "the phones' local time window, e.g. 01:00-05:00 (may wrap past midnight)")
        .option('--period <seconds>', 'seconds between polls, over 3600; over a day, the phone picks the day from its MAC', '86400')
        .option('--phone-random', 'let the phone draw a new time in the window at every boot (prov.polling.mode="random", UCS 4.0+) instead of a fixed minute per MAC'),
    ),
  ).action(async (_o, cmd: Command) =>
    withTenant(cmd, async (ctx, t, o) => {
      const period = Number(o.period);
      const r = await setPolling(ctx, t, selector(o), { window: o.window as string, periodSeconds: period, mode: o.phoneRandom ? 'phone-random' : 'window' });
      printSet(r.parameters);
      if (r.busiestMinute) process.stdout.write(`${r.devices} device(s) of this layer; the busiest minute is ${r.busiestMinute.time} with ${r.busiestMinute.phones} phone(s)\n`);
    }),
  );
  tenantOption(scopeOptions(polling.command('unset').description("remove a layer's polling plan"))).action(async (_o, cmd: Command) =>
    withTenant(cmd, async (ctx, t, o) => {
      process.stdout.write((await unsetPolling(ctx, t, selector(o))) ? 'polling plan removed\n' : 'this layer had no polling plan\n');
    }),
  );

  const bootstrap = program.command('bootstrap').description('move new phones from plain HTTP to HTTPS (two-stage bootstrap)');
  tenantOption(
    bootstrap
      .command('enable')
      .description('phones asking over plain HTTP get only device.prov.serverType/serverName and the CA to trust; files with secrets are refused there')
      .requiredOption('--url <https-url>', "where phones go next, e.g. https://prov.example.com:8443/ (add the tenant's path prefix if it has one)")
      .option('--ca <pem-file>', "the CA that issued the HTTPS certificate (default: the data folder's generated self-signed certificate)"),
  ).action(async (_o, cmd: Command) =>
    withTenant(cmd, async (ctx, t, o) => {
      const dataDir = loadConfig({ data: o.data as string | undefined, config: o.config as string | undefined }).dataDir;
      const file = (o.ca as string | undefined) ?? join(dataDir, 'tls', 'self-signed.crt');
      let caPem: string;
      try {
        caPem = await readFile(file, 'utf8');
      } catch (err) {
        throw new AdminError(
          o.ca
            ? `cannot read --ca ${file}: ${(err as Error).message}`
            : `no generated certificate at ${file} (start "polyprov serve" once, or give --ca with the CA of your own certificate)`,
        );
      }
      printSet(await enableBootstrap(ctx, t, { url: o.url as string, caPem }));
    }),
  );
  tenantOption(
    bootstrap
      .command('disable')
      .description('serve full configurations over plain HTTP again')
      .option('--forget', 'also remove device.prov.serverType/serverName and the CA from the configuration'),
  ).action(async (_o, cmd: Command) =>
    withTenant(cmd, async (ctx, t, o) => {
      process.stdout.write((await disableBootstrap(ctx, t, { forget: o.forget === true })) ? 'bootstrap disabled\n' : 'the tenant had no bootstrap\n');
    }),
  );
}
