import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DomainError } from '../../src/domain/domain-error.js';
import { classifyRelease } from '../../src/domain/firmware-release.js';

const SPLIT_ZIP = 'UC_Software_5_9_8_5760_release_sig_split.zip';
const TOP = 'UC_Software_5_9_8_5760_release_sig_split/';

// The listing of a split release zip as Poly ships it (shortened: fewer models and languages).
const SPLIT_FILES = [
  { path: TOP, size: 0 },
  { path: `${TOP}3111-44500-001.sip.ld`, size: 73_400_320 },
  { path: `${TOP}3111-48810-001.sip.ld`, size: 81_264_640 },
  { path: `${TOP}2345-12375-001.sip.ld`, size: 10_485_760 },
  { path: `${TOP}sip.ver`, size: 11 },
  { path: `${TOP}000000000000.cfg`, size: 1_742 },
  { path: `${TOP}SoundPointIPLocalization/`, size: 0 },
  { path: `${TOP}SoundPointIPLocalization/German_Germany/SoundPointIP-dictionary.xml`, size: 98_304 },
  { path: `${TOP}SoundPointIPLocalization/Japanese_Japan/SoundPointIP-dictionary.xml`, size: 101_376 },
  { path: `${TOP}polycomConfig.xsd`, size: 1_226_752 },
];

function domainError(pattern: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof DomainError, String(error));
    assert.match(error.message, pattern);
    return true;
  };
}

describe('classifyRelease: split release', () => {
  const release = classifyRelease({ files: SPLIT_FILES, sipVer: '5.9.8.5760\r\n', sourceName: SPLIT_ZIP });

  it('finds one application image per part number, with its models', () => {
    assert.equal(release.version, '5.9.8.5760');
    assert.equal(release.layout, 'split');
    assert.deepEqual(release.images, [
      { path: `${TOP}3111-44500-001.sip.ld`, fileName: '3111-44500-001.sip.ld', kind: 'application', partNumber: '3111-44500-001', models: ['VVX_500'], size: 73_400_320 },
      { path: `${TOP}3111-48810-001.sip.ld`, fileName: '3111-48810-001.sip.ld', kind: 'application', partNumber: '3111-48810-001', models: ['VVX_150'], size: 81_264_640 },
      { path: `${TOP}2345-12375-001.sip.ld`, fileName: '2345-12375-001.sip.ld', kind: 'application', partNumber: '2345-12375-001', models: ['SPIP_335'], size: 10_485_760 },
    ]);
    assert.deepEqual(release.unknownParts, []);
  });

  it('ignores templates, sip.ver and localisation files, and skips directory entries', () => {
    assert.deepEqual(release.ignored, [
      `${TOP}sip.ver`,
      `${TOP}000000000000.cfg`,
      `${TOP}SoundPointIPLocalization/German_Germany/SoundPointIP-dictionary.xml`,
      `${TOP}SoundPointIPLocalization/Japanese_Japan/SoundPointIP-dictionary.xml`,
      `${TOP}polycomConfig.xsd`,
    ]);
  });

  it('works the same for a folder without a top directory, and with Windows separators', () => {
    const loose = classifyRelease({ files: SPLIT_FILES.filter((f) => f.path !== TOP).map((f) => ({ ...f, path: f.path.slice(TOP.length) })), sipVer: '5.9.8.5760' });
    assert.deepEqual(loose.images.map((i) => i.fileName), ['3111-44500-001.sip.ld', '3111-48810-001.sip.ld', '2345-12375-001.sip.ld']);
    const windows = classifyRelease({ files: [{ path: 'UC\\fw\\3111-44500-001.sip.ld', size: 5 }], version: '5.9.8' });
    assert.equal(windows.images[0]?.fileName, '3111-44500-001.sip.ld');
    assert.equal(windows.images[0]?.path, 'UC\\fw\\3111-44500-001.sip.ld');
  });
});

describe('classifyRelease: combined and mixed releases', () => {
  it('recognises a combined release (sip.ld for every model)', () => {
    const release = classifyRelease({
      files: [{ path: 'sip.ld', size: 157_286_400 }, { path: 'sip.ver', size: 11 }],
      sipVer: '4.0.15.1009\n',
      sourceName: 'UC_Software_4_0_15_release_sig_combined.zip',
    });
    assert.equal(release.version, '4.0.15.1009', 'sip.ver wins over the name');
    assert.equal(release.layout, 'combined');
    assert.deepEqual(release.images, [
      { path: 'sip.ld', fileName: 'sip.ld', kind: 'application', partNumber: null, models: [], size: 157_286_400 },
    ]);
    assert.deepEqual(release.unknownParts, []);
    assert.deepEqual(release.ignored, ['sip.ver']);
  });

  it('recognises a mixed release and the other image kinds, keeping the file name case', () => {
    const release = classifyRelease({
      files: [
        { path: 'fw/SIP.LD', size: 100 },
        { path: 'fw/3111-44600-001.sip.ld', size: 90 },
        { path: 'fw/bootrom.ld', size: 10 },
        { path: 'fw/2345-12670-001.BootROM.ld', size: 11 },
        { path: 'fw/updater.ld', size: 12 },
        { path: 'fw/2345-12450-002.updater.ld', size: 13 },
        { path: 'fw/2345-12600-001.upgrader.ld', size: 14 },
        { path: 'fw/upgrader.ld', size: 15 },
        { path: 'fw/sip.ld.bak', size: 16 },
        { path: 'fw/3111-44600-01.sip.ld', size: 17 },
        { path: 'fw/x3111-44600-001.sip.ld', size: 18 },
        { path: 'fw/sip_335.ld', size: 19 },
      ],
      version: '4.0.15.1009',
    });
    assert.equal(release.layout, 'mixed');
    assert.deepEqual(
      release.images.map((i) => [i.fileName, i.kind, i.partNumber, i.models]),
      [
        ['SIP.LD', 'application', null, []],
        ['3111-44600-001.sip.ld', 'application', '3111-44600-001', ['VVX_600']],
        ['bootrom.ld', 'bootrom', null, []],
        ['2345-12670-001.BootROM.ld', 'bootrom', '2345-12670-001', ['SPIP_670']],
        ['updater.ld', 'updater', null, []],
        ['2345-12450-002.updater.ld', 'updater', '2345-12450-002', ['SPIP_450']],
        ['2345-12600-001.upgrader.ld', 'updater', '2345-12600-001', ['SPIP_650']],
      ],
    );
    assert.deepEqual(release.ignored, [
      'fw/upgrader.ld', 'fw/sip.ld.bak', 'fw/3111-44600-01.sip.ld', 'fw/x3111-44600-001.sip.ld', 'fw/sip_335.ld',
    ]);
  });
});

describe('classifyRelease: part numbers', () => {
  it('keeps images of unknown part numbers and lists each part once', () => {
    const release = classifyRelease({
      files: [
        { path: '3111-66700-001.sip.ld', size: 1 },
        { path: '3111-66700-001.bootrom.ld', size: 1 },
        { path: '3111-44500-001.sip.ld', size: 1 },
        { path: '9999-00000-001.sip.ld', size: 1 },
      ],
      version: '5.9.8.5760',
    });
    assert.deepEqual(release.images.map((i) => i.fileName), [
      '3111-66700-001.sip.ld', '3111-66700-001.bootrom.ld', '3111-44500-001.sip.ld', '9999-00000-001.sip.ld',
    ]);
    assert.deepEqual(release.images[0]?.models, []);
    assert.deepEqual(release.unknownParts, ['3111-66700-001', '9999-00000-001']);
  });

  it('knows the VVX D60 base image (a release of DECT images only is accepted)', () => {
    const release = classifyRelease({ files: [{ path: 'D60/3111-17823-001.dect.ld', size: 4_194_304 }], version: '5.9.8.5760' });
    assert.deepEqual(release.images, [
      { path: 'D60/3111-17823-001.dect.ld', fileName: '3111-17823-001.dect.ld', kind: 'dect', partNumber: '3111-17823-001', models: ['VVX_D60'], size: 4_194_304 },
    ]);
    assert.deepEqual(release.unknownParts, []);
    assert.equal(release.layout, 'split');
  });

  it('treats the D60 part as unknown on anything but a DECT image, and other DECT parts as unknown', () => {
    const release = classifyRelease({
      files: [{ path: '3111-17823-001.sip.ld', size: 1 }, { path: '3111-17824-001.dect.ld', size: 1 }],
      version: '6.4.6',
    });
    assert.deepEqual(release.images.map((i) => i.models), [[], []]);
    assert.deepEqual(release.unknownParts, ['3111-17823-001', '3111-17824-001']);
  });

  it('returns fresh model arrays', () => {
    const first = classifyRelease({ files: [{ path: '3111-44500-001.sip.ld', size: 1 }], version: '6.4.6' });
    first.images[0]?.models.push('x');
    const second = classifyRelease({ files: [{ path: '3111-44500-001.sip.ld', size: 1 }], version: '6.4.6' });
    assert.deepEqual(second.images[0]?.models, ['VVX_500']);
  });
});

describe('classifyRelease: version', () => {
  const files = [{ path: 'sip.ld', size: 1 }];

  it('takes the administrator\'s version, which must agree with sip.ver', () => {
    assert.equal(classifyRelease({ files, version: ' 6.4.6 ', sipVer: '6.4.6.0\n' }).version, '6.4.6');
    assert.equal(classifyRelease({ files, version: '6.4.6', sourceName: SPLIT_ZIP }).version, '6.4.6', 'given version wins over the name');
    assert.throws(
      () => classifyRelease({ files, version: '5.9.8.5760', sipVer: '5.9.7.1234\n' }),
      domainError(/the given version "5\.9\.8\.5760" disagrees with the release's sip\.ver, which says "5\.9\.7\.1234"/),
    );
    assert.throws(() => classifyRelease({ files, version: 'latest' }), domainError(/invalid firmware version "latest"/));
  });

  it('lets the administrator override an unreadable sip.ver', () => {
    assert.equal(classifyRelease({ files, version: '5.9.8.5760', sipVer: 'garbage' }).version, '5.9.8.5760');
  });

  it('reads the first non-empty line of sip.ver', () => {
    assert.equal(classifyRelease({ files, sipVer: '\r\n  \n 7.2.0 \nsomething else\n' }).version, '7.2.0');
    assert.equal(classifyRelease({ files, sipVer: '\uFEFF5.9.8.5760' }).version, '5.9.8.5760');
  });

  it('refuses a sip.ver that is not a version, asking for --version', () => {
    for (const sipVer of ['5.9.8rts\n', '', '\n\n', 'UC Software 5.9.8']) {
      assert.throws(() => classifyRelease({ files, sipVer, sourceName: SPLIT_ZIP }), domainError(/sip\.ver does not start with a UC Software version.*--version/));
    }
  });

  it('falls back to the zip or folder name', () => {
    const cases: readonly [string, string][] = [
      [SPLIT_ZIP, '5.9.8.5760'],
      ['UC_Software_6_4_6_release_sig_split.zip', '6.4.6'],
      ['uc_software_4_0_15_release_sig_combined', '4.0.15'],
      ['/downloads/UC_Software_7_2_0_release_sig_split', '7.2.0'],
      ['5.9.8.5760', '5.9.8.5760'],
      ['5.9.8.5760.zip', '5.9.8.5760'],
      ['firmware/6.4.6', '6.4.6'],
    ];
    for (const [sourceName, version] of cases) {
      assert.equal(classifyRelease({ files, sourceName }).version, version, sourceName);
    }
  });

  it('asks for --version when nothing gives one', () => {
    for (const sourceName of [undefined, '5.8.0.12386-June2018', 'UC_Software_latest.zip', 'UC_Software_1_2_3_4_5_6.zip', 'UC_Software_5_9_8_5760000.zip', 'UC_Software_5.zip', 'firmware.zip']) {
      assert.throws(
        () => classifyRelease({ files, sourceName }),
        domainError(/^cannot tell the version of .*: it has no sip\.ver .*give the version with --version/),
        String(sourceName),
      );
    }
  });
});

describe('classifyRelease: refusals', () => {
  it('refuses two images of one name in different folders, naming both paths', () => {
    assert.throws(
      () => classifyRelease({
        files: [{ path: 'a/3111-44500-001.sip.ld', size: 1 }, { path: 'b/3111-44500-001.SIP.LD', size: 2 }],
        version: '6.4.6',
        sourceName: 'two.zip',
      }),
      domainError(/"3111-44500-001\.SIP\.LD" appears twice in "two\.zip", as "a\/3111-44500-001\.sip\.ld" and "b\/3111-44500-001\.SIP\.LD"/),
    );
    assert.throws(
      () => classifyRelease({ files: [{ path: 'sip.ld', size: 1 }, { path: 'sip.ld', size: 1 }], version: '6.4.6' }),
      domainError(/appears twice in the release/),
    );
  });

  it('lets files that are not images share a name', () => {
    const release = classifyRelease({ files: [{ path: 'a/x.xml', size: 1 }, { path: 'b/x.xml', size: 1 }, { path: 'sip.ld', size: 1 }], version: '6.4.6' });
    assert.deepEqual(release.ignored, ['a/x.xml', 'b/x.xml']);
  });

  it('refuses a release without an application or DECT image', () => {
    const listings = [
      [],
      [{ path: 'sip.ver', size: 11 }, { path: '000000000000.cfg', size: 10 }],
      [{ path: 'bootrom.ld', size: 10 }, { path: '3111-44500-001.updater.ld', size: 10 }],
    ];
    for (const files of listings) {
      assert.throws(
        () => classifyRelease({ files, version: '6.4.6', sourceName: 'BootROM_4_4_0.zip' }),
        domainError(/^no UC Software image \(sip\.ld or <part-number>\.sip\.ld\) in "BootROM_4_4_0\.zip"/),
      );
    }
  });

  it('refuses an empty image but not an empty ignored file', () => {
    assert.throws(
      () => classifyRelease({ files: [{ path: 'x/3111-44500-001.sip.ld', size: 0 }], version: '6.4.6' }),
      domainError(/image "x\/3111-44500-001\.sip\.ld" is empty/),
    );
    assert.equal(classifyRelease({ files: [{ path: 'empty.cfg', size: 0 }, { path: 'sip.ld', size: 1 }], version: '6.4.6' }).ignored[0], 'empty.cfg');
  });

  it('refuses malformed listing entries', () => {
    assert.throws(() => classifyRelease({ files: [{ path: '', size: 1 }], version: '6.4.6' }), domainError(/invalid file path/));
    for (const size of [-1, 1.5, Number.NaN]) {
      assert.throws(() => classifyRelease({ files: [{ path: 'sip.ld', size }], version: '6.4.6' }), domainError(/invalid size/));
    }
  });
});
