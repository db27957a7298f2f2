// The console's bundle for browser tests. `npm test` on a clean clone has no bundle (CI does not run
// `npm run build`), so the first browser test builds it; a lock folder keeps two test processes
// (several browser test files run by hand at once) from building into web/dist together.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = new URL('../..', import.meta.url).pathname;
const WEB = join(ROOT, 'web');
const LOCK = join(WEB, '.build-lock');
const WAIT_MS = 150_000;

function newestSourceMtime(dir: string): number {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const s = statSync(p);
    newest = Math.max(newest, s.isDirectory() ? newestSourceMtime(p) : s.mtimeMs);
  }
  return newest;
}

function upToDate(): boolean {
  let builtAt = 0;
  try {
    builtAt = statSync(join(WEB, 'dist', 'index.html')).mtimeMs;
  } catch {
    return false;
  }
  const sourcesAt = Math.max(newestSourceMtime(join(WEB, 'src')), statSync(join(WEB, 'index.html')).mtimeMs, statSync(join(WEB, 'vite.config.ts')).mtimeMs);
  return builtAt > sourcesAt;
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Builds web/dist when it is missing or older than web/src, bounded in time. */
export function ensureConsoleBundle(): void {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    if (upToDate()) return;
    try {
      mkdirSync(LOCK);
      break;
    } catch {
      // Another process builds; a lock older than the wait is left over from a killed run.
      try {
        if (Date.now() - statSync(LOCK).mtimeMs > WAIT_MS) rmSync(LOCK, { recursive: true, force: true });
      } catch {
        /* gone meanwhile */
      }
      assert.ok(Date.now() < deadline, `web/dist was not built within ${WAIT_MS / 1000} s (lock ${LOCK})`);
      sleep(500);
    }
  }
  try {
    if (upToDate()) return;
    const r = spawnSync(process.execPath, [join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', WEB, '--logLevel', 'warn'], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 0, `vite build of the console failed (${r.error?.message ?? ''}):\n${r.stdout}\n${r.stderr}`);
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}
