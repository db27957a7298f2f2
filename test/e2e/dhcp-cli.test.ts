// What an administrator gives DHCP so phones find polyprov, end to end: `polyprov dhcp options`
// prints the option 66/160/161 URL, `polyprov dhcp config` writes files that the real dnsmasq,
// kea-dhcp4 and ISC dhcpd accept, and `polyprov serve --dhcp-inform` answers the real dhcping's
// DHCPINFORM on port 67 (tests run one file at a time, so nothing else binds it meanwhile).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { AdminContext } from '../../src/admin/admin-context.js';
import { addTenant } from '../../src/admin/tenants.js';
import { openAdminContext } from '../../src/app.js';
import { BOOTREQUEST, buildDhcpMessage, DHCP_MESSAGE_TYPES, messageType, optionText, parseDhcpMessage, type DhcpMessage } from '../../src/domain/dhcp-packet.js';
import { cliAsync, type CliExit } from '../support/cli-async.js';
import { startServer, tempDir, type ServerProcess } from '../support/server-process.js';
import { waitFor } from '../support/wait-for.js';

const PASSWORD = 'p@ss:w/rd';
/** Each of "@", ":" and "/" percent-encoded in the userinfo, the tenant's path prefix after the port. */
const URL_WITH_LOGIN = 'https://acme:p%40ss%3Aw%2Frd@prov.example.com:8443/acme/';
const INFORM_URL = 'https://127.0.0.1:8443/';

let dataDir: string;
let scratch: string;
let ctx: AdminContext;

async function run(args: string[], code = 0): Promise<CliExit> {
  const r = await cliAsync(dataDir, args);
  assert.equal(r.code, code, `polyprov ${args.join(' ')} exited ${r.code}, expected ${code}:\n${r.stderr}${r.stdout}`);
  return r;
}

before(async () => {
  dataDir = tempDir();
  scratch = tempDir();
  ctx = await openAdminContext({ dataDir });
  await addTenant(ctx, 'acme', { password: 'acme-prov-pw', pathPrefix: 'acme' });
});

after(async () => {
  await ctx?.store.close();
  for (const dir of [dataDir, scratch]) if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('polyprov dhcp options and config', () => {
  test('options 66, 160 and 161 carry the tenant URL with the credentials percent-encoded', async () => {
    const r = await run(['dhcp', 'options', '--host', 'prov.example.com', '--port', '8443', '--password', PASSWORD]);
    assert.match(r.stdout, /^option 66: {2}(\S+)$/m);
    const option = (n: number) => new RegExp(`^option ${n}: +(\\S+)$`, 'm').exec(r.stdout)?.[1];
    assert.deepEqual([option(66), option(160), option(161)], [URL_WITH_LOGIN, URL_WITH_LOGIN, URL_WITH_LOGIN]);
    assert.match(r.stdout, /user%40example\.com/, 'the notes explain the escaping');
    assert.equal(new URL(URL_WITH_LOGIN).password, 'p%40ss%3Aw%2Frd', 'a URL parser reads the password back whole');
    assert.equal(decodeURIComponent(new URL(URL_WITH_LOGIN).password), PASSWORD);
  });

  test('TFTP cannot carry a password: refused rather than silently dropped', async () => {
    const r = await cliAsync(dataDir, ['dhcp', 'options', '--host', 'prov.example.com', '--protocol', 'tftp', '--password', 'x']);
    assert.equal(r.code, 1, `expected exit 1, got ${r.code}:\n${r.stderr}${r.stdout}`);
    assert.match(r.stderr, /^polyprov: .*TFTP/);
  });

  const checks: Record<'dnsmasq' | 'kea' | 'isc', (file: string) => string[]> = {
    dnsmasq: (file) => ['dnsmasq', '--test', `--conf-file=${file}`],
    kea: (file) => ['kea-dhcp4', '-t', file],
    isc: (file) => ['dhcpd', '-t', '-cf', file, '-lf', join(scratch, 'dhcpd.leases')],
  };

  test('dhcp config writes files that dnsmasq, kea-dhcp4 and dhcpd accept', async () => {
    writeFileSync(join(scratch, 'dhcpd.leases'), '');
    const outputs = await Promise.all(
      (['dnsmasq', 'kea', 'isc'] as const).map(async (server) => {
        const r = await run(['dhcp', 'config', '--server', server, '--host', 'prov.example.com', '--port', '8443', '--password', PASSWORD]);
        return [server, r.stdout] as const;
      }),
    );
    for (const [server, text] of outputs) {
      assert.ok(text.includes(`"${URL_WITH_LOGIN}"`), `${server}: the URL is in the file, quoted:\n${text}`);
      const file = join(scratch, `${server}.conf`);
      writeFileSync(file, text);
      const [cmd, ...args] = checks[server](file);
      const check = spawnSync(cmd!, args, { encoding: 'utf8', timeout: 30_000 });
      assert.equal(check.error, undefined, `${cmd} could not run: ${check.error?.message}`);
      assert.equal(check.status, 0, `${cmd} refused the ${server} file:\n${check.stdout}${check.stderr}\n--- file ---\n${text}`);
    }
  });
});

/** Whether UDP port `port` on 127.0.0.1 can be bound right now (nothing else holds it). */
function udpPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.once('error', () => resolve(false));
    s.bind({ port, address: '127.0.0.1', exclusive: true }, () => s.close(() => resolve(true)));
  });
}

/** A Poly phone's DHCPINFORM from 127.0.0.1 asking only for the subnet mask. */
function inform(xid: number): DhcpMessage {
  return {
    op: BOOTREQUEST, htype: 1, hlen: 6, hops: 0, xid, secs: 0, flags: 0,
    ciaddr: '127.0.0.1', yiaddr: '0.0.0.0', siaddr: '0.0.0.0', giaddr: '0.0.0.0',
    chaddr: Buffer.concat([Buffer.from('0004f2000001', 'hex'), Buffer.alloc(10)]), sname: '', file: '',
    options: new Map<number, Buffer>([[53, Buffer.from([DHCP_MESSAGE_TYPES.inform])], [55, Buffer.from([1])]]),
  };
}

describe('polyprov serve --dhcp-inform', () => {
  let server: ServerProcess | undefined;
  let client: Socket | undefined;

  after(async () => {
    client?.close();
    await server?.stop();
  });

  test('answers the real dhcping, and the answer holds the boot server URL', async () => {
    await waitFor('UDP ports 67 and 68 on 127.0.0.1 to be free (another DHCP test or server holds them)', async () => ((await udpPortFree(67)) && (await udpPortFree(68)) ? true : undefined), 20_000);
    server = await startServer({
      dataDir,
      args: ['--no-tftp', '--no-ftp', '--no-ftps', '--dhcp-inform', `127.0.0.0/8=${INFORM_URL}`, '--dhcp-inform-host', '127.0.0.1', '--dhcp-inform-server-id', '127.0.0.1'],
    });
    assert.ok(server.logs.some((l) => l.protocol === 'dhcp-inform' && l.port === 67), 'the responder is listening on 67');

    const ping = spawnSync('dhcping', ['-i', '-c', '127.0.0.1', '-s', '127.0.0.1', '-h', '00:04:f2:00:00:01', '-t', '3'], { encoding: 'utf8', timeout: 15_000 });
    assert.equal(ping.error, undefined, `dhcping could not run: ${ping.error?.message}`);
    assert.equal(ping.status, 0, `dhcping got no answer:\n${ping.stdout}${ping.stderr}`);
    assert.match(ping.stdout, /Got answer from: 127\.0\.0\.1/);

    // dhcping says only that an answer came; what is in it is read here, from the same port 68.
    const c = createSocket('udp4');
    client = c;
    await new Promise<void>((resolve, reject) => {
      c.once('error', reject);
      c.bind(68, '127.0.0.1', () => resolve());
    });
    const xid = 0x7e57_0001;
    const ack = await new Promise<DhcpMessage | null>((resolve) => {
      const timer = setTimeout(() => resolve(null), 5000);
      c.on('message', (buf: Buffer) => {
        const m = parseDhcpMessage(buf);
        if (m?.xid === xid) {
          clearTimeout(timer);
          resolve(m);
        }
      });
      c.send(buildDhcpMessage(inform(xid)), 67, '127.0.0.1');
    });
    assert.ok(ack, 'a DHCPACK to our own DHCPINFORM');
    assert.equal(messageType(ack), DHCP_MESSAGE_TYPES.ack);
    assert.deepEqual([optionText(ack, 66), optionText(ack, 160), optionText(ack, 161)], [INFORM_URL, INFORM_URL, INFORM_URL]);
    assert.deepEqual([...(ack.options.get(54) ?? [])], [127, 0, 0, 1], 'server identifier');
    assert.equal(ack.yiaddr, '0.0.0.0', 'an INFORM gets no address');
  });

  test('a bad --dhcp-inform value stops serve with a message that shows the expected form', async () => {
    const serve = (rule: string) => cliAsync(dataDir, ['serve', '--host', '127.0.0.1', '--http-port', '0', '--https-port', '0', '--no-tftp', '--no-ftp', '--no-ftps', '--no-admin', '--workers', '1', '--dhcp-inform', rule], { timeoutMs: 30_000 });
    const [noEquals, badScheme] = await Promise.all([serve('10.0.0.0/8'), serve('10.0.0.0/8=gopher://prov.example.com/')]);
    assert.notEqual(noEquals.code, 0, 'serve must not run');
    assert.equal(noEquals.signal, null, `serve stopped by itself, not by the test's time limit:\n${noEquals.stderr}`);
    assert.match(noEquals.stderr, /^polyprov: invalid DHCPINFORM rule "10\.0\.0\.0\/8": expected CIDR=URL, e\.g\. 10\.1\.0\.0\/16=https:\/\/prov\.example\.com:8443\//m);
    assert.notEqual(badScheme.code, 0, 'serve must not run');
    assert.equal(badScheme.signal, null, `serve stopped by itself:\n${badScheme.stderr}`);
    assert.match(badScheme.stderr, /^polyprov: .*gopher.*http, https, ftp, ftps or tftp/m);
    assert.doesNotMatch(noEquals.stderr + badScheme.stderr, /unexpected error|\n\s+at /, 'a clean message, not a stack trace');
  });
});
