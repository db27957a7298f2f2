import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CurlResult } from './curl.js';

/**
 * The same as curl() in curl.ts, but without blocking the event loop, so a test can run several
 * real curl processes at once.
 */
export async function curlAsync(url: string, args: string[] = []): Promise<CurlResult> {
  // Headers go to a file: curl 7.88 crashes writing -D to a pipe.
  const dir = await mkdtemp(join(tmpdir(), 'curl-'));
  const headerFile = join(dir, 'headers');
  try {
    const { stdout, stderr, code } = await new Promise<{ stdout: Buffer; stderr: string; code: number | null }>((resolve, reject) => {
      execFile(
        'curl',
        ['-sS', '-k', '--max-time', '10', '-D', headerFile, '-o', '-', ...args, url],
        { encoding: 'buffer', maxBuffer: 256 * 1024 * 1024, timeout: 20_000 },
        (err, stdout, stderr) => {
          if (err && typeof (err as NodeJS.ErrnoException).code === 'string') return reject(err);
          resolve({ stdout, stderr: stderr.toString(), code: err ? ((err as { code?: number }).code ?? null) : 0 });
        },
      );
    });
    const headerText = await readFile(headerFile, 'latin1').catch(() => '');
    const blocks = headerText.split(/\r?\n\r?\n/).filter((b) => /^HTTP\//.test(b.trim()));
    const last = blocks[blocks.length - 1] ?? '';
    const lines = last.trim().split(/\r?\n/);
    const status = Number(/^HTTP\/[\d.]+ (\d{3})/.exec(lines[0] ?? '')?.[1] ?? 0);
    if (!status) throw new Error(`curl gave no HTTP status (exit ${code}): ${stderr}`);
    const headers: Record<string, string> = {};
    for (const l of lines.slice(1)) {
      const i = l.indexOf(':');
      if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
    }
    return { status, headers, rawHeaders: last, body: stdout, text: stdout.toString('utf8') };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
