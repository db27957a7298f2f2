import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PhoneUserAgent } from '../../src/domain/user-agent.js';
import { parseUserAgent } from '../../src/domain/user-agent.js';

const SAMPLES: readonly [string, PhoneUserAgent][] = [
  [
    'FileTransport PolycomVVX-VVX_500-UA/5.9.7.4477 Type/Application',
    { client: 'filetransport', product: 'PolycomVVX', model: 'VVX_500', version: '5.9.7.4477', phase: 'application' },
  ],
  [
    'FileTransport PolycomVVX-VVX_500-UA/5.9.7.47435 Type/Updater',
    { client: 'filetransport', product: 'PolycomVVX', model: 'VVX_500', version: '5.9.7.47435', phase: 'updater' },
  ],
  [
    'FileTransport PolycomSoundPointIP-SPIP_335-UA/4.0.13.1445 (SN:0004f249d83f) Type/Application',
    {
      client: 'filetransport', product: 'PolycomSoundPointIP', model: 'SPIP_335', version: '4.0.13.1445',
      serial: '0004f249d83f', mac: '0004f249d83f', phase: 'application',
    },
  ],
  [
    'FileTransport PolycomSoundPointIP-SPIP_335-UA/3.2.1.0078',
    { client: 'filetransport', product: 'PolycomSoundPointIP', model: 'SPIP_335', version: '3.2.1.0078', phase: 'bootrom' },
  ],
  [
    'FileTransport PolycomSoundStationIP-SSIP_6000-UA/5.0.3.1667 Type/Updater',
    { client: 'filetransport', product: 'PolycomSoundStationIP', model: 'SSIP_6000', version: '5.0.3.1667', phase: 'updater' },
  ],
  [
    'FileTransport PolycomRealPresenceTrio-Trio_8800-UA/7.2.2.1094 (SN:12345) Type/Application',
    {
      client: 'filetransport', product: 'PolycomRealPresenceTrio', model: 'Trio_8800', version: '7.2.2.1094',
      serial: '12345', phase: 'application',
    },
  ],
  [
    'FileTransport PolyCCX-CCX_600-UA/8.0.2.3267 (SN:482567b5313f) Type/Application',
    {
      client: 'filetransport', product: 'PolyCCX', model: 'CCX_600', version: '8.0.2.3267',
      serial: '482567b5313f', mac: '482567b5313f', phase: 'application',
    },
  ],
  [
    'FileTransport G_SERIES-PolyStudioX30-UA/3.10.0_362035 Type/Application',
    { client: 'filetransport', product: 'G_SERIES', model: 'PolyStudioX30', version: '3.10.0_362035', phase: 'application' },
  ],
  [
    'Microbrowser/1.1 PolycomSoundPointIP-SPIP_550-UA/4.0.15.1047 Type/Application',
    { client: 'microbrowser', product: 'PolycomSoundPointIP', model: 'SPIP_550', version: '4.0.15.1047', phase: 'application' },
  ],
  [
    'Polycom/5.5.2.8571 PolycomVVX-VVX_310-UA/5.5.2.8571',
    { client: 'sip', product: 'PolycomVVX', model: 'VVX_310', version: '5.5.2.8571' },
  ],
  [
    'PolycomVVX-VVX_310-UA/5.3.0.12768',
    { client: 'sip', product: 'PolycomVVX', model: 'VVX_310', version: '5.3.0.12768' },
  ],
  [
    'PolycomVVX-VVX_400-UA/4.1.4.7430_0004F2ABCDEF',
    { client: 'sip', product: 'PolycomVVX', model: 'VVX_400', version: '4.1.4.7430', mac: '0004f2abcdef' },
  ],
  [
    'Polycom/4.1.4.7430 PolycomVVX-VVX_400-UA/4.1.4.7430_0004f2abcdef',
    { client: 'sip', product: 'PolycomVVX', model: 'VVX_400', version: '4.1.4.7430', mac: '0004f2abcdef' },
  ],
];

describe('parseUserAgent', () => {
  for (const [ua, expected] of SAMPLES) {
    it(`reads ${ua}`, () => {
      assert.deepEqual(parseUserAgent(ua), expected);
    });
  }

  it('does not treat a site-MAC serial as a MAC', () => {
    const parsed = parseUserAgent('FileTransport PolycomVVX-VVX_500-UA/5.9.7.4477 (SN:000000000000) Type/Application');
    assert.equal(parsed?.serial, '000000000000');
    assert.equal(parsed?.mac, undefined);
  });

  it('ignores surrounding whitespace and an unknown Type', () => {
    const parsed = parseUserAgent('  FileTransport PolycomVVX-VVX_500-UA/5.9.7.4477 Type/Something  ');
    assert.equal(parsed?.model, 'VVX_500');
    assert.equal(parsed?.phase, undefined);
  });

  it('returns null for garbage without throwing', () => {
    const garbage: unknown[] = [
      undefined, null, '', '   ', 'curl/8.0', 'Mozilla/5.0 (X11; Linux x86_64)', 'FileTransport', 'FileTransport curl/8.0',
      'FileTransport Acme-Phone_1-UA/1.0 Type/Application', 'FileTransport PolycomVVX-VVX_500-UA/', '\u0000\u0001\u00ff\ufffd binary',
      'FileTransport PolycomVVX-VVX_500-UA/5.9.7.4477\u0000', 42, {},
    ];
    for (const ua of garbage) {
      assert.equal(parseUserAgent(ua as string), null, JSON.stringify(ua));
    }
  });

  it('handles 100 KB strings quickly', () => {
    const started = performance.now();
    assert.equal(parseUserAgent('A'.repeat(100_000)), null);
    assert.equal(parseUserAgent(`FileTransport ${'Polycom-'.repeat(12_500)}`), null);
    assert.equal(parseUserAgent(' '.repeat(100_000)), null);
    // Only the beginning is examined, so a real UA followed by junk still identifies the phone.
    assert.equal(parseUserAgent(`FileTransport PolycomVVX-VVX_500-UA/5.9.7.4477 Type/Application ${'x'.repeat(100_000)}`)?.model, 'VVX_500');
    assert.ok(performance.now() - started < 200);
  });
});
