import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface CurlResult {
  status: number;
  headers: Record<string, string>;
  /** The final response's header block as sent (repeated headers kept). */
  rawHeaders: string;
  body: Buffer;
  text: string;
}

/**
 * One request with the real curl (libcurl, as in the phone). `args` are extra curl arguments:
 * -u, --digest, -A, -X, -H, -r, --path-as-is…
 */
export function curl(url: string, args: string[] = []): CurlResult {
  // Headers go to a file: curl 7.88 crashes writing -D to a pipe.
  const dir = mkdtempSync(join(tmpdir(), 'curl-'));
  const headerFile = join(dir, 'headers');
  const r = spawnSync('curl', ['-sS', '-k', '--max-time', '10', '-D', headerFile, '-o', '-', ...args, url], { maxBuffer: 256 * 1024 * 1024, timeout: 20_000 });
  let headerText = '';
  try {
    headerText = readFileSync(headerFile, 'latin1');
  } catch {
    /* no response at all */
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (r.error) throw r.error;
  // With --digest curl prints the 401 then the final response: keep the last header block.
  const blocks = headerText.split(/\r?\n\r?\n/).filter((b) => /^HTTP\//.test(b.trim()));
  const last = blocks[blocks.length - 1] ?? '';
  const lines = last.trim().split(/\r?\n/);
  const status = Number(/^HTTP\/[\d.]+ (\d{3})/.exec(lines[0] ?? '')?.[1] ?? 0);
  if (!status) throw new Error(`curl gave no HTTP status (exit ${r.status}): ${r.stderr.toString()}`);
  const headers: Record<string, string> = {};
  for (const l of lines.slice(1)) {
    const i = l.indexOf(':');
    if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  return { status, headers, rawHeaders: last, body: r.stdout, text: r.stdout.toString('utf8') };
}
