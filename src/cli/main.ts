#!/usr/bin/env node
import { Command } from 'commander';
import { AdminError } from '../admin/admin-error.js';
import { ConfigError } from '../config.js';
import { DomainError } from '../domain/domain-error.js';
import { ConflictError, NotFoundError } from '../store/errors.js';
import { registerAdminCommands } from './admin-commands.js';
import { registerLogCommands } from './log-commands.js';
import { registerOverrideCommands } from './override-commands.js';
import { registerDirectoryCommands } from './directory-commands.js';
import { registerFirmwareCommands } from './firmware-commands.js';
import { registerRolloutCommands } from './rollout-commands.js';
import { registerResyncCommands } from './resync-commands.js';
import { registerReachSettingsCommands } from './reach-settings-commands.js';
import { registerDhcpCommands } from './dhcp-commands.js';
import { registerImportCommands } from './import-commands.js';
import { registerUserCommands } from './user-commands.js';
import { serve } from './serve.js';

const program = new Command();
program
  .name('polyprov')
  .description('Provisioning server for Poly (Polycom) desk phones.')
  .option('--data <dir>', 'data folder: SQLite database, files, certificate (env POLYPROV_DATA_DIR)', undefined)
  .option('--database-url <url>', 'PostgreSQL URL instead of the embedded SQLite (env POLYPROV_DATABASE_URL)')
  .option('--config <file>', 'JSON config file with the same settings as the flags (env POLYPROV_CONFIG)')
  .showHelpAfterError('(run with --help for usage)');

program
  .command('serve')
  .description('serve phones over HTTP, HTTPS, TFTP, FTP and FTPS (each can be switched off)')
  .option('--host <address>', 'address to listen on (env POLYPROV_HOST)', undefined)
  .option('--public-host <name>', 'host name printed in URLs and put in the self-signed certificate')
  .option('--http-port <port>', 'HTTP port (env POLYPROV_HTTP_PORT; default 8080)')
  .option('--https-port <port>', 'HTTPS port (env POLYPROV_HTTPS_PORT; default 8443)')
  .option('--no-http', 'do not serve plain HTTP')
  .option('--no-https', 'do not serve HTTPS')
  .option('--tls-cert <file>', 'PEM certificate for HTTPS (default: a generated self-signed one)')
  .option('--tls-key <file>', 'PEM private key for --tls-cert')
  .option('--tftp-port <port>', 'TFTP port (env POLYPROV_TFTP_PORT; default 6969; phones expect 69, which needs privileges)')
  .option('--no-tftp', 'do not serve TFTP')
  .option('--tftp-tenant <slug=[host:]port>', "an extra TFTP listener serving one tenant only, e.g. acme=10.0.0.5:69 (repeat for several)", (v: string, prev: string[] = []) => [...prev, v])
  .option('--no-tftp-native', 'run TFTP reads in TypeScript even where the native pump (native/tftp_pump.c) is built')
  .option('--tftp-max-transfers <n>', 'concurrent TFTP transfers per worker; more are told to retry (env POLYPROV_TFTP_MAX_TRANSFERS; default 256)')
  .option('--ftp-port <port>', 'FTP port, with AUTH TLS for explicit FTPS (env POLYPROV_FTP_PORT; default 2121; phones expect 21)')
  .option('--no-ftp', 'do not serve FTP (nor explicit FTPS)')
  .option('--ftps-port <port>', 'implicit FTPS port (env POLYPROV_FTPS_PORT; default 9990; the standard is 990)')
  .option('--no-ftps', 'do not serve implicit FTPS')
  .option('--ftp-passive-ports <low-high>', 'ports for FTP data connections (env POLYPROV_FTP_PASSIVE_PORTS; default 40000-40999); open them in firewalls')
  .option('--ftp-passive-address <ipv4>', 'address given in PASV replies when phones reach the server through NAT (default: the address the phone connected to)')
  .option('--request-client-cert', 'ask phones for their device certificate (read and logged, not yet enforced)')
  .option('--workers <n>', 'worker processes (default: one per core, at most 8)')
  .option('--blob-cache-mb <MiB>', 'recently served files (firmware) kept in memory per worker (env POLYPROV_BLOB_CACHE_MB; default 256; 0: off)')
  .option('--inventory-flush-ms <ms>', 'how often device inventory is written (default 1000)')
  .option('--idle-timeout-ms <ms>', 'close connections that move no byte for this long, e.g. stalled uploads (env POLYPROV_IDLE_TIMEOUT_MS; default 60000)')
  .option('--max-in-flight <n>', 'HTTP(S) requests in progress per worker beyond which phones get 503 with Retry-After, e.g. in a boot storm (env POLYPROV_MAX_IN_FLIGHT; default 1000; 0: never)')
  .option('--retry-after <seconds>', 'Retry-After given with a 503; phones get up to half again at random so they do not return together (env POLYPROV_RETRY_AFTER; default 10)')
  .option('--dhcp-inform <cidr=url>', 'answer DHCPINFORMs from phones in CIDR with URL in options 66/160/161, e.g. 10.1.0.0/16=https://prov.example.com:8443/ (repeat for several; needs port 67, so root or CAP_NET_BIND_SERVICE)', (v: string, prev: string[] = []) => [...prev, v])
  .option('--dhcp-inform-host <ipv4>', 'address the DHCPINFORM responder binds (env POLYPROV_DHCP_INFORM_HOST; default 0.0.0.0)')
  .option('--dhcp-inform-port <port>', 'DHCPINFORM port (env POLYPROV_DHCP_INFORM_PORT; default 67)')
  .option('--dhcp-inform-server-id <ipv4>', "this host's IPv4 address as phones reach it, put in the answers (default: --public-host if it is one, else the first non-loopback address)")
  .option('--admin-port <port>', 'admin REST API and its docs, /api/v1 and /api/v1/docs (env POLYPROV_ADMIN_PORT; default 8088)')
  .option('--no-admin', 'do not serve the admin API')
  .option('--admin-host <address>', 'address the admin API listens on (env POLYPROV_ADMIN_HOST; default 127.0.0.1: local only)')
  .option('--firmware-max-unpacked-mib <MiB>', 'refuse a release zip uploaded through the API that unpacks to more than this (env POLYPROV_FIRMWARE_MAX_UNPACKED_MIB; default 2048)')
  .option('--firmware-max-files <count>', 'refuse a release zip uploaded through the API holding more files than this (env POLYPROV_FIRMWARE_MAX_FILES; default 10000)')
  .option('--admin-tls', "serve the console and admin API over HTTPS with the HTTPS edge's certificate (--tls-cert/--tls-key, else the generated one); needed before --admin-host leaves loopback (env POLYPROV_ADMIN_TLS)")
  .option('--log-level <level>', 'fatal, error, warn, info, debug or trace (default info)')
  .option('--demo', 'create a demo tenant when there is none, and print its credentials')
  .action(async (_opts, cmd: Command) => {
    // Only flags given on the command line: commander fills in `true` for every --no-* switch, which
    // would otherwise beat "tftp": false in a config file or the environment (flags > env > file).
    const given = Object.entries(cmd.optsWithGlobals()).filter(([key]) => cmd.getOptionValueSourceWithGlobals(key) !== 'default');
    await serve(Object.fromEntries(given));
  });

registerAdminCommands(program);
registerLogCommands(program);
registerOverrideCommands(program);
registerDirectoryCommands(program);
registerFirmwareCommands(program);
registerRolloutCommands(program);
registerResyncCommands(program);
registerReachSettingsCommands(program);
registerDhcpCommands(program);
registerImportCommands(program);
registerUserCommands(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof AdminError || err instanceof DomainError || err instanceof ConflictError || err instanceof NotFoundError || err instanceof ConfigError) {
    process.stderr.write(`polyprov: ${err.message}\n`);
    process.exit(1);
  }
  process.stderr.write(`polyprov: unexpected error: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(2);
});

