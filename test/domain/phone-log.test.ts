import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PhoneLogEntry, PhoneLogLine } from '../../src/domain/phone-log.js';
import { classifyLogLine, parsePhoneLog, parsePhoneLogLine } from '../../src/domain/phone-log.js';

const MAC = '0004f2a1b2c3';

// Modelled on the boot and app logs in the fact sheet §6 (SoundStation IP 5000 boot log, VVX and
// Trio app logs): banners at level *, module tags padded to five characters.
const BOOT_LOG = [
  '000000.405|so   |*|00|---------- Initial log entry ----------',
  '000000.405|so   |*|00|Initial log entry. Current logging level 4',
  '000000.412|so   |*|00|+++ Note that bootrom log times are in GMT +++',
  '000000.520|so   |*|00|Platform: Model=SoundStation IP 5000, Assembly=3111-30900-001 Rev=B',
  `000000.521|so   |*|00|Platform: MAC=${MAC}`,
  '000000.522|so   |*|00|Platform: BootBlock=2.8.1 (30900-001)',
  '000001.210|so   |*|00|BootROM, main: Label=Muscovite, Version=4.3.0.0246',
  '000004.117|ethf |1|00|Link up at 100 Mb full duplex',
  '000012.903|copy |3|00|Downloading \'sip.ld\' from http://prov.example.com/acme/',
  '000031.085|so   |3|00|Loaded application sip.ld successfully',
  '000031.090|so   |*|00|---------- Final log entry ----------',
].join('\r\n');

function entry(line: PhoneLogLine | null): PhoneLogEntry {
  assert.ok(line && line.kind === 'entry', `expected an entry, got ${JSON.stringify(line)}`);
  return line;
}

describe('parsePhoneLogLine', () => {
  it('reads the guides\' example line', () => {
    assert.deepEqual(parsePhoneLogLine('011511.006|so   |2|00|soCoreAudioTermChg: chassis -> idle'), {
      kind: 'entry',
      time: { kind: 'since-boot', seconds: 3600 + 15 * 60 + 11.006 },
      module: 'so',
      level: 2,
      missed: 0,
      text: 'soCoreAudioTermChg: chassis -> idle',
      raw: '011511.006|so   |2|00|soCoreAudioTermChg: chassis -> idle',
    });
  });

  it('reads since-boot stamps as hours, minutes, seconds and milliseconds', () => {
    const seconds = (stamp: string) => {
      const time = entry(parsePhoneLogLine(`${stamp}|so   |3|00|x`)).time;
      assert.equal(time.kind, 'since-boot');
      return time.kind === 'since-boot' ? time.seconds : NaN;
    };
    assert.equal(seconds('000000.405'), 0.405);
    assert.equal(seconds('005435.984'), 54 * 60 + 35.984);
    assert.equal(seconds('001011.085'), 10 * 60 + 11.085);
    assert.equal(seconds('1230000.000'), 123 * 3600);
  });

  it('reads MMDDhhmmss wall-clock stamps', () => {
    assert.deepEqual(entry(parsePhoneLogLine('0913152920|cfg  |4|00|Prm|Parameter log.render.level requires reboot')).time, {
      kind: 'wall-clock',
      month: 9,
      day: 13,
      hour: 15,
      minute: 29,
      second: 20,
    });
    assert.deepEqual(entry(parsePhoneLogLine('0517184023|sip  |4|00|Registration of line 1 succeeded')).time, {
      kind: 'wall-clock',
      month: 5,
      day: 17,
      hour: 18,
      minute: 40,
      second: 23,
    });
    assert.equal(entry(parsePhoneLogLine('0229235959|so   |4|00|leap day')).time.kind, 'wall-clock');
  });

  it('keeps stamps it cannot read as unknown rather than guessing', () => {
    for (const stamp of ['0210281716', '1301000000', '0231120000', '0101240000', '000060.000', '12345', '2024-05-17T18:40:23']) {
      assert.deepEqual(entry(parsePhoneLogLine(`${stamp}|so   |4|00|text`)).time, { kind: 'unknown', raw: stamp }, stamp);
    }
  });

  it('trims the module padding and accepts mixed-case and numbered tags', () => {
    for (const [field, module] of [['so   ', 'so'], ['dectU', 'dectU'], ['AuthS', 'AuthS'], ['app1 ', 'app1'], [' curl', 'curl'], ['nisvc', 'nisvc']]) {
      assert.equal(entry(parsePhoneLogLine(`0101000002|${field}|4|00|x`)).module, module);
    }
  });

  it('reads * and digit levels and the missed-events count', () => {
    const banner = entry(parsePhoneLogLine('000000.405|so   |*|00|---------- Initial log entry ----------'));
    assert.equal(banner.level, '*');
    const busy = entry(parsePhoneLogLine('0618082314|sip  |5|12|SIP stack queue full'));
    assert.equal(busy.level, 5);
    assert.equal(busy.missed, 12);
  });

  it('keeps pipes and trailing text in the message', () => {
    const line = entry(parsePhoneLogLine('0618082314|cfg  |4|00|Prm|Parameter dir.local.readonly=1 | from server'));
    assert.equal(line.text, 'Prm|Parameter dir.local.readonly=1 | from server');
    assert.equal(entry(parsePhoneLogLine('0618082314|cfg  |4|00|')).text, '');
  });

  it('drops a carriage return and returns null only for blank lines', () => {
    assert.equal(entry(parsePhoneLogLine('0618082314|so   |4|00|text\r')).raw, '0618082314|so   |4|00|text');
    assert.equal(parsePhoneLogLine(''), null);
    assert.equal(parsePhoneLogLine('  \t\r'), null);
  });

  it('marks lines outside the format as unparsed, keeping them', () => {
    for (const raw of [
      'Loading kernel...',
      '0618082314|so   |4|00',
      '0618082314|so   |44|00|two-digit level',
      '0618082314|so   |4|0|one-digit missed',
      '0618082314|a module with spaces|4|00|x',
      '|so   |4|00|no time',
      'time|so   |4|00|time is not numeric',
      '0618082314|so   |4|00|trunc\u0000\u0001ated'.slice(0, 14),
      '\u00ff\u00fe\u0000\u0001garbage|||',
    ]) {
      assert.deepEqual(parsePhoneLogLine(raw), { kind: 'unparsed', raw }, raw);
    }
  });

  it('reads lines that came through syslog, keeping the header', () => {
    const line = entry(parsePhoneLogLine(`Jan  1 00:00:02 192.168.1.50 0101000002|copy |4|00|Uploading '${MAC}-boot.log'`));
    assert.equal(line.syslogPrefix, 'Jan  1 00:00:02 192.168.1.50');
    assert.deepEqual(line.time, { kind: 'wall-clock', month: 1, day: 1, hour: 0, minute: 0, second: 2 });
    assert.equal(line.module, 'copy');
    assert.equal(line.text, `Uploading '${MAC}-boot.log'`);

    const rfc5424 = entry(parsePhoneLogLine('<134>1 2024-05-17T18:40:23.000Z vvx450 - - - 0517184023|sip  |4|00|Registered'));
    assert.equal(rfc5424.syslogPrefix, '<134>1 2024-05-17T18:40:23.000Z vvx450 - - -');
    assert.equal(rfc5424.text, 'Registered');

    const withPri = entry(parsePhoneLogLine('<11>May 17 18:40:23 10.0.0.7 0517184023|so   |6|00|Watchdog expired'));
    assert.equal(withPri.level, 6);
  });

  it('does not search for entries inside lines without a syslog header', () => {
    assert.equal(parsePhoneLogLine('note: 0101000002|so   |4|00|quoted in a mail')?.kind, 'unparsed');
  });
});

describe('parsePhoneLog', () => {
  it('reads a CRLF boot log line by line', () => {
    const lines = parsePhoneLog(BOOT_LOG);
    assert.equal(lines.length, 11);
    assert.ok(lines.every((line) => line.kind === 'entry'));
    assert.equal(entry(lines[4] ?? null).text, `Platform: MAC=${MAC}`);
    assert.equal(entry(lines[10] ?? null).text, '---------- Final log entry ----------');
  });

  it('handles LF, a trailing newline, a last line without one, and blank lines', () => {
    const text = '0101000002|so   |4|00|a\n\n0101000003|so   |4|00|b\r\n0101000004|so   |4|00|c';
    assert.deepEqual(parsePhoneLog(text).map((line) => (line.kind === 'entry' ? line.text : line.raw)), ['a', 'b', 'c']);
    assert.equal(parsePhoneLog(`${text}\n`).length, 3);
    assert.deepEqual(parsePhoneLog(''), []);
    assert.deepEqual(parsePhoneLog('\r\n\n'), []);
  });

  it('keeps a truncated last line (an upload cut mid-line) as unparsed', () => {
    const lines = parsePhoneLog('0101000002|so   |4|00|complete\n0101000003|so');
    assert.equal(lines.length, 2);
    assert.deepEqual(lines[1], { kind: 'unparsed', raw: '0101000003|so' });
  });

  it('reads a large log quickly', () => {
    const line = '0913152920|sip  |4|00|Registration of line 1 to sip.example.com succeeded\n';
    const text = line.repeat(100_000);
    const started = performance.now();
    assert.equal(parsePhoneLog(text).length, 100_000);
    assert.ok(performance.now() - started < 2000);
  });
});

function classify(line: string): string[] {
  const parsed = parsePhoneLogLine(line);
  assert.ok(parsed);
  return classifyLogLine(parsed);
}

describe('classifyLogLine', () => {
  it('leaves ordinary lines and banners alone', () => {
    for (const line of BOOT_LOG.split('\r\n')) assert.deepEqual(classify(line), [], line);
    assert.deepEqual(classify('0913152920|sip  |4|00|Registration of line 1 to sip.example.com succeeded'), []);
    assert.deepEqual(classify('0913152920|curl |4|00|TLS handshake with prov.example.com:443 complete, TLSv1.2'), []);
    assert.deepEqual(classify('0913152920|dns  |3|00|Resolved prov.example.com to 192.0.2.10'), []);
    assert.deepEqual(classify('0913152920|sip  |4|00|Failed to get registration binding, retrying in 60 s'), []);
  });

  it('flags failed file transfers', () => {
    assert.deepEqual(
      classify(`0913152920|cfg  |4|00|dbSet::srv2mem:'${MAC}-directory.xml' File transfer failed, trying to get local file`),
      ['file-transfer'],
    );
    assert.deepEqual(classify(`0913152920|copy |4|00|Could not download 'sip.ld' from http://prov.example.com/`), ['file-transfer']);
    assert.deepEqual(classify('0913152920|curl |4|00|failed to connect to 192.0.2.10 port 80: Connection refused'), ['file-transfer']);
    assert.deepEqual(
      classify('0913152920|log  |4|00|Could not set custom Content-Range header: HEAD request failed to get server file length'),
      ['file-transfer'],
    );
    assert.deepEqual(classify('0913152920|log  |4|00|Failed to upload boot log on start-up'), ['file-transfer']);
  });

  it('flags TLS handshake and certificate failures', () => {
    assert.deepEqual(
      classify('0913152920|curl |4|00|SSL certificate problem: unable to get local issuer certificate'),
      ['tls', 'certificate', 'file-transfer'],
    );
    assert.deepEqual(classify('0913152920|sip  |4|00|TLS handshake failed with 192.0.2.20:5061'), ['tls']);
    assert.deepEqual(
      classify('0913152920|curl |4|00|error:14090086:SSL routines:ssl3_get_server_certificate:certificate verify failed'),
      ['tls', 'certificate', 'file-transfer'],
    );
    assert.deepEqual(classify('0913152920|sec  |4|00|Device certificate has expired'), ['certificate']);
    assert.deepEqual(classify('0913152920|sip  |4|00|TLS alert received: unknown ca'), ['tls', 'certificate']);
  });

  it('flags DNS failures', () => {
    assert.deepEqual(classify("0913152920|curl |4|00|Couldn't resolve host 'prov.example.com'"), ['dns', 'file-transfer']);
    assert.deepEqual(classify('0913152920|dns  |4|00|Query for _sip._udp.example.com timed out'), ['dns']);
    assert.deepEqual(classify('0913152920|sip  |4|00|DNS SRV lookup failed for example.com'), ['dns']);
  });

  it('flags major and fatal errors by level, leaving level 4 alone by default', () => {
    assert.deepEqual(classify('0913152920|so   |5|00|Out of memory in pool 3'), ['error']);
    assert.deepEqual(classify('0913152920|wdog |6|00|Watchdog timeout, rebooting'), ['error']);
    assert.deepEqual(classify('0913152920|so   |4|00|Out of memory in pool 3'), []);
    const parsed = parsePhoneLogLine('0913152920|so   |4|00|Out of memory in pool 3');
    assert.ok(parsed);
    assert.deepEqual(classifyLogLine(parsed, { errorLevel: 4 }), ['error']);
  });

  it('uses the level to confirm a TLS or DNS line is a failure', () => {
    assert.deepEqual(classify('0913152920|dns  |5|00|No answer for prov.example.com'), ['dns', 'error']);
    assert.deepEqual(classify('0913152920|curl |5|00|TLS session closed by peer'), ['tls', 'file-transfer', 'error']);
  });

  it('looks at the raw text of unparsed lines', () => {
    assert.deepEqual(classifyLogLine({ kind: 'unparsed', raw: 'curl: (60) SSL certificate problem: self signed certificate' }), [
      'tls',
      'certificate',
    ]);
    assert.deepEqual(classifyLogLine({ kind: 'unparsed', raw: 'random garbage' }), []);
  });
});
