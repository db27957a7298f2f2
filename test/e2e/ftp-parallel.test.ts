import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { curlAsync } from '../support/curl-async.js';
import { basicFtp, download, FTP_MODES, sha256, source, type FtpMode } from '../support/ftp-clients.js';
import { cli, startServer, tempDir, type ServerProcess } from '../support/server-process.js';

// Many phones boot at once after a power cut. 25 sessions per mode at the same time, each logging
// in, fetching an image and appending to its own log. Explicit FTPS runs several rounds: it is
// where a server that switches to TLS a moment late (ftp-srv) loses most handshakes.

const PASSWORD = 'acme-ftp-pw-2';
const IMAGE = randomBytes(512 * 1024 + 3);
const SESSIONS = 25;
const ROUNDS: Record<FtpMode, number> = { plain: 1, explicit: 3, implicit: 1 };

let server: ServerProcess;

before(async () => {
  const scratch = tempDir();
  server = await startServer();
  const added = cli(server.dataDir, ['tenant', 'add', 'acme', '--password', PASSWORD]);
  assert.equal(added.code, 0, added.stderr);
  const image = join(scratch, 'image');
  writeFileSync(image, IMAGE);
  const file = cli(server.dataDir, ['file', 'add', 'sip.ld', image]);
  rmSync(scratch, { recursive: true, force: true });
  assert.equal(file.code, 0, file.stderr);
});
after(async () => {
  await server?.stop();
});

async function phone(mode: FtpMode, round: number, i: number): Promise<{ mac: string; line: string }> {
  const mac = `0004f2${(FTP_MODES.indexOf(mode) + 1).toString(16)}${round.toString(16)}${i.toString(16).padStart(4, '0')}`;
  const line = `0101 00:00:0${round}|app|${mode} round ${round} phone ${i}\n`;
  const client = await basicFtp(mode, server, 'acme', PASSWORD);
  try {
    const image = await download(client, 'sip.ld');
    assert.equal(sha256(image), sha256(IMAGE), `${mode} phone ${i}: image`);
    await client.appendFrom(source(line), `logs/${mac}-app.log`);
    assert.equal((await download(client, `logs/${mac}-app.log`)).toString(), line, `${mode} phone ${i}: log back over FTP`);
  } finally {
    client.close();
  }
  return { mac, line };
}

describe('25 sessions at once', () => {
  for (const mode of FTP_MODES) {
    test(`${mode}: every session logs in, fetches the image and appends to its log, byte for byte`, async () => {
      for (let round = 1; round <= ROUNDS[mode]; round++) {
        const results = await Promise.allSettled(Array.from({ length: SESSIONS }, (_, i) => phone(mode, round, i)));
        const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [`phone ${i}: ${(r.reason as Error).message}`] : []));
        assert.deepEqual(failed, [], `${mode} round ${round}: ${failed.length} of ${SESSIONS} sessions failed`);
        // And what FTP stored is what HTTP serves: checked for a few phones of each round.
        for (const r of results.slice(0, 3)) {
          const { mac, line } = (r as PromiseFulfilledResult<{ mac: string; line: string }>).value;
          const back = await curlAsync(`${server.httpUrl}/logs/${mac}-app.log`, ['-u', `acme:${PASSWORD}`]);
          assert.equal(back.text, line);
        }
      }
    });
  }
});
