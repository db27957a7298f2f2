import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { contactsFromCsv, contactsToCsv } from '../../src/domain/contact-directory-csv.js';
import type { Contact } from '../../src/domain/contact-directory.js';
import { parseDirectory, renderDirectory } from '../../src/domain/contact-directory.js';
import { DomainError } from '../../src/domain/domain-error.js';

const HEADER = 'First name,Last name,Number,Speed dial,Label,Protocol,Ring type,Divert,Auto divert,Auto reject,Buddy watch,Buddy block';
const SAMPLE = readFileSync(new URL('../../../shared/reference/stock-masters/directory-sample.xml', import.meta.url), 'utf8');

const lines = (...rows: string[]): string => `${rows.join('\n')}\n`;

describe('contactsFromCsv', () => {
  it('reads friendly headers in any case and spelling, with every boolean word', () => {
    const { contacts, errors } = contactsFromCsv(
      lines(
        'FIRST NAME,last_name,Number,Speed Dial,label,PROTOCOL,ring-type,Divert,auto divert,AutoReject,buddy watch,Buddy Block',
        'Jane,Doe,1001,1,Jane D,sip,3,2002,yes,no,TRUE,false',
        'Bob,,1002,,,h323,,,1,0,Yes,NO',
      ),
    );
    assert.deepEqual(errors, []);
    assert.deepEqual(contacts, [
      { firstName: 'Jane', lastName: 'Doe', contact: '1001', speedDial: 1, label: 'Jane D', protocol: 'SIP', ringType: 3, divertContact: '2002', autoDivert: true, autoReject: false, buddyWatch: true, buddyBlock: false },
      { firstName: 'Bob', lastName: '', contact: '1002', protocol: 'H323', autoDivert: true, autoReject: false, buddyWatch: true, buddyBlock: false },
    ]);
  });

  it('reads the XML tag names as headers too, and columns in any order', () => {
    const { contacts, errors } = contactsFromCsv(lines('ct,sd,fn,ln,lb,pt,rt,dc,ad,ar,bw,bb', '1001,7,Jane,Doe,,,,,,,,1'));
    assert.deepEqual(errors, []);
    assert.deepEqual(contacts, [{ firstName: 'Jane', lastName: 'Doe', contact: '1001', speedDial: 7, buddyBlock: true }]);
    assert.deepEqual(contactsFromCsv(lines('contact', '1')).contacts, [{ firstName: '', lastName: '', contact: '1' }]);
  });

  it('keeps quotes, commas and line breaks inside quoted values, and counts lines from where a row starts', () => {
    const { contacts, errors } = contactsFromCsv(
      lines('Number,Label,First name', '1001,"Smith, ""Bob""",Bob', '1002,"line one', 'line two",Ann', '1003,x,"Multi', '', 'line"', '1004,5,Eve', '1005,ok,"unclosed'),
    );
    assert.deepEqual(contacts.map((c) => [c.contact, c.label, c.firstName]), [
      ['1001', 'Smith, "Bob"', 'Bob'],
      ['1002', 'line one\nline two', 'Ann'],
      ['1003', 'x', 'Multi\n\nline'],
      ['1004', '5', 'Eve'],
    ]);
    assert.equal(errors.length, 1);
    assert.equal(errors[0]?.line, 9);
    assert.match(errors[0]?.message ?? '', /never closed/);
  });

  it('reports bad values with the line of their row and leaves that row out', () => {
    const { contacts, errors } = contactsFromCsv(
      lines('Number,Speed dial,Ring type,Protocol,Auto divert', '1001,1,1,SIP,yes', '1002,0,,,', '"1003\nnext",abc,22,XMPP,maybe', '1004,2,,,', ',3,,,', '1005,1,,,', '1001,9,,,'),
    );
    assert.deepEqual(contacts.map((c) => c.contact), ['1001', '1004']);
    assert.deepEqual(errors, [
      { line: 3, message: 'speed dial must be a whole number from 1 to 9999 (got "0")' },
      { line: 4, message: 'speed dial must be a whole number from 1 to 9999 (got "abc")' },
      { line: 4, message: 'ring type must be a whole number from 1 to 21 (got "22")' },
      { line: 4, message: 'protocol must be SIP, H323, Unspecified (got "XMPP")' },
      { line: 4, message: 'auto divert must be yes/no/true/false/1/0 (got "maybe")' },
      { line: 7, message: 'the number is empty; every contact needs one' },
      { line: 8, message: 'speed dial 1 is already used by line 2' },
      { line: 9, message: 'number "1001" is already used by line 2' },
    ]);
  });

  it('reports csv-parse errors with line numbers, going on after a wrong number of values', () => {
    const { contacts, errors } = contactsFromCsv(lines('Number,Label', '1,a,b', '2', '3,c'));
    assert.deepEqual(contacts.map((c) => c.contact), ['3']);
    assert.deepEqual(errors, [
      { line: 2, message: '3 values where the header has 2 columns; a value containing "," must be in double quotes' },
      { line: 3, message: '1 value where the header has 2 columns; leave a cell empty by writing nothing between the separators' },
    ]);
  });

  it('stops at a quoting mistake rather than report its echoes', () => {
    const { contacts, errors } = contactsFromCsv(lines('Number,Label', '1,a', '2,"b"c', '3,"d', 'e"', '4,f'));
    assert.deepEqual(contacts.map((c) => c.contact), ['1']);
    assert.equal(errors.length, 1);
    assert.equal(errors[0]?.line, 3);
    assert.match(errors[0]?.message ?? '', /Invalid Closing Quote.*the rest of the file was not read/);
  });

  it('tolerates a byte-order mark, CRLF line ends, blank rows and blank trailing columns', () => {
    const { contacts, errors } = contactsFromCsv('\uFEFFNumber,First name,,\r\n1001,Jane,,\r\n,,,\r\n\r\n1002,Bob,,\r\n');
    assert.deepEqual(errors, []);
    assert.deepEqual(contacts.map((c) => c.firstName), ['Jane', 'Bob']);
    assert.deepEqual(contactsFromCsv(lines('Number,', '1,stray')).errors, [{ line: 2, message: 'value "stray" in column 2, which has no header' }]);
  });

  it('detects ";" and TAB delimiters from the header', () => {
    const semicolons = contactsFromCsv(lines('First name;Number;Label', 'Jane;1001;"a;b, c"'));
    assert.deepEqual(semicolons, { contacts: [{ firstName: 'Jane', lastName: '', contact: '1001', label: 'a;b, c' }], errors: [] });
    const tabs = contactsFromCsv(lines('Number\tLabel', '1001\tx, y; z'));
    assert.deepEqual(tabs, { contacts: [{ firstName: '', lastName: '', contact: '1001', label: 'x, y; z' }], errors: [] });
  });

  it('reports header problems on the header line', () => {
    assert.deepEqual(contactsFromCsv('').errors, [{ line: 1, message: `the file is empty; expected a header row such as ${HEADER}` }]);
    assert.deepEqual(contactsFromCsv(lines('Number', '')), { contacts: [], errors: [] });
    assert.deepEqual(contactsFromCsv(lines('First name,Email', 'Jane,j@x')).errors.map((e) => [e.line, e.message]), [
      [1, `unknown column "Email"; the columns are ${HEADER.replaceAll(',', ', ')}`],
      [1, 'the header has no Number column (also spelt "contact" or "ct"); every contact needs one'],
    ]);
    assert.deepEqual(contactsFromCsv(lines('Number,ct', '1,2')).errors, [{ line: 1, message: 'column "ct" repeats Number' }]);
    assert.deepEqual(contactsFromCsv(lines('', '', 'Number,Speed dial', '1,x')).errors, [
      { line: 4, message: 'speed dial must be a whole number from 1 to 9999 (got "x")' },
    ]);
  });

  it('refuses values XML cannot carry', () => {
    assert.deepEqual(contactsFromCsv(lines('Number,Label', '1,bell\u0007')).errors, [{ line: 2, message: 'label contains U+0007, which XML files cannot carry' }]);
  });
});

describe('contactsToCsv and round trips', () => {
  const contacts: Contact[] = [
    { firstName: 'Jane', lastName: 'Doe', contact: '1001', speedDial: 1, label: 'Jane, "JD"\nDoe', protocol: 'SIP', ringType: 3, divertContact: '2002', autoDivert: true, autoReject: false, buddyWatch: true, buddyBlock: false },
    { firstName: '', lastName: 'Reception', contact: '+1 (770) 565-1556' },
  ];

  it('writes the friendly header, yes/no flags and empty cells for absent fields', () => {
    assert.equal(
      contactsToCsv(contacts),
      `${HEADER}\nJane,Doe,1001,1,"Jane, ""JD""\nDoe",SIP,3,2002,yes,no,yes,no\n,Reception,+1 (770) 565-1556,,,,,,,,,\n`,
    );
    assert.equal(contactsToCsv([]), `${HEADER}\n`);
    assert.throws(() => contactsToCsv([{ ...contacts[1], speedDial: '1' } as unknown as Contact]), DomainError);
  });

  it('contacts → CSV → contacts is exact', () => {
    assert.deepEqual(contactsFromCsv(contactsToCsv(contacts)), { contacts, errors: [] });
  });

  it('CSV → contacts → CSV is stable', () => {
    const messy = lines('ct;FN;lb;ad', ' 1001 ;  Jane ;"  a; b  ";TRUE', '1002;"Bob ""B""";;0');
    const once = contactsToCsv(contactsFromCsv(messy).contacts);
    assert.equal(once, `${HEADER}\nJane,,1001,,a; b,,,,yes,,,\n"Bob ""B""",,1002,,,,,,no,,,\n`);
    assert.equal(contactsToCsv(contactsFromCsv(once).contacts), once);
  });

  it('CSV → XML → CSV is stable', () => {
    const csv = contactsToCsv(contacts);
    const xml = renderDirectory(contactsFromCsv(csv).contacts);
    assert.equal(contactsToCsv(parseDirectory(xml).contacts), csv);
  });

  it('the stock sample survives XML → CSV → XML', () => {
    const { contacts: fromXml } = parseDirectory(SAMPLE);
    const { contacts: back, errors } = contactsFromCsv(contactsToCsv(fromXml));
    assert.deepEqual(errors, []);
    assert.deepEqual(back, fromXml);
    assert.equal(renderDirectory(back), renderDirectory(fromXml));
  });
});
