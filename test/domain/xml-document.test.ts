import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { DomainError } from '../../src/domain/domain-error.js';
import { parseXmlAttributes } from '../../src/domain/polycom-xml.js';
import { escapeAttributeValue, escapeTextContent, renderXmlDocument, sanitizeComment } from '../../src/domain/xml-document.js';

describe('escapeAttributeValue', () => {
  it('writes markup characters and TAB/LF/CR as references', () => {
    assert.equal(escapeAttributeValue(`a&b<c>d"e'f\tg\nh\ri`), 'a&amp;b&lt;c&gt;d&quot;e&apos;f&#9;g&#10;h&#13;i');
    assert.equal(escapeAttributeValue('&amp;'), '&amp;amp;');
    assert.equal(escapeAttributeValue('plain ünï 😀'), 'plain ünï 😀');
  });
});

describe('escapeTextContent', () => {
  it('writes markup characters and CR as references, keeps quotes, TAB and LF', () => {
    assert.equal(escapeTextContent(`a&b<c>d"e'f\tg\nh\ri`), `a&amp;b&lt;c&gt;d"e'f\tg\nh&#13;i`);
    assert.equal(escapeTextContent(']]>'), ']]&gt;');
    assert.equal(escapeTextContent('plain ünï 😀'), 'plain ünï 😀');
  });
});

describe('sanitizeComment', () => {
  it('never lets "--" or a trailing "-" reach the comment', () => {
    for (const text of ['a--b', '---', '-', 'x-', '--> <!--', 'a\u0000b']) {
      const safe = sanitizeComment(text);
      assert.ok(!safe.includes('--'), safe);
      assert.ok(!safe.endsWith('-'), safe);
      assert.equal(XMLValidator.validate(`<!--${safe}--><a/>`), true);
      assert.deepEqual(parseXmlAttributes(`<!--${safe}--><a/>`), []);
    }
  });
});

describe('renderXmlDocument', () => {
  it('writes declaration, comment, indented elements and a final newline', () => {
    const xml = renderXmlDocument(
      { version: '1.0', encoding: 'UTF-8', standalone: 'yes' },
      { name: 'root', attributes: [['b', '2'], ['a', '1']], children: [{ name: 'child', attributes: [['c', '3']] }] },
      'made by a test',
    );
    assert.equal(
      xml,
      '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<!-- made by a test -->\n<root b="2" a="1">\n  <child c="3"/>\n</root>\n',
    );
  });

  it('keeps the string "true" as a value', () => {
    const xml = renderXmlDocument({ version: '1.0' }, { name: 'a', attributes: [['x', 'true']] });
    assert.match(xml, /<a x="true"\/>/);
  });

  it('refuses names that are not XML names and duplicate attributes', () => {
    const bad = (root: Parameters<typeof renderXmlDocument>[1]) => () => renderXmlDocument({ version: '1.0' }, root);
    assert.throws(bad({ name: '1abc', attributes: [] }), DomainError);
    assert.throws(bad({ name: 'a b', attributes: [] }), DomainError);
    assert.throws(bad({ name: 'a', attributes: [['x"y', '1']] }), DomainError);
    assert.throws(bad({ name: 'a', attributes: [['x', '1'], ['x', '2']] }), /appears twice/);
    assert.throws(bad({ name: 'a', attributes: [['x', 'a\u0001']] }), /U\+0001/);
  });

  it('writes text content on one line with its element, escaped', () => {
    const xml = renderXmlDocument(
      { version: '1.0', encoding: 'UTF-8' },
      {
        name: 'list',
        attributes: [],
        children: [
          { name: 'item', attributes: [['id', '1']], text: 'a & <b> ]]> "c"' },
          { name: 'item', attributes: [], text: '' },
          { name: 'item', attributes: [], text: 'x/>y</z', children: [] },
        ],
      },
    );
    assert.equal(
      xml,
      '<?xml version="1.0" encoding="UTF-8"?>\n<list>\n  <item id="1">a &amp; &lt;b&gt; ]]&gt; "c"</item>\n  <item/>\n  <item>x/&gt;y&lt;/z</item>\n</list>\n',
    );
    assert.equal(XMLValidator.validate(xml), true);
    const parsed = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', parseTagValue: false, trimValues: false }).parse(xml);
    assert.deepEqual(parsed.list.item, [{ '#text': 'a & <b> ]]> "c"', id: '1' }, '', 'x/>y</z']);
  });

  it('refuses text together with child elements, and characters XML cannot carry', () => {
    const child = { name: 'c', attributes: [] };
    assert.throws(
      () => renderXmlDocument({ version: '1.0' }, { name: 'a', attributes: [], text: 'x', children: [child] }),
      /<a> has both text and child elements/,
    );
    assert.throws(() => renderXmlDocument({ version: '1.0' }, { name: 'a', attributes: [], text: 'x\u0000' }), /text of <a> contains U\+0000 at position 1/);
    assert.throws(() => renderXmlDocument({ version: '1.0' }, { name: '1a', attributes: [], text: 'x' }), DomainError);
  });
});
