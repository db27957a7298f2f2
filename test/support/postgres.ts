// A private, throwaway PostgreSQL cluster for tests: initdb into a fresh temp dir, start it on
// 127.0.0.1 with a free high port (unix socket in the temp dir), create a database, hand back its
// URL. Nothing here touches a system cluster.
//
// initdb and postgres refuse to run as root; this machine and CI run as root, so then they run
// as the `postgres` user (created by Debian's postgresql package) via runuser, in a temp dir that
// user owns.

import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const execFileP = promisify(execFile);

export interface ThrowawayPostgres {
  /** `postgres://postgres@127.0.0.1:<port>/polyprov_test` */
  url: string;
  /** Superuser URL of the cluster's `postgres` database, for creating more databases. */
  adminUrl: string;
  port: number;
  /** Milliseconds from initdb to a ready server with the database created. */
  startupMs: number;
  stop(): Promise<void>;
}

const READY_TIMEOUT_S = 20;
const DB_NAME = 'polyprov_test';

export function findPostgresBinDir(): string {
  const candidates: string[] = [];
  try {
    const out = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    if (out) candidates.push(out);
  } catch {
    // no pg_config (it comes with libpq-dev); fall back to Debian's layout
  }
  const base = '/usr/lib/postgresql';
  if (existsSync(base)) {
    const versions = readdirSync(base)
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    for (const v of versions) candidates.push(join(base, v, 'bin'));
  }
  for (const dir of candidates) {
    if (existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl'))) return dir;
  }
  throw new Error(
    'PostgreSQL server binaries (initdb, pg_ctl) not found (looked at `pg_config --bindir` and /usr/lib/postgresql/*/bin). ' +
      'Install the Debian package `postgresql` (apt-get install -y postgresql; CI\'s .ci/run installs it).',
  );
}

function asRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** Runs a PostgreSQL binary, as the `postgres` user when we are root. */
function pgCommand(bin: string, args: string[]): [string, string[]] {
  return asRoot() ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
}

function postgresUserIds(): { uid: number; gid: number } {
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch {
    throw new Error(
      'running as root, but there is no `postgres` user to run PostgreSQL as. Install the Debian package `postgresql` (it creates the user).',
    );
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function run(bin: string, args: string[], timeoutMs: number): Promise<void> {
  const [cmd, argv] = pgCommand(bin, args);
  try {
    await execFileP(cmd, argv, { timeout: timeoutMs, killSignal: 'SIGKILL' });
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string };
    throw new Error(`${[bin, ...args].join(' ')} failed: ${e.message}\n${e.stderr ?? ''}${e.stdout ?? ''}`);
  }
}

async function waitReady(adminUrl: string, deadline: number, logFile: string): Promise<void> {
  let lastErr: unknown;
  while (Date.now() < deadline) {
    const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 1000 });
    try {
      await client.connect();
      await client.query('select 1');
      return;
    } catch (err) {
      lastErr = err;
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      await client.end().catch(() => undefined);
    }
  }
  let log = '';
  try {
    log = readFileSync(logFile, 'utf8').slice(-2000);
  } catch {
    // no log
  }
  throw new Error(`throwaway PostgreSQL not ready after ${READY_TIMEOUT_S} s: ${String(lastErr)}\n${log}`);
}

export async function startThrowawayPostgres(): Promise<ThrowawayPostgres> {
  const started = Date.now();
  const deadline = started + READY_TIMEOUT_S * 1000;
  const bin = findPostgresBinDir();
  const dir = mkdtempSync(join(tmpdir(), 'polyprov-pg-'));
  if (asRoot()) {
    const { uid, gid } = postgresUserIds();
    chownSync(dir, uid, gid);
  }
  const dataDir = join(dir, 'data');
  const logFile = join(dir, 'postgres.log');
  const pgCtl = join(bin, 'pg_ctl');
  let running = false;

  const stopSync = (): void => {
    if (running) {
      try {
        const [cmd, argv] = pgCommand(pgCtl, ['stop', '-D', dataDir, '-m', 'immediate', '-w', '-t', '10']);
        execFileSync(cmd, argv, { stdio: 'ignore', timeout: 15_000 });
      } catch {
        // already gone
      }
      running = false;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  // If the test process dies without calling stop(), do not leave a postgres behind.
  process.once('exit', stopSync);

  try {
    await run(
      join(bin, 'initdb'),
      ['-D', dataDir, '-A', 'trust', '--no-sync', '-U', 'postgres', '-E', 'UTF8', '--locale=C.UTF-8', '--no-instructions'],
      Math.max(1000, deadline - Date.now()),
    );
    let port = 0;
    // Another process may grab the port between freePort() and postgres binding it: retry.
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      const opts = `-p ${port} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c listen_addresses=127.0.0.1 -k ${dir}`;
      try {
        await run(pgCtl, ['start', '-D', dataDir, '-l', logFile, '-o', opts, '-w', '-t', String(READY_TIMEOUT_S)], READY_TIMEOUT_S * 1000 + 5000);
        running = true;
        break;
      } catch (err) {
        if (attempt >= 3 || Date.now() > deadline) throw err;
      }
    }
    const adminUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
    await waitReady(adminUrl, deadline, logFile);
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    try {
      await client.query(`create database ${DB_NAME}`);
    } finally {
      await client.end();
    }
    return {
      url: `postgres://postgres@127.0.0.1:${port}/${DB_NAME}`,
      adminUrl,
      port,
      startupMs: Date.now() - started,
      async stop() {
        process.removeListener('exit', stopSync);
        if (running) {
          await run(pgCtl, ['stop', '-D', dataDir, '-m', 'immediate', '-w', '-t', '10'], 15_000).catch(() => undefined);
          running = false;
        }
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    process.removeListener('exit', stopSync);
    stopSync();
    throw err;
  }
}
