import type { Command } from 'commander';
import { AdminError } from '../admin/admin-error.js';
import { tenantBootOptions, tenantDhcpConfig, type BootServerRequest } from '../admin/dhcp.js';
import type { BootProtocol } from '../domain/dhcp-boot-options.js';
import { tenantOption, withTenant, type Opts } from './admin-commands.js';

// polyprov dhcp …: what to give phones so they find this server (fact sheet §8).

function bootOptionsOf(c: Command): Command {
  return c
    .requiredOption('--host <name>', 'the name or address phones reach this server at')
    .option('--protocol <protocol>', 'http, https, ftp, ftps or tftp', 'https')
    .option('--port <port>', "the server's port for that protocol, when it is not the standard one (e.g. 8443 for polyprov's default HTTPS)")
    .option('--password <password>', "put the tenant's user name and this password in the URL (polyprov stores only a hash of it)")
    .option('--factory', 'put the factory login PlcmSpIp/PlcmSpIp in the URL (the tenant must accept it)');
}

function request(o: Opts): BootServerRequest {
  const protocol = o.protocol as string;
  if (!['http', 'https', 'ftp', 'ftps', 'tftp'].includes(protocol)) throw new AdminError(`invalid --protocol "${protocol}": expected http, https, ftp, ftps or tftp`);
  if (o.password !== undefined && o.factory) throw new AdminError('give --password or --factory, not both');
  const port = o.port === undefined ? undefined : Number(o.port);
  if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536)) throw new AdminError(`invalid --port "${String(o.port)}": expected 1-65535`);
  return {
    protocol: protocol as BootProtocol,
    host: o.host as string,
    ...(port !== undefined ? { port } : {}),
    credentials: o.password !== undefined ? 'tenant' : o.factory ? 'factory' : 'none',
    ...(o.password !== undefined ? { password: o.password as string } : {}),
  };
}

export function registerDhcpCommands(program: Command): void {
  const dhcp = program.command('dhcp').description('DHCP options 66/160/161 and ready-to-paste DHCP server configuration for a tenant');

  tenantOption(bootOptionsOf(dhcp.command('options').description('the boot-server URL for options 66, 160 and 161, and why it looks as it does').option('--json', 'print JSON'))).action(
    async (_o, cmd: Command) =>
      withTenant(cmd, async (_ctx, t, o) => {
        const b = tenantBootOptions(t, request(o));
        if (o.json) return void process.stdout.write(JSON.stringify(b, null, 2) + '\n');
        process.stdout.write(`option 66:  ${b.option66}\noption 160: ${b.option160}\noption 161: ${b.option161}\n\n${b.notes.map((n) => `- ${n}`).join('\n')}\n`);
      }),
  );

  tenantOption(
    bootOptionsOf(
      dhcp
        .command('config')
        .description('configuration for ISC dhcpd, Kea, dnsmasq or Windows Server that gives Poly phones (and only them) these options')
        .requiredOption('--server <kind>', 'isc, kea, dnsmasq or windows')
        .option('--match <how>', "oui (the phones' MAC prefixes) or option60 (the vendor class the phones send)", 'oui')
        .option('--subnet <cidr>', "the phones' IPv4 subnet, for servers whose file needs one"),
    ),
  ).action(async (_o, cmd: Command) =>
    withTenant(cmd, async (_ctx, t, o) => {
      const server = o.server as string;
      if (!['isc', 'kea', 'dnsmasq', 'windows'].includes(server)) throw new AdminError(`invalid --server "${server}": expected isc, kea, dnsmasq or windows`);
      const match = o.match as string;
      if (match !== 'oui' && match !== 'option60') throw new AdminError(`invalid --match "${match}": expected oui or option60`);
      process.stdout.write(
        tenantDhcpConfig(t, { ...request(o), server: server as 'isc', match, ...(o.subnet ? { subnet: o.subnet as string } : {}) }),
      );
    }),
  );
}
