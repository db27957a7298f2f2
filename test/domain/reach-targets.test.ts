import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DomainError } from '../../src/domain/domain-error.js';
import {
  NOTIFY_PASSWORD,
  NOTIFY_REQUEST_URI,
  NOTIFY_TARGET,
  NOTIFY_TRANSPORT,
  NOTIFY_USERNAME,
  PUSH_URL,
  parseHostPort,
  parseSipTransport,
  planNotify,
  planPush,
  type PlannedNotify,
  type PlannedPush,
  type SettingOf,
} from '../../src/domain/reach-targets.js';

const MAC = '0004f2a1b2c3';
const LINE = { 'reg.1.address': '1001@pbx.example.com' };
const PUSH_CREDENTIALS = { 'apps.push.username': 'pushuser', 'apps.push.password': 'pushpass' };

function settings(values: Record<string, string>): SettingOf {
  return (name) => (Object.prototype.hasOwnProperty.call(values, name) ? values[name] : undefined);
}

function notify(lastIp: string | null, values: Record<string, string>): PlannedNotify {
  const plan = planNotify(MAC, lastIp, settings(values));
  assert.ok(!('problem' in plan), `unexpected problem: ${'problem' in plan ? plan.problem : ''}`);
  return plan;
}

function push(lastIp: string | null, values: Record<string, string>): PlannedPush {
  const plan = planPush(MAC, lastIp, settings(values));
  assert.ok(!('problem' in plan), `unexpected problem: ${'problem' in plan ? plan.problem : ''}`);
  return plan;
}

function problemOf(plan: object): string {
  assert.ok('problem' in plan && typeof plan.problem === 'string', `expected a problem, got ${JSON.stringify(plan)}`);
  return plan.problem;
}

function isDomainError(pattern: RegExp): (err: unknown) => boolean {
  return (err: unknown) => {
    assert.ok(err instanceof DomainError, `not a DomainError: ${String(err)}`);
    assert.match(err.message, pattern);
    return true;
  };
}

describe('planNotify', () => {
  it('defaults to the phone’s last address, 5060 over UDP, addressed to its first line', () => {
    assert.deepEqual(planNotify(MAC, '10.0.0.5', settings(LINE)), {
      host: '10.0.0.5',
      port: 5060,
      transport: 'udp',
      requestUri: 'sip:1001@10.0.0.5:5060',
      label: 'udp:10.0.0.5:5060 sip:1001@10.0.0.5:5060',
    });
  });

  it('addresses the phone itself when it has no line', () => {
    const plan = notify('10.0.0.5', {});
    assert.equal(plan.requestUri, 'sip:10.0.0.5:5060');
    assert.equal(plan.label, 'udp:10.0.0.5:5060 sip:10.0.0.5:5060');
  });

  it('takes the user part of reg.1.address in its other spellings', () => {
    assert.equal(notify('10.0.0.5', { 'reg.1.address': 'sip:1002@pbx.example.com' }).requestUri, 'sip:1002@10.0.0.5:5060');
    assert.equal(notify('10.0.0.5', { 'reg.1.address': ' 1003 ' }).requestUri, 'sip:1003@10.0.0.5:5060');
    assert.equal(notify('10.0.0.5', { 'reg.1.address': '  ' }).requestUri, 'sip:10.0.0.5:5060');
  });

  it('strips the IPv4-mapped IPv6 prefix a dual-stack socket reports', () => {
    const plan = notify('::ffff:10.0.0.5', LINE);
    assert.equal(plan.host, '10.0.0.5');
    assert.equal(plan.requestUri, 'sip:1001@10.0.0.5:5060');
    assert.equal(plan.label, 'udp:10.0.0.5:5060 sip:1001@10.0.0.5:5060');
  });

  it('brackets an IPv6 address in the URI and the label, not in the host to send to', () => {
    const plan = notify('2001:db8::5', LINE);
    assert.equal(plan.host, '2001:db8::5');
    assert.equal(plan.port, 5060);
    assert.equal(plan.requestUri, 'sip:1001@[2001:db8::5]:5060');
    assert.equal(plan.label, 'udp:[2001:db8::5]:5060 sip:1001@[2001:db8::5]:5060');
  });

  it('goes through a relay, with or without its port, even for a phone never seen', () => {
    const plain = notify('10.0.0.5', { ...LINE, [NOTIFY_TARGET]: 'sbc.example.com' });
    assert.deepEqual([plain.host, plain.port, plain.requestUri], ['sbc.example.com', 5060, 'sip:1001@sbc.example.com:5060']);
    const withPort = notify(null, { ...LINE, [NOTIFY_TARGET]: ' sbc.example.com:5080 ' });
    assert.deepEqual([withPort.host, withPort.port, withPort.requestUri], ['sbc.example.com', 5080, 'sip:1001@sbc.example.com:5080']);
    const v6 = notify(null, { ...LINE, [NOTIFY_TARGET]: '[2001:db8::1]:5070' });
    assert.deepEqual([v6.host, v6.port, v6.requestUri], ['2001:db8::1', 5070, 'sip:1001@[2001:db8::1]:5070']);
  });

  it('treats a blank relay as none', () => {
    const plan = notify('10.0.0.5', { ...LINE, [NOTIFY_TARGET]: '   ' });
    assert.equal(plan.host, '10.0.0.5');
  });

  it('uses 5061 for TLS and names a non-UDP transport in the Request-URI', () => {
    const tls = notify('10.0.0.5', { ...LINE, [NOTIFY_TRANSPORT]: 'tls' });
    assert.deepEqual([tls.transport, tls.port, tls.requestUri], ['tls', 5061, 'sip:1001@10.0.0.5:5061;transport=tls']);
    assert.equal(tls.label, 'tls:10.0.0.5:5061 sip:1001@10.0.0.5:5061;transport=tls');
    const tcp = notify('10.0.0.5', { ...LINE, [NOTIFY_TRANSPORT]: ' TCP ' });
    assert.deepEqual([tcp.transport, tcp.port, tcp.requestUri], ['tcp', 5060, 'sip:1001@10.0.0.5:5060;transport=tcp']);
    const relayed = notify(null, { [NOTIFY_TARGET]: 'sbc.example.com', [NOTIFY_TRANSPORT]: 'TLS' });
    assert.deepEqual([relayed.port, relayed.requestUri], [5061, 'sip:sbc.example.com:5061;transport=tls']);
    // A template that names the transport itself keeps it as written.
    const own = notify('10.0.0.5', { [NOTIFY_TRANSPORT]: 'tls', [NOTIFY_REQUEST_URI]: 'sip:{host}:{port};transport=TLS' });
    assert.equal(own.requestUri, 'sip:10.0.0.5:5061;transport=TLS');
  });

  it('refuses an unknown transport', () => {
    assert.throws(() => planNotify(MAC, '10.0.0.5', settings({ [NOTIFY_TRANSPORT]: 'sctp' })), isDomainError(/invalid SIP transport "sctp": expected udp, tcp or tls/));
    assert.equal(parseSipTransport(undefined), 'udp');
  });

  it('fills a custom template', () => {
    assert.equal(notify('10.0.0.5', { [NOTIFY_REQUEST_URI]: 'sip:{mac}@{host}' }).requestUri, `sip:${MAC}@10.0.0.5`);
    // {ip} stays the phone's own address when the NOTIFY goes through a relay.
    const relayed = notify('10.0.0.5', { ...LINE, [NOTIFY_TARGET]: 'sbc.example.com:5080', [NOTIFY_REQUEST_URI]: 'sip:{user}@{ip}:{port}' });
    assert.equal(relayed.requestUri, 'sip:1001@10.0.0.5:5080');
    assert.equal(relayed.host, 'sbc.example.com');
    // Without a line, {user} falls back to the MAC.
    assert.equal(notify('10.0.0.5', { [NOTIFY_REQUEST_URI]: 'sip:{user}@{host}' }).requestUri, `sip:${MAC}@10.0.0.5`);
  });

  it('refuses a template with an unknown placeholder, naming it', () => {
    assert.throws(() => planNotify(MAC, '10.0.0.5', settings({ [NOTIFY_REQUEST_URI]: 'sip:{line}@{host}' })), isDomainError(/unknown placeholder \{line\}/));
  });

  it('carries credentials only when both are set', () => {
    const both = notify('10.0.0.5', { [NOTIFY_USERNAME]: 'notifier', [NOTIFY_PASSWORD]: 's3cret' });
    assert.deepEqual(both.credentials, { username: 'notifier', password: 's3cret' });
    const halves: Record<string, string>[] = [{ [NOTIFY_USERNAME]: 'notifier' }, { [NOTIFY_PASSWORD]: 's3cret' }, {}];
    for (const values of halves) {
      const plan = notify('10.0.0.5', values);
      assert.ok(!('credentials' in plan), `credentials from ${JSON.stringify(values)}: ${JSON.stringify(plan)}`);
    }
  });

  it('says why a phone never seen and without a relay cannot be reached', () => {
    const problem = problemOf(planNotify(MAC, null, settings(LINE)));
    assert.match(problem, /address unknown/);
    assert.match(problem, /polyprov notify config --target/);
  });

  it('refuses an invalid relay', () => {
    assert.throws(() => planNotify(MAC, '10.0.0.5', settings({ [NOTIFY_TARGET]: 'sbc.example.com:70000' })), isDomainError(/invalid target/));
  });
});

describe('parseHostPort', () => {
  it('reads names, IPv4 and IPv6, with and without a port', () => {
    assert.deepEqual(parseHostPort('pbx.example.com', 5060), { host: 'pbx.example.com', port: 5060 });
    assert.deepEqual(parseHostPort('pbx.example.com:5080', 5060), { host: 'pbx.example.com', port: 5080 });
    assert.deepEqual(parseHostPort('10.0.0.1', 5061), { host: '10.0.0.1', port: 5061 });
    assert.deepEqual(parseHostPort('10.0.0.1:1', 5060), { host: '10.0.0.1', port: 1 });
    assert.deepEqual(parseHostPort('[2001:db8::1]:5060', 5061), { host: '2001:db8::1', port: 5060 });
    assert.deepEqual(parseHostPort('[2001:db8::1]', 5061), { host: '2001:db8::1', port: 5061 });
    assert.deepEqual(parseHostPort('2001:db8::1', 5060), { host: '2001:db8::1', port: 5060 });
    assert.deepEqual(parseHostPort('::1', 5060), { host: '::1', port: 5060 });
    assert.deepEqual(parseHostPort(' sbc:65535 ', 5060), { host: 'sbc', port: 65535 });
  });

  it('refuses bad ports and what is not host[:port], saying what is expected', () => {
    const bad = ['', '   ', 'pbx:0', 'pbx:65536', 'pbx:99999', 'pbx:123456', 'pbx:', 'pbx:abc', 'pbx:50a0', 'sip:pbx.example.com', '1001@pbx', 'pbx example', '[pbx.example.com]:5060', '[2001:db8::1]:', 'https://pbx/', 'dead:beef', 'cafe:50a0', 'fe80::1:99999', ':', '[1:2]:5060', '[dead.beef]', '[::::]', '...', '-'];
    for (const text of bad) {
      assert.throws(() => parseHostPort(text, 5060), isDomainError(/expected host\[:port\], e\.g\. sbc\.example\.com:5060 or \[2001:db8::1\]:5060/), JSON.stringify(text));
    }
  });
});

describe('planPush', () => {
  it('defaults to https://{ip}/push with the phone’s push credentials', () => {
    assert.deepEqual(planPush(MAC, '10.0.0.5', settings(PUSH_CREDENTIALS)), {
      url: 'https://10.0.0.5/push',
      username: 'pushuser',
      password: 'pushpass',
      label: 'https://10.0.0.5/push',
    });
    assert.equal(push('::ffff:10.0.0.5', PUSH_CREDENTIALS).url, 'https://10.0.0.5/push');
    assert.equal(push('2001:db8::5', PUSH_CREDENTIALS).url, 'https://[2001:db8::5]/push');
  });

  it('says which credentials are missing', () => {
    const incomplete: Record<string, string>[] = [{}, { 'apps.push.username': 'pushuser' }, { 'apps.push.password': 'pushpass' }, { 'apps.push.username': '', 'apps.push.password': 'pushpass' }];
    for (const values of incomplete) {
      const problem = problemOf(planPush(MAC, '10.0.0.5', settings(values)));
      assert.match(problem, /push credentials not set: apps\.push\.username and apps\.push\.password/, JSON.stringify(values));
      assert.match(problem, /polyprov push enable/);
    }
  });

  it('says when the address a template needs is unknown', () => {
    assert.match(problemOf(planPush(MAC, null, settings(PUSH_CREDENTIALS))), /address unknown/);
  });

  it('fills a custom http template, which may not need the address at all', () => {
    assert.equal(push('10.0.0.5', { ...PUSH_CREDENTIALS, [PUSH_URL]: 'http://{ip}:8080/push?mac={mac}' }).url, `http://10.0.0.5:8080/push?mac=${MAC}`);
    const viaGateway = push(null, { ...PUSH_CREDENTIALS, [PUSH_URL]: ' https://gw.example.com/phones/{mac}/push ' });
    assert.equal(viaGateway.url, `https://gw.example.com/phones/${MAC}/push`);
    assert.equal(viaGateway.label, viaGateway.url);
  });

  it('refuses a template that is not an http(s) URL, naming the setting', () => {
    for (const template of ['ftp://{ip}/push', 'sip:{ip}', 'push at {ip}']) {
      const problem = problemOf(planPush(MAC, '10.0.0.5', settings({ ...PUSH_CREDENTIALS, [PUSH_URL]: template })));
      assert.match(problem, /is not an http\(s\) URL/, template);
      assert.ok(problem.includes(PUSH_URL), problem);
      assert.ok(problem.includes(template.replace('{ip}', '10.0.0.5')), `${problem} does not show the URL`);
    }
  });
});
