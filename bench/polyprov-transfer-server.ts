import { listeningPort, runCommand, startServer, type Server } from './processes.js';
import { serverEnv } from './bench-progress.js';

// polyprov for the transfer benches: the tenant is set up with the real `polyprov` command line,
// and `polyprov serve` runs with only the protocol under test switched on.

export const TENANT = 'bench';
/** FTP user name: a tenant's user name defaults to its slug. */
export const FTP_USER = TENANT;
export const PASSWORD = 'bench-transfer-pw-1';

const CLI_LIMIT_MS = 120_000;

/** `polyprov --data DIR <args>`; throws with its output when it fails. */
export async function polyprovCli(dataDir: string, args: string[]): Promise<string> {
  const r = await runCommand(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', '--data', dataDir, ...args], CLI_LIMIT_MS);
  if (r.code !== 0) {
    const why = r.timedOut ? `did not finish within ${CLI_LIMIT_MS / 1000} s` : `exited with ${r.code ?? r.signal}`;
    throw new Error(`polyprov ${args.join(' ')} ${why}:\n${r.stderr || r.stdout}`);
  }
  return r.stdout;
}

/**
 * A tenant that loopback TFTP clients reach by their subnet and FTP clients by its user name and
 * password, with `files` (tree path → local file) in its tree and `devices` registered.
 */
export async function setUpTenant(dataDir: string, files: Record<string, string>, devices: string[] = []): Promise<void> {
  await polyprovCli(dataDir, ['tenant', 'add', TENANT, '--password', PASSWORD, '--tftp-subnets', '127.0.0.0/8']);
  for (const [treePath, local] of Object.entries(files)) await polyprovCli(dataDir, ['file', 'add', '-t', TENANT, treePath, local]);
  for (const mac of devices) await polyprovCli(dataDir, ['device', 'add', '-t', TENANT, mac]);
}

export type TransferProtocol = 'http' | 'tftp' | 'ftp';

/** Every edge but `protocol` is switched off; `extraArgs` are its own flags (port ranges…). */
export function startPolyprov(protocol: TransferProtocol, dataDir: string, workers: number, extraArgs: string[] = []): Promise<Server> {
  const off = (['http', 'https', 'tftp', 'ftp', 'ftps'] as const).filter((p) => p !== protocol).map((p) => `--no-${p}`);
  return startServer({
    name: `polyprov --workers ${workers}`,
    args: ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--data', dataDir, '--host', '127.0.0.1', `--${protocol}-port`, '0', ...off, '--no-admin', '--workers', String(workers), '--log-level', 'warn', ...extraArgs],
    env: serverEnv(),
    // With one worker its JSON "listening" line (level info: not printed at warn) or the banner;
    // with several, only the banner, which the primary prints once every worker listens.
    readyWhen: (line) => listeningPort(line, protocol, workers === 1),
  });
}
