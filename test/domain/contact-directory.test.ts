import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { Contact } from '../../src/domain/contact-directory.js';
import { parseDirectory, renderDirectory } from '../../src/domain/contact-directory.js';
import { DomainError } from '../../src/domain/domain-error.js';
import { hasConformantParser } from './conformant-xml.js';

const SAMPLE = readFileSync(new URL('../../../shared/reference/stock-masters/directory-sample.xml', import.meta.url), 'utf8');

const directory = (items: string): string => `<directory><item_list>${items}</item_list></directory>`;

function throwsDomain(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (error: unknown) => error instanceof DomainError && pattern.test(error.message));
}

const JANE: Contact = {
  firstName: 'Jane', lastName: 'Doe', contact: '1001', speedDial: 1, label: 'Jane', protocol: 'SIP',
  ringType: 3, divertContact: '2002', autoDivert: false, autoReject: true, buddyWatch: true, buddyBlock: false,
};

describe('parseDirectory: the stock sample', () => {
  it('reads every contact, taking the bare "&" in a label literally and saying so', () => {
    const { contacts, problems } = parseDirectory(SAMPLE);
    assert.equal(contacts.length, 7);
    assert.deepEqual(contacts[0], {
      firstName: 'External Conference', lastName: '333#', contact: '6786262111', speedDial: 1, label: 'Ext-Conf',
      autoDivert: false, autoReject: false, buddyWatch: false, buddyBlock: false,
    });
    assert.equal(contacts[1]?.label, 'A&A');
    assert.equal(contacts[1]?.firstName, '');
    assert.equal(contacts[4]?.contact, '(770) 565-1556');
    assert.equal(contacts[6]?.buddyWatch, true);
    assert.deepEqual(contacts.map((c) => c.speedDial), [1, 2, 3, 4, 5, 6, 7]);
    assert.equal(problems.length, 1);
    assert.match(problems[0] ?? '', /bare "&".*line 21, column 12/);
  });

  it('round-trips through renderDirectory exactly, and the rewrite is clean XML', () => {
    const { contacts } = parseDirectory(SAMPLE);
    const xml = renderDirectory(contacts);
    assert.match(xml, /<lb>A&amp;A<\/lb>/);
    assert.deepEqual(parseDirectory(xml), { contacts, problems: [] });
    assert.equal(renderDirectory(parseDirectory(xml).contacts), xml);
  });
});

describe('renderDirectory', () => {
  it('writes the documented shape: declaration, fields in §5.1 order, absent fields left out', () => {
    const xml = renderDirectory([JANE, { firstName: '', lastName: 'Reception', contact: '100' }]);
    assert.equal(
      xml,
      [
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>',
        '<directory>',
        '  <item_list>',
        '    <item>',
        '      <ln>Doe</ln>', '      <fn>Jane</fn>', '      <ct>1001</ct>', '      <sd>1</sd>', '      <lb>Jane</lb>',
        '      <pt>SIP</pt>', '      <rt>3</rt>', '      <dc>2002</dc>', '      <ad>0</ad>', '      <ar>1</ar>',
        '      <bw>1</bw>', '      <bb>0</bb>',
        '    </item>',
        '    <item>',
        '      <ln>Reception</ln>', '      <fn/>', '      <ct>100</ct>',
        '    </item>',
        '  </item_list>',
        '</directory>',
        '',
      ].join('\n'),
    );
    assert.equal(renderDirectory([]), '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<directory>\n  <item_list/>\n</directory>\n');
  });

  it('escapes special characters so every value round-trips exactly', () => {
    const tricky: Contact[] = [
      { firstName: 'A & B <C>', lastName: ']]> "quoted" \'x\'', contact: 'sip:a&b@example.com', label: 'two\nlines', divertContact: 'cr\r\nlf' },
      { firstName: 'Ünïcødé 😀', lastName: '&amp; stays text', contact: '&#65;', label: '<![CDATA[x]]>' },
    ];
    const xml = renderDirectory(tricky);
    assert.deepEqual(parseDirectory(xml), { contacts: tricky, problems: [] });
  });

  it('is read the same way by a conformant XML parser', { skip: !hasConformantParser && 'python3 missing' }, () => {
    const tricky: Contact[] = [{ firstName: 'A & B <C> ]]>', lastName: '"\'', contact: 'sip:a&b@x', label: 'l1\nl2', divertContact: 'c\r\nd\te' }];
    const script = `
import json, sys
import xml.etree.ElementTree as ET
root = ET.fromstring(sys.stdin.buffer.read())
json.dump([{f.tag: f.text or '' for f in item} for item in root.iter('item')], sys.stdout)`;
    const run = spawnSync('python3', ['-c', script], { input: renderDirectory(tricky), encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), [{ ln: '"\'', fn: 'A & B <C> ]]>', ct: 'sip:a&b@x', lb: 'l1\nl2', dc: 'c\r\nd\te' }]);
  });

  it('writes trimmed values and leaves empty optional fields out (the canonical form parseDirectory returns)', () => {
    const xml = renderDirectory([{ firstName: ' Jane ', lastName: '', contact: ' 1001\n', label: '  ', divertContact: '' }]);
    assert.deepEqual(parseDirectory(xml).contacts, [{ firstName: 'Jane', lastName: '', contact: '1001' }]);
    assert.doesNotMatch(xml, /<lb|<dc/);
  });

  it('refuses bad contacts with one DomainError naming each row', () => {
    const bad = (contacts: unknown[], pattern: RegExp): void => throwsDomain(() => renderDirectory(contacts as Contact[]), pattern);
    bad([{ firstName: 'A', lastName: '', contact: '' }], /contact 1 \("A"\): the number is empty/);
    bad([{ firstName: 'A', lastName: '', contact: '   ' }], /contact 1 \("A"\): the number is empty/);
    bad([JANE, { ...JANE, speedDial: 2 }], /contact 2 \(number "1001"\): number "1001" is already used by contact 1/);
    bad([JANE, { ...JANE, contact: '1002' }], /contact 2 \(number "1002"\): speed dial 1 is already used by contact 1/);
    for (const speedDial of [0, 10000, 1.5, -1, Number.NaN]) bad([{ ...JANE, speedDial }], /contact 1 .*speed dial must be a whole number from 1 to 9999/);
    bad([{ ...JANE, ringType: 22 }], /ring type must be a whole number from 1 to 21 \(got "22"\)/);
    bad([{ ...JANE, protocol: 'XMPP' }], /protocol must be SIP, H323, Unspecified \(got "XMPP"\)/);
    bad([{ ...JANE, autoDivert: 'yes' }], /auto divert has the wrong type/);
    bad([{ ...JANE, label: 'bell\u0007' }], /label contains U\+0007, which XML files cannot carry/);
    bad([{ ...JANE, contact: '' }, { ...JANE, contact: '2', ringType: 0 }], /contact 1 .*number is empty; phones require one; contact 2 .*ring type/);
    bad('nope' as unknown as unknown[], /a directory is a list of contacts/);
  });

  it('accepts the full ranges and every protocol', () => {
    const contacts: Contact[] = [
      { firstName: '', lastName: '', contact: '1', speedDial: 1, ringType: 1, protocol: 'H323' },
      { firstName: '', lastName: '', contact: '2', speedDial: 9999, ringType: 21, protocol: 'Unspecified' },
    ];
    assert.deepEqual(parseDirectory(renderDirectory(contacts)).contacts, contacts);
  });
});

describe('parseDirectory: what phones and people write', () => {
  it('reads CDATA, empty elements and missing optional fields', () => {
    const { contacts, problems } = parseDirectory(
      '<?xml version="1.0" encoding="UTF-8"?>' + directory(
        '<item><ln><![CDATA[O\'Brien & Sons]]></ln><fn></fn><ct><![CDATA[sip:1001@pbx]]></ct><sd/><lb>Boss <![CDATA[<1>]]> &amp; co</lb><rt></rt><dc/><ad>1</ad></item>' +
          '<item><ct>1002</ct></item>',
      ),
    );
    assert.deepEqual(problems, []);
    assert.deepEqual(contacts, [
      { firstName: '', lastName: "O'Brien & Sons", contact: 'sip:1001@pbx', label: 'Boss <1> & co', autoDivert: true },
      { firstName: '', lastName: '', contact: '1002' },
    ]);
  });

  it('decodes the five entities and character references, and reads line ends as XML does', () => {
    const { contacts } = parseDirectory(
      directory('<item><ct>1</ct><lb>&lt;&gt;&amp;&quot;&apos; &#65;&#x1F600; a&#13;b</lb><fn>x\r\ny\rz</fn></item>'),
    );
    assert.equal(contacts[0]?.label, '<>&"\' A😀 a\rb');
    assert.equal(contacts[0]?.firstName, 'x\ny\nz');
  });

  it('accepts a byte-order mark, comments, a declaration and protocol in any case', () => {
    const { contacts, problems } = parseDirectory(`\uFEFF<?xml version="1.0"?>\n<!-- exported -->\n${directory('<item><ct>1<!-- c -->2</ct><pt>sip</pt></item>')}\n`);
    assert.deepEqual(problems, []);
    assert.deepEqual(contacts, [{ firstName: '', lastName: '', contact: '12', protocol: 'SIP' }]);
  });

  it('reads an empty directory', () => {
    assert.deepEqual(parseDirectory('<directory/>'), { contacts: [], problems: [] });
    assert.deepEqual(parseDirectory('<directory><item_list/></directory>'), { contacts: [], problems: [] });
  });

  it('skips items without a number or with a number already seen, and says which and why', () => {
    const { contacts, problems } = parseDirectory(
      directory('<item><fn>Jane</fn><ln>Doe</ln></item><item><ct>1001</ct><fn>A</fn></item><item><ct></ct></item><item><ct>1001</ct><fn>B</fn></item>'),
    );
    assert.deepEqual(contacts, [{ firstName: 'A', lastName: '', contact: '1001' }]);
    assert.deepEqual(problems, [
      'item 1 ("Jane Doe"): skipped: it has no number (<ct>), which phones require',
      'item 3: skipped: it has no number (<ct>), which phones require',
      'item 4 (number "1001"): skipped: number "1001" is already used by item 2 (number "1001")',
    ]);
  });

  it('drops only a bad field, keeping the contact, and names the field', () => {
    const { contacts, problems } = parseDirectory(
      directory(
        '<item><ct>1</ct><sd>0</sd><rt>22</rt><pt>XMPP</pt><ad>yes</ad></item>' +
          '<item><ct>2</ct><sd>10000</sd></item><item><ct>3</ct><sd>5</sd></item><item><ct>4</ct><sd> 5 </sd></item>',
      ),
    );
    assert.deepEqual(contacts, [
      { firstName: '', lastName: '', contact: '1' },
      { firstName: '', lastName: '', contact: '2' },
      { firstName: '', lastName: '', contact: '3', speedDial: 5 },
      { firstName: '', lastName: '', contact: '4' },
    ]);
    assert.deepEqual(problems, [
      'item 1 (number "1"): <sd> ignored: speed dial must be a whole number from 1 to 9999 (got "0")',
      'item 1 (number "1"): <pt> ignored: protocol must be SIP, H323, Unspecified (got "XMPP")',
      'item 1 (number "1"): <rt> ignored: ring type must be a whole number from 1 to 21 (got "22")',
      'item 1 (number "1"): <ad> ignored: auto divert must be 1/0 (got "yes")',
      'item 2 (number "2"): <sd> ignored: speed dial must be a whole number from 1 to 9999 (got "10000")',
      'item 4 (number "4"): <sd> ignored: speed dial 5 is already used by item 3 (number "3")',
    ]);
    assert.doesNotThrow(() => renderDirectory(contacts));
  });

  it('keeps unknown elements out, reporting each kind once with a count', () => {
    const { contacts, problems } = parseDirectory(
      '<directory><meta>x</meta><item_list><item><ct>1</ct><em>a@b</em><lb>x<b>bold</b>y</lb></item><item><ct>2</ct><em/></item><entry/></item_list></directory>',
    );
    assert.deepEqual(contacts, [
      { firstName: '', lastName: '', contact: '1', label: 'xy' },
      { firstName: '', lastName: '', contact: '2' },
    ]);
    assert.deepEqual(problems, [
      'ignored <meta> in <directory>: not a directory field',
      'ignored <entry> in <item_list>: not a directory field',
      'ignored <em> in <item> (2 times): not a directory field',
      'ignored <b> inside <lb>: not a directory field',
    ]);
  });

  it('uses the first of two copies of a field and says so', () => {
    const { contacts, problems } = parseDirectory(directory('<item><ct>1</ct><ct>2</ct></item>'));
    assert.deepEqual(contacts, [{ firstName: '', lastName: '', contact: '1' }]);
    assert.deepEqual(problems, ['item 1 (number "1"): second <ct> ignored (the first one is used)']);
  });
});

describe('parseDirectory: refused documents', () => {
  it('throws DomainError for text that is not XML', () => {
    throwsDomain(() => parseDirectory(''), /not a valid XML directory/);
    throwsDomain(() => parseDirectory('hello'), /not a valid XML directory: char 'h' is not expected/);
    throwsDomain(() => parseDirectory('{"contacts":[]}'), /not a valid XML directory/);
    throwsDomain(() => parseDirectory('<directory><item_list></directory>'), /not a valid XML directory.*line 1/);
    throwsDomain(() => parseDirectory('<directory>\u0001</directory>'), /U\+0001 at line 1, column 12/);
    throwsDomain(() => parseDirectory('<directory/><directory/>'), /exactly one root element.*found 2/);
    throwsDomain(() => parseDirectory('<directory/>trailing'), /text outside/);
    throwsDomain(() => parseDirectory(undefined as unknown as string), /expected the document as text/);
  });

  it('throws DomainError naming the root when it is not a directory', () => {
    throwsDomain(() => parseDirectory('<polycomConfig a="1"/>'), /not a contact directory: the root element is <polycomConfig>, expected <directory>/);
    throwsDomain(() => parseDirectory('<item_list><item><ct>1</ct></item></item_list>'), /root element is <item_list>/);
  });
});

describe('parseDirectory: hostile input', () => {
  it('never expands DOCTYPE entities (billion laughs) and keeps the reference as text', () => {
    const levels = Array.from({ length: 9 }, (_, i) => `<!ENTITY l${i + 1} "${`&l${i};`.repeat(10)}">`).join('');
    const xml = `<?xml version="1.0"?><!DOCTYPE directory [<!ENTITY l0 "lol">${levels}]>${directory('<item><ct>1</ct><lb>&l9;</lb><dc>&l0;</dc></item>')}`;
    const started = performance.now();
    const { contacts, problems } = parseDirectory(xml);
    assert.ok(performance.now() - started < 500);
    assert.deepEqual(contacts, [{ firstName: '', lastName: '', contact: '1', label: '&l9;', divertContact: '&l0;' }]);
    assert.equal(problems.length, 2);
    assert.match(problems[0] ?? '', /<lb> keeps "&l9;" as written.*DOCTYPE entities are not expanded/);
    // What is written back is the literal text, never the expansion.
    assert.match(renderDirectory(contacts), /<lb>&amp;l9;<\/lb>/);
  });

  it('refuses a DOCTYPE declaring an external entity', () => {
    const xml = `<!DOCTYPE directory [<!ENTITY ext SYSTEM "file:///etc/passwd">]>${directory('<item><ct>&ext;</ct></item>')}`;
    throwsDomain(() => parseDirectory(xml), /not a valid XML directory: External entities are not supported/);
  });

  it('keeps references to characters XML forbids as text', () => {
    const { contacts, problems } = parseDirectory(directory('<item><ct>1</ct><lb>&#0;&#xD800;&#x110000;&#99999999999999999999;</lb></item>'));
    assert.equal(contacts[0]?.label, '&#0;&#xD800;&#x110000;&#99999999999999999999;');
    assert.equal(problems.length, 4);
  });

  it('treats __proto__, constructor and prototype elements as unknown names', () => {
    const { contacts, problems } = parseDirectory(
      '<directory><__proto__><polluted>1</polluted></__proto__><item_list><__proto__/><item><constructor>x</constructor><ct>1</ct><__proto__><ct>2</ct></__proto__><prototype/></item></item_list></directory>',
    );
    assert.deepEqual(contacts, [{ firstName: '', lastName: '', contact: '1' }]);
    assert.equal(Object.getPrototypeOf(contacts[0]), Object.prototype);
    assert.equal((({}) as Record<string, unknown>).polluted, undefined);
    assert.equal(problems.length, 5);
    throwsDomain(() => parseDirectory('<__proto__><item_list/></__proto__>'), /root element is <__proto__>/);
  });

  it('parses a 1 MB directory of 5000 contacts well under a second', () => {
    const itemList = Array.from(
      { length: 5000 },
      (_, i) =>
        `<item><ln>Last${i} &amp; Co</ln><fn><![CDATA[First ${i}]]></fn><ct>${100000 + i}</ct><sd>${i + 1}</sd><lb>${'label '.repeat(12)}${i}</lb><pt>SIP</pt><rt>${(i % 21) + 1}</rt><dc/><ad>0</ad><ar>0</ar><bw>1</bw><bb>0</bb></item>\n`,
    );
    const xml = directory(itemList.join(''));
    assert.ok(xml.length >= 1_000_000, `only ${xml.length} bytes`);
    parseDirectory(directory(itemList.slice(0, 500).join(''))); // warm up
    const started = performance.now();
    const { contacts, problems } = parseDirectory(xml);
    const elapsed = performance.now() - started;
    assert.equal(contacts.length, 5000);
    assert.deepEqual(problems, []);
    assert.equal(contacts[4999]?.lastName, 'Last4999 & Co');
    assert.ok(elapsed < 1000, `took ${elapsed.toFixed(0)} ms`);
    console.log(`# 1 MB directory (${xml.length} characters, 5000 contacts) parsed in ${elapsed.toFixed(0)} ms`);
    const renderStarted = performance.now();
    assert.deepEqual(parseDirectory(renderDirectory(contacts)).contacts, contacts);
    assert.ok(performance.now() - renderStarted < 2000);
  });

  it('stays linear on many unterminated comments or bare ampersands', () => {
    for (const xml of [`<directory>${'<!--'.repeat(100_000)}`, `<directory>${'&x'.repeat(200_000)}</directory>`, `<directory>${'<![CDATA['.repeat(100_000)}`]) {
      const started = performance.now();
      try {
        parseDirectory(xml);
      } catch (error) {
        assert.ok(error instanceof DomainError);
      }
      assert.ok(performance.now() - started < 1000);
    }
  });
});
