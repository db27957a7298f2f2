// Resync by SIP NOTIFY check-sync as an administrator runs it: real `polyprov serve` records where
// each phone fetched its configuration from, then the real `polyprov resync` command line sends
// the NOTIFYs to a UDP "phone" in this test process, which parses each one and answers per MAC.
// The CLI runs as a child process (spawn, not spawnSync), so the phone keeps answering meanwhile.

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { AdminContext } from '../../src/admin/admin-context.js';
import { addDevice } from '../../src/admin/structure.js';
import { addTenant } from '../../src/admin/tenants.js';
import { openAdminContext } from '../../src/app.js';
import type { ReachJob, ReachResult, Tenant } from '../../src/store/store.js';
import { cliAsync, spawnCli, type CliExit, type RunningCli } from '../support/cli-async.js';
import { curlAsync } from '../support/curl-async.js';
import { startServer, tempDir, type ServerProcess } from '../support/server-process.js';
import { phoneResponse, readRequest } from '../support/sipp.js';
import { waitFor } from '../support/wait-for.js';
import { configParameters } from '../support/config-parameters.js';

const ua = (mac: string) => `FileTransport PolycomVVX-VVX_450-UA/6.4.6.2163 (SN:${mac}) Type/Application`;
const macs = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `0004f2${prefix}${String(i + 1).padStart(4, '0')}`);

const TRIO = macs('01', 3);
const [OK_MAC, BUSY_MAC, SILENT_MAC] = TRIO as [string, string, string];
const DIGEST_MAC = '0004f2020001';
const BULK = macs('03', 12);
const NEVER_SEEN = '0004f2040001';

let server: ServerProcess;
let ctx: AdminContext;
let dataDir: string;
const tenants: Record<string, Tenant> = {};
const passwords: Record<string, string> = {};

/** One NOTIFY as the phone received it. */
interface Received {
  text: string;
  requestLine: string;
  requestUri: string;
  headers: Map<string, string>;
  /** The MAC named by the Request-URI's user part (sip:{mac}@host:port). */
  mac: string;
  callId: string;
  branch: string;
}

/**
 * A SIP phone (or the PBX in front of phones) on a random loopback UDP port: records every NOTIFY
 * and answers what `answer` says (a status and extra headers, or nothing at all).
 */
class UdpPhone {
  readonly received: Received[] = [];
  private constructor(
    private readonly socket: Socket,
    readonly port: number,
  ) {}

  static async start(answer: (r: Received) => { status: number; reason: string; headers?: string[] } | null): Promise<UdpPhone> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, '127.0.0.1', () => resolve());
    });
    const phone = new UdpPhone(socket, socket.address().port);
    socket.on('message', (buf: Buffer, from: RemoteInfo) => {
      const text = buf.toString('utf8');
      const { requestLine, headers } = readRequest(text);
      const requestUri = /^NOTIFY (\S+) SIP\/2\.0$/.exec(requestLine)?.[1] ?? '';
      const r: Received = {
        text,
        requestLine,
        requestUri,
        headers,
        mac: /^sip:([0-9a-f]{12})@/.exec(requestUri)?.[1] ?? '',
        callId: headers.get('call-id') ?? '',
        branch: /;\s*branch=([^;\s]+)/.exec(headers.get('via') ?? '')?.[1] ?? '',
      };
      phone.received.push(r);
      const a = answer(r);
      if (a) socket.send(phoneResponse(text, a.status, a.reason, a.headers ?? []), from.port, from.address);
    });
    return phone;
  }

  /** Distinct Call-IDs (transactions, not retransmissions) per MAC. */
  callIdsByMac(): Map<string, Set<string>> {
    const out = new Map<string, Set<string>>();
    for (const r of this.received) {
      if (!out.has(r.mac)) out.set(r.mac, new Set());
      out.get(r.mac)!.add(r.callId);
    }
    return out;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}


/** Fetches the device's configuration as the phone does; that records the address it asked from. */
async function fetchConfig(slug: string, mac: string) {
  const r = await curlAsync(`${server.httpUrl}/${mac}-polyprov.cfg`, ['-u', `${slug}:${passwords[slug]}`, '-A', ua(mac)]);
  assert.equal(r.status, 200, `config of ${mac}: ${r.text}`);
  return r;
}

async function waitForLastIp(slug: string, wanted: string[]): Promise<void> {
  await waitFor(
    `the inventory to record the last address of ${wanted.length} device(s)`,
    async () => {
      const devices = await ctx.store.listDevices(tenants[slug]!.id);
      const withIp = devices.filter((d) => wanted.includes(d.mac) && d.lastIp !== null);
      return withIp.length === wanted.length ? withIp : undefined;
    },
    10_000,
  );
}

function ok(r: CliExit, args: string[], code = 0): CliExit {
  assert.equal(r.code, code, `polyprov ${args.join(' ')} exited ${r.code}, expected ${code}:\n${r.stderr}${r.stdout}`);
  return r;
}

async function run(args: string[], code = 0): Promise<CliExit> {
  return ok(await cliAsync(server.dataDir, args), args, code);
}

async function refused(args: string[], message: RegExp): Promise<CliExit> {
  const r = await cliAsync(server.dataDir, args);
  assert.equal(r.code, 1, `polyprov ${args.join(' ')} should be refused with exit 1, got ${r.code}:\n${r.stderr}${r.stdout}`);
  assert.match(r.stderr, /^polyprov: /);
  assert.doesNotMatch(r.stderr, /unexpected error|\n\s+at /, `a clean message, not a stack trace:\n${r.stderr}`);
  assert.match(r.stderr, message);
  return r;
}

async function results(slug: string): Promise<Map<string, ReachResult>> {
  const rows = JSON.parse((await run(['resync', 'results', '--json', '-t', slug])).stdout) as ReachResult[];
  return new Map(rows.map((r) => [r.mac, r]));
}

async function jobs(slug: string): Promise<ReachJob[]> {
  return JSON.parse((await run(['resync', 'list', '--json', '-t', slug])).stdout) as ReachJob[];
}

const md5 = (s: string) => createHash('md5').update(s).digest('hex');

/** The auth-params of a Digest header value, unquoted. */
function digestParams(header: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of header.replace(/^\s*Digest\s+/i, '').matchAll(/([A-Za-z0-9-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]+))/g)) {
    out.set(m[1]!.toLowerCase(), m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3]!);
  }
  return out;
}

before(async () => {
  dataDir = tempDir();
  ctx = await openAdminContext({ dataDir });
  for (const slug of ['trio', 'digest', 'bulk', 'blind']) {
    passwords[slug] = `${slug}-pw-${randomBytes(4).toString('hex')}`;
    tenants[slug] = (await addTenant(ctx, slug, { password: passwords[slug] })).tenant;
  }
  const register = async (slug: string, list: string[]) => {
    for (const mac of list) await addDevice(ctx, tenants[slug]!, mac, {});
  };
  await register('trio', TRIO);
  await register('digest', [DIGEST_MAC]);
  await register('bulk', BULK);
  await register('blind', [NEVER_SEEN]);
  server = await startServer({ dataDir, args: ['--no-tftp', '--no-ftp', '--no-ftps'] });
  // Every phone but the blind one has fetched its configuration, so its address is known.
  await Promise.all([...TRIO.map((m) => fetchConfig('trio', m)), fetchConfig('digest', DIGEST_MAC), ...BULK.map((m) => fetchConfig('bulk', m))]);
  await Promise.all([waitForLastIp('trio', TRIO), waitForLastIp('digest', [DIGEST_MAC]), waitForLastIp('bulk', BULK)]);
});

after(async () => {
  await server?.stop();
  await ctx?.store.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('polyprov resync via SIP NOTIFY check-sync', () => {
  test('three phones: one accepts, one is busy, one never answers; every answer is recorded', async () => {
    const phone = await UdpPhone.start((r) => (r.mac === OK_MAC ? { status: 200, reason: 'OK' } : r.mac === BUSY_MAC ? { status: 486, reason: 'Busy Here' } : null));
    try {
      const target = `127.0.0.1:${phone.port}`;
      const set = await run(['notify', 'config', '-t', 'trio', '--target', target, '--request-uri', 'sip:{mac}@{host}:{port}']);
      assert.match(set.stdout, new RegExp(`polyprov\\.notify\\.target=${target.replace(/\./g, '\\.')}`));

      const args = ['resync', 'start', '-t', 'trio', '--all', '--rate', '20', '--sip-bind', '127.0.0.1', '--sip-t1-ms', '20'];
      const r = await run(args, 4);
      assert.match(r.stdout, /done: 1 ok, 1 rejected, 1 timeout, 0 error/, r.stdout);
      assert.match(r.stderr, /^resync \d+: 3 device\(s\) by notify at 20\/s/m, r.stderr);
      assert.match(r.stderr, /^resync \d+: 3\/3 done \(1 ok, 1 rejected, 1 timeout, 0 error\)$/m, `progress lines on stderr:\n${r.stderr}`);

      // What went over the wire: one NOTIFY per phone, each well-formed.
      assert.deepEqual([...phone.callIdsByMac().keys()].sort(), [...TRIO].sort());
      for (const n of phone.received) {
        assert.equal(n.requestUri, `sip:${n.mac}@127.0.0.1:${phone.port}`, n.text);
        assert.equal(n.headers.get('event'), 'check-sync', n.text);
        assert.equal(n.headers.get('content-length'), '0', n.text);
        assert.match(n.branch, /^z9hG4bK[^;\s]+$/, `RFC 3261 branch in ${n.headers.get('via')}`);
        assert.ok(n.text.endsWith('\r\n\r\n'), 'an empty body after the blank line');
      }
      // The silent phone got retransmissions of one transaction (T1 20 ms, Timer F 1.28 s).
      const silent = phone.received.filter((n) => n.mac === SILENT_MAC);
      assert.ok(silent.length >= 3, `retransmitted ${silent.length} time(s)`);
      assert.equal(new Set(silent.map((n) => `${n.callId} ${n.branch}`)).size, 1, 'retransmissions repeat the same transaction');

      const [byMac, [job]] = await Promise.all([results('trio'), jobs('trio')]);
      const label = (mac: string) => `udp:127.0.0.1:${phone.port} sip:${mac}@127.0.0.1:${phone.port}`;
      assert.deepEqual(
        TRIO.map((m) => [m, byMac.get(m)?.method, byMac.get(m)?.outcome, byMac.get(m)?.status, byMac.get(m)?.target]),
        [
          [OK_MAC, 'notify', 'ok', 200, label(OK_MAC)],
          [BUSY_MAC, 'notify', 'rejected', 486, label(BUSY_MAC)],
          [SILENT_MAC, 'notify', 'timeout', null, label(SILENT_MAC)],
        ],
      );
      assert.match(byMac.get(BUSY_MAC)!.detail, /486 Busy Here/);

      assert.ok(job, 'the job is listed');
      assert.equal(job.status, 'done');
      assert.equal(job.method, 'notify');
      assert.deepEqual([job.total, job.done, job.outcomes.ok, job.outcomes.rejected, job.outcomes.timeout, job.outcomes.error], [3, 3, 1, 1, 1, 0]);
      assert.ok(byMac.get(OK_MAC)!.jobId === job.id, 'results name their job');
    } finally {
      await phone.close();
    }
  });

  test('a phone that challenges with Digest gets a correct answer and accepts it', async () => {
    const realm = 'phone-realm';
    const nonce = randomBytes(12).toString('hex');
    const checked: { ok: boolean; why: string }[] = [];
    const phone = await UdpPhone.start((r) => {
      const authorization = r.headers.get('authorization');
      if (!authorization) return { status: 401, reason: 'Unauthorized', headers: [`WWW-Authenticate: Digest realm="${realm}", nonce="${nonce}", qop="auth", algorithm=MD5`] };
      const p = digestParams(authorization);
      const ha1 = md5(`u:${realm}:p`);
      const ha2 = md5(`NOTIFY:${p.get('uri')}`);
      const expected = md5(`${ha1}:${nonce}:${p.get('nc')}:${p.get('cnonce')}:auth:${ha2}`);
      const problems = [
        p.get('username') !== 'u' && 'username',
        p.get('realm') !== realm && 'realm',
        p.get('nonce') !== nonce && 'nonce',
        p.get('uri') !== r.requestUri && `uri ${p.get('uri')} is not the Request-URI ${r.requestUri}`,
        p.get('qop') !== 'auth' && 'qop',
        !/^[0-9a-f]{8}$/.test(p.get('nc') ?? '') && 'nc',
        !p.get('cnonce') && 'cnonce',
        p.get('response') !== expected && 'response',
      ].filter(Boolean);
      checked.push({ ok: problems.length === 0, why: problems.join(', ') });
      return problems.length ? { status: 403, reason: 'Forbidden' } : { status: 200, reason: 'OK' };
    });
    try {
      await run(['notify', 'config', '-t', 'digest', '--target', `127.0.0.1:${phone.port}`, '--request-uri', 'sip:{mac}@{host}:{port}', '--username', 'u', '--password', 'p']);
      const r = await run(['resync', 'start', DIGEST_MAC, '-t', 'digest', '--sip-bind', '127.0.0.1', '--sip-t1-ms', '100']);
      assert.match(r.stdout, /done: 1 ok, 0 rejected, 0 timeout, 0 error/);
      assert.ok(checked.length >= 1 && checked.every((c) => c.ok), `the Authorization verified: ${JSON.stringify(checked)}`);
      const [first] = phone.received;
      const answered = phone.received.find((n) => n.headers.has('authorization'))!;
      assert.equal(first?.headers.has('authorization'), false, 'the first NOTIFY carries no credentials');
      assert.equal(answered.callId, first!.callId, 'the authenticated retry keeps the Call-ID');
      assert.equal(Number.parseInt(answered.headers.get('cseq')!, 10), Number.parseInt(first!.headers.get('cseq')!, 10) + 1, 'and takes the next CSeq');
      assert.notEqual(answered.branch, first!.branch, 'as a new transaction');
      const res = (await results('digest')).get(DIGEST_MAC)!;
      assert.deepEqual([res.outcome, res.status], ['ok', 200]);
      assert.match(res.detail, /authenticated/);
    } finally {
      await phone.close();
    }
  });

  test('Ctrl-C stops a run where it is; resume sends the rest, and no phone gets two', async () => {
    const phone = await UdpPhone.start(() => ({ status: 200, reason: 'OK' }));
    let running: RunningCli | undefined;
    try {
      await run(['notify', 'config', '-t', 'bulk', '--target', `127.0.0.1:${phone.port}`, '--request-uri', 'sip:{mac}@{host}:{port}']);
      running = spawnCli(server.dataDir, ['resync', 'start', '-t', 'bulk', '--all', '--rate', '4', '--sip-bind', '127.0.0.1']);
      // Interrupt ~1.2 s into the sending (the process needs a moment to start), well before the
      // 3 s that 12 phones take at 4/s.
      await waitFor('the first NOTIFY', () => (phone.received.length ? true : undefined), 30_000).catch((err: Error) => {
        throw new Error(`${err.message}; polyprov said:\n${running!.stderr()}${running!.stdout()}`);
      });
      await new Promise((r) => setTimeout(r, 1200));
      running.signal('SIGINT');
      const interrupted = await running.exited;
      assert.equal(interrupted.code, 3, `exit code after Ctrl-C:\n${interrupted.stderr}${interrupted.stdout}`);
      const id = /polyprov resync resume (\d+)/.exec(interrupted.stdout)?.[1];
      assert.ok(id, `stdout names the resume command:\n${interrupted.stdout}`);

      const [job] = await jobs('bulk');
      assert.equal(String(job!.id), id);
      assert.equal(job!.status, 'running', 'an interrupted job stays resumable');
      assert.ok(job!.done > 0 && job!.done < 12, `done ${job!.done} of 12 when interrupted`);
      assert.equal(phone.callIdsByMac().size, job!.done, 'every phone reached has a result');

      const resumed = await run(['resync', 'resume', id, '-t', 'bulk', '--sip-bind', '127.0.0.1']);
      assert.match(resumed.stdout, /done: 12 ok, 0 rejected, 0 timeout, 0 error/);
      const [finished] = await jobs('bulk');
      assert.deepEqual([finished!.status, finished!.done, finished!.outcomes.ok], ['done', 12, 12]);

      const perMac = phone.callIdsByMac();
      assert.deepEqual([...perMac.keys()].sort(), [...BULK].sort(), 'every phone was reached');
      for (const [mac, callIds] of perMac) assert.equal(callIds.size, 1, `${mac} got ${callIds.size} NOTIFY transactions across both runs`);
    } finally {
      await running?.kill();
      await phone.close();
    }
  });

  test('bad input is refused with a message that says what to give', async () => {
    await Promise.all([
      refused(['resync', 'start', '-t', 'blind'], /say which phones: MAC addresses, --site, --group, --model, or --all/),
      refused(['resync', 'start', '--all', '--via', 'smoke', '-t', 'blind'], /invalid --via "smoke": expected notify or push/),
      refused(['notify', 'config', '--target', 'bad host:x', '-t', 'blind'], /expected host\[:port\]/),
    ]);
  });

  test('a phone never seen, with no NOTIFY target, is recorded as an error: address unknown', async () => {
    const r = await run(['resync', 'start', NEVER_SEEN, '-t', 'blind', '--sip-bind', '127.0.0.1', '--sip-t1-ms', '20'], 4);
    assert.match(r.stdout, /done: 0 ok, 0 rejected, 0 timeout, 1 error/);
    const res = (await results('blind')).get(NEVER_SEEN);
    assert.equal(res?.outcome, 'error');
    assert.equal(res?.status, null);
    assert.match(res!.detail, /address unknown/);
  });

  test('notify behaviour writes what the phone does on check-sync into its configuration', async () => {
    await run(['notify', 'behaviour', '--always-reboot', '--no-directory', '-t', 'trio']);
    const params = configParameters((await fetchConfig('trio', OK_MAC)).text);
    assert.equal(params.get('voIpProt.SIP.specialEvent.checkSync.alwaysReboot'), '1');
    assert.equal(params.get('voIpProt.SIP.specialEvent.checkSync.downloadDirectory'), '0');
    assert.equal(params.has('voIpProt.SIP.specialEvent.checkSync.downloadCallList'), false, 'a flag not given is not written');
    const own = [...params.keys()].filter((n) => n.startsWith('polyprov.'));
    assert.deepEqual(own, [], "polyprov's own settings (the NOTIFY target) never reach the phone");
  });
});
