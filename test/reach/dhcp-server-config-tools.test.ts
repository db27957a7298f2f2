import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { bootOptions } from '../../src/domain/dhcp-boot-options.js';
import {
  BOOTREQUEST,
  buildDhcpMessage,
  DHCP_MESSAGE_TYPES,
  messageType,
  optionText,
  parseDhcpMessage,
  type DhcpMessage,
} from '../../src/domain/dhcp-packet.js';
import { dhcpServerConfig, type DhcpMatch, type DhcpServerKind } from '../../src/domain/dhcp-server-config.js';
import { run } from '../support/tftp-clients.js';

// The generated configuration goes through the real servers: dhcpd -t, kea-dhcp4 -t and
// dnsmasq --test must accept it, and must refuse a broken copy (so the check is real). Kea and
// dnsmasq then run for real on loopback and answer a DHCPINFORM, proving the option bytes on the
// wire are exactly the URL (quoting and Kea's comma escapes included). dhcpd cannot serve on the
// loopback interface ("Unsupported device type"), so it gets the syntax check only.

// "@" must be escaped (%40); "," stays literal in userinfo and is what Kea would cut at.
const options = bootOptions({ protocol: 'https', host: 'prov.example.com', port: 8443, pathPrefix: 'acme', username: 'ops@example.com', password: 'p@ss,word;1' });
const URL = 'https://ops%40example.com:p%40ss,word;1@prov.example.com:8443/acme/';
const dir = mkdtempSync(join(tmpdir(), 'polyprov-dhcp-tools-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const check: Record<Exclude<DhcpServerKind, 'windows'>, (path: string) => string[]> = {
  isc: (path) => ['dhcpd', '-t', '-cf', path, '-lf', join(dir, 'dhcpd.leases')],
  kea: (path) => ['kea-dhcp4', '-t', path],
  dnsmasq: (path) => ['dnsmasq', '--test', `--conf-file=${path}`],
};

async function checkWith(server: keyof typeof check, path: string): Promise<{ code: number | null; output: string }> {
  const [cmd, ...args] = check[server](path);
  const r = await run(cmd!, args, 30_000);
  return { code: r.code, output: r.stdout + r.stderr };
}

describe('generated DHCP configuration passes the real servers\' checks', () => {
  test('the URL is the one with escaped credentials', () => {
    assert.equal(options.option66, URL);
  });

  for (const server of ['isc', 'kea', 'dnsmasq'] as const) {
    for (const match of ['oui', 'option60'] as const) {
      test(`${server}, matching by ${match}: accepted`, async () => {
        const path = file(`${server}-${match}.conf`, dhcpServerConfig({ server, match, options, tenant: 'acme' }));
        const r = await checkWith(server, path);
        assert.equal(r.code, 0, r.output);
      });
    }
  }

  // Each break is one the generator could make: a lost quote escape, a missing declaration.
  const breaks: Record<keyof typeof check, [string, (text: string) => string][]> = {
    isc: [
      ['an unterminated string', (t) => t.replace(`option tftp-server-name "${URL}";`, `option tftp-server-name "${URL};`)],
      ['an undeclared option 160', (t) => t.replace('option polycom-prov-160 code 160 = text;', '')],
    ],
    kea: [
      ['a JSON syntax error', (t) => t.replace('"always-send": true }', '"always-send": true ')],
      ['a missing option definition', (t) => t.replace('{ "name": "polycom-prov-161", "code": 161, "space": "dhcp4", "type": "string" }', '').replace('"type": "string" },', '"type": "string" }')],
    ],
    dnsmasq: [
      ['an unterminated string', (t) => t.replace(`,66,"${URL}"`, `,66,"${URL}`)],
      ['a tag rule without a MAC', (t) => t.replace('dhcp-mac=set:polyprov-acme,00:04:f2:*:*:*', 'dhcp-mac=set:polyprov-acme')],
    ],
  };
  for (const [server, cases] of Object.entries(breaks) as [keyof typeof check, typeof breaks.isc][]) {
    for (const [what, breakIt] of cases) {
      test(`${server} refuses the file with ${what}`, async () => {
        const good = dhcpServerConfig({ server, match: 'oui', options, tenant: 'acme' });
        const broken = breakIt(good);
        assert.notEqual(broken, good, 'the break applied');
        const r = await checkWith(server, file(`${server}-broken.conf`, broken));
        assert.notEqual(r.code, 0, r.output);
      });
    }
  }
});

// ---- Kea and dnsmasq answering on loopback ----

const POLY_MAC = Buffer.from('0004f2000042', 'hex');
const OTHER_MAC = Buffer.from('020000000042', 'hex');
/** A Poly phone's default option 60 (fact sheet §8.2): enterprise 13885, then sub-options, then 0xff. */
const POLY_OPTION_60 = Buffer.concat([
  Buffer.from([0x00, 0x00, 0x36, 0x3d]),
  Buffer.from([1, 7]),
  Buffer.from('Polycom'),
  Buffer.from([2, 21]),
  Buffer.from('SoundPointIP-SPIP_601'),
  Buffer.from([0xff]),
]);

let xid = 0x5000;
function inform(mac: Buffer, option60?: Buffer): DhcpMessage {
  const options = new Map<number, Buffer>([[53, Buffer.from([DHCP_MESSAGE_TYPES.inform])]]);
  if (option60) options.set(60, option60);
  // Only the subnet mask is asked for: the configuration must send 66/160/161 unasked.
  options.set(55, Buffer.from([1]));
  return {
    op: BOOTREQUEST, htype: 1, hlen: 6, hops: 0, xid: ++xid, secs: 0, flags: 0,
    ciaddr: '127.0.0.1', yiaddr: '0.0.0.0', siaddr: '0.0.0.0', giaddr: '0.0.0.0',
    chaddr: Buffer.concat([mac, Buffer.alloc(10)]), sname: '', file: '', options,
  };
}

/** Sends `msg` to 127.0.0.1:67 from the client port and waits (bounded) for the ACK with its xid. */
function exchange(client: Socket, msg: DhcpMessage, waitMs: number): Promise<DhcpMessage | null> {
  return new Promise((resolve) => {
    const onMessage = (buf: Buffer) => {
      const reply = parseDhcpMessage(buf);
      if (reply && reply.xid === msg.xid) finish(reply);
    };
    const timer = setTimeout(() => finish(null), waitMs);
    const finish = (reply: DhcpMessage | null) => {
      clearTimeout(timer);
      client.off('message', onMessage);
      resolve(reply);
    };
    client.on('message', onMessage);
    client.send(buildDhcpMessage(msg), 67, '127.0.0.1');
  });
}

/** Retries until the server answers (it is starting), at most `attempts` times. */
async function firstAnswer(client: Socket, make: () => DhcpMessage, attempts = 40): Promise<DhcpMessage> {
  for (let i = 0; i < attempts; i++) {
    const reply = await exchange(client, make(), 250);
    if (reply) return reply;
  }
  throw new Error(`no DHCP answer after ${attempts} attempts`);
}

function udpPortBusy(port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.once('error', (err: NodeJS.ErrnoException) => resolve(`UDP port ${port} on 127.0.0.1 is in use (${err.code}): another DHCP server or client runs here`));
    s.bind(port, '127.0.0.1', () => s.close(() => resolve(null)));
  });
}

const busy = (await udpPortBusy(67)) ?? (await udpPortBusy(68));

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

function start(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): { child: ChildProcess; output: () => string } {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  return { child, output: () => output };
}

/** The loopback run of each server, for one match mode. */
const servers: Record<'kea' | 'dnsmasq', (match: DhcpMatch) => { cmd: string; args: string[]; env?: NodeJS.ProcessEnv }> = {
  kea: (match) => {
    const text = dhcpServerConfig({ server: 'kea', match, options, tenant: 'acme', subnet: '127.0.0.0/8' });
    const onLoopback = text.replace(
      '"interfaces-config": { "interfaces": [ "*" ] },',
      '"interfaces-config": { "interfaces": [ "lo" ], "dhcp-socket-type": "udp" }, "lease-database": { "type": "memfile", "persist": false },',
    );
    assert.notEqual(onLoopback, text);
    return { cmd: 'kea-dhcp4', args: ['-c', file(`kea-run-${match}.conf`, onLoopback)], env: { KEA_PIDFILE_DIR: dir, KEA_LOCKFILE_DIR: dir } };
  },
  dnsmasq: (match) => {
    const text = dhcpServerConfig({ server: 'dnsmasq', match, options, tenant: 'acme' });
    const onLoopback = `${text}\nport=0\ninterface=lo\nbind-interfaces\ndhcp-range=127.0.0.100,127.0.0.200,255.0.0.0\nleasefile-ro\n`;
    return { cmd: 'dnsmasq', args: ['--keep-in-foreground', '--log-facility=-', `--pid-file=${join(dir, 'dnsmasq.pid')}`, `--conf-file=${file(`dnsmasq-run-${match}.conf`, onLoopback)}`] };
  },
};

for (const server of ['kea', 'dnsmasq'] as const) {
  for (const match of ['oui', 'option60'] as const) {
    describe(`${server} serving the generated configuration on loopback (match ${match})`, { skip: busy ?? false }, () => {
      let proc: ReturnType<typeof start>;
      let client: Socket;
      before(async () => {
        const { cmd, args, env } = servers[server](match);
        proc = start(cmd, args, env);
        client = createSocket('udp4');
        await new Promise<void>((resolve, reject) => {
          client.once('error', reject);
          client.bind(68, '127.0.0.1', () => resolve());
        });
      });
      after(async () => {
        client?.close();
        if (proc) await stop(proc.child);
      });

      const poly = () => (match === 'oui' ? inform(POLY_MAC) : inform(OTHER_MAC, POLY_OPTION_60));

      test('a Poly phone gets options 66, 160 and 161 holding exactly the URL, without asking for them', async () => {
        const ack = await firstAnswer(client, poly).catch((err: Error) => assert.fail(`${err.message}; ${server} said:\n${proc.output()}`));
        assert.equal(messageType(ack), DHCP_MESSAGE_TYPES.ack);
        assert.equal(optionText(ack, 66), URL);
        assert.equal(optionText(ack, 160), URL);
        assert.equal(optionText(ack, 161), URL);
      });

      if (server === 'kea' && match === 'option60') {
        test('a device sending the enterprise number in option 124 (V-I vendor class) is matched too', async () => {
          const v124 = Buffer.concat([Buffer.from([0x00, 0x00, 0x36, 0x3d, 9, 1, 7]), Buffer.from('Polycom')]);
          const ack = await firstAnswer(client, () => {
            const msg = inform(OTHER_MAC);
            msg.options.set(124, v124);
            return msg;
          });
          assert.equal(optionText(ack, 66), URL);
        });
      }

      test('another device gets none of them', async () => {
        const ack = await firstAnswer(client, () => inform(OTHER_MAC));
        assert.equal(messageType(ack), DHCP_MESSAGE_TYPES.ack);
        assert.deepEqual([optionText(ack, 66), optionText(ack, 160), optionText(ack, 161)], [null, null, null]);
      });
    });
  }
}
