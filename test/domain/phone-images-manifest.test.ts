import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { DomainError } from '../../src/domain/domain-error.js';
import { renderPhoneImagesManifest } from '../../src/domain/phone-images-manifest.js';

function parse(xml: string): unknown {
  assert.equal(XMLValidator.validate(xml), true);
  return new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', parseTagValue: false, isArray: (name) => name === 'PHONE_IMAGE' }).parse(xml);
}

describe('renderPhoneImagesManifest', () => {
  it('writes the layout of fact sheet §9.2', () => {
    const xml = renderPhoneImagesManifest([{ version: '5.9.8.5760', path: 'http://server/firmware/5.9.8.5760/' }]);
    assert.equal(
      xml,
      [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<PHONE_IMAGES>',
        '  <REVISION ID="">',
        '    <PHONE_IMAGE>',
        '      <VERSION>5.9.8.5760</VERSION>',
        '      <PATH>http://server/firmware/5.9.8.5760/</PATH>',
        '    </PHONE_IMAGE>',
        '  </REVISION>',
        '</PHONE_IMAGES>',
        '',
      ].join('\n'),
    );
  });

  it('lists the newest version first and parses back to the entries', () => {
    const entries = [
      { version: '5.9.8.5760', path: 'http://server/firmware/5.9.8.5760/' },
      { version: ' 7.2.0 ', path: 'https://fw.example/t1/7.2.0/' },
      { version: '4.0.15.1009', path: 'http://server/firmware/4.0.15.1009/' },
      { version: '5.10.1', path: 'http://server/firmware/5.10.1/' },
    ];
    const parsed = parse(renderPhoneImagesManifest(entries));
    assert.deepEqual(parsed, {
      '?xml': { version: '1.0', encoding: 'UTF-8' },
      PHONE_IMAGES: {
        REVISION: {
          ID: '',
          PHONE_IMAGE: [
            { VERSION: '7.2.0', PATH: 'https://fw.example/t1/7.2.0/' },
            { VERSION: '5.10.1', PATH: 'http://server/firmware/5.10.1/' },
            { VERSION: '5.9.8.5760', PATH: 'http://server/firmware/5.9.8.5760/' },
            { VERSION: '4.0.15.1009', PATH: 'http://server/firmware/4.0.15.1009/' },
          ],
        },
      },
    });
  });

  it('escapes markup in paths', () => {
    const xml = renderPhoneImagesManifest([{ version: '6.4.6', path: 'http://server/fw?a=1&b=<2>' }]);
    assert.match(xml, /<PATH>http:\/\/server\/fw\?a=1&amp;b=&lt;2&gt;<\/PATH>/);
    const parsed = parse(xml) as { PHONE_IMAGES: { REVISION: { PHONE_IMAGE: { PATH: string }[] } } };
    assert.equal(parsed.PHONE_IMAGES.REVISION.PHONE_IMAGE[0]?.PATH, 'http://server/fw?a=1&b=<2>');
  });

  it('writes an empty revision when there is no firmware', () => {
    const xml = renderPhoneImagesManifest([]);
    assert.equal(xml, '<?xml version="1.0" encoding="UTF-8"?>\n<PHONE_IMAGES>\n  <REVISION ID=""/>\n</PHONE_IMAGES>\n');
    assert.equal(XMLValidator.validate(xml), true);
  });

  it('refuses a version listed twice, also in another spelling', () => {
    const twice = (a: string, b: string) => () => renderPhoneImagesManifest([
      { version: a, path: 'http://a/' },
      { version: '5.9.8.5760', path: 'http://c/' },
      { version: b, path: 'http://b/' },
    ]);
    assert.throws(twice('6.4.6', '6.4.6'), /firmware "6\.4\.6" is listed twice/);
    assert.throws(twice('6.4.6', '6.4.6.0'), (error: unknown) => {
      assert.ok(error instanceof DomainError);
      assert.match(error.message, /is listed twice \(also as "6\.4\.6(\.0)?"\)/);
      return true;
    });
  });

  it('refuses invalid versions and paths', () => {
    assert.throws(() => renderPhoneImagesManifest([{ version: '5.9.8rts', path: 'http://a/' }]), DomainError);
    for (const path of ['', ' http://a/', 'http://a/\n', 'http://a/\tb', 'http://a/\r']) {
      assert.throws(
        () => renderPhoneImagesManifest([{ version: '6.4.6', path }]),
        (error: unknown) => error instanceof DomainError && /^invalid path .* for firmware "6\.4\.6": expected the URL/.test(error.message),
        JSON.stringify(path),
      );
    }
    assert.throws(() => renderPhoneImagesManifest([{ version: '6.4.6', path: 'http://a/\u0001' }]), /U\+0001/);
  });
});
