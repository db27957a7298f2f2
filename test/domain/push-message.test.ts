import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { XMLParser } from 'fast-xml-parser';
import { DomainError } from '../../src/domain/domain-error.js';
import { PUSH_CONTENT_TYPE, PUSH_MAX_BODY_BYTES, PUSH_PRIORITIES, pushMessage, type PushMessageInput } from '../../src/domain/push-message.js';

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', parseTagValue: false, parseAttributeValue: false, trimValues: false });

function refused(input: unknown, message: RegExp): void {
  assert.throws(() => pushMessage(input as PushMessageInput), (error: unknown) => {
    assert.ok(error instanceof DomainError, `expected a DomainError, got ${String(error)}`);
    assert.match(error.message, message);
    return true;
  });
}

const EMPTY_DATA_BODY = '<PolycomIPPhone><Data priority="Critical"></Data></PolycomIPPhone>';

describe('pushMessage', () => {
  it("defaults to the guide's UpdateConfig message, byte for byte", () => {
    assert.equal(pushMessage({}), '<PolycomIPPhone><Data priority="Critical">Action:UpdateConfig</Data></PolycomIPPhone>');
    assert.equal(PUSH_CONTENT_TYPE, 'application/x-com-polycom-spipx');
  });

  it('takes each priority and other data', () => {
    for (const priority of PUSH_PRIORITIES) {
      assert.deepEqual(parser.parse(pushMessage({ priority, data: 'Key:Line1' })), { PolycomIPPhone: { Data: { priority, '#text': 'Key:Line1' } } });
    }
  });

  it('builds a URL message', () => {
    assert.equal(pushMessage({ priority: 'Normal', url: 'messages/welcome.xhtml' }), '<PolycomIPPhone><URL priority="Normal">messages/welcome.xhtml</URL></PolycomIPPhone>');
  });

  it('escapes markup so the phone reads back exactly what was given', () => {
    const url = 'page.php?a=1&b=<2>&c="3"\tend';
    const xml = pushMessage({ url });
    assert.doesNotMatch(xml, /<2>/);
    assert.deepEqual(parser.parse(xml), { PolycomIPPhone: { URL: { priority: 'Critical', '#text': url } } });
  });

  it('accepts a body of exactly 2 KB and refuses one byte more', () => {
    const room = PUSH_MAX_BODY_BYTES - Buffer.byteLength(EMPTY_DATA_BODY);
    assert.equal(Buffer.byteLength(pushMessage({ data: 'x'.repeat(room) })), PUSH_MAX_BODY_BYTES);
    refused({ data: 'x'.repeat(room + 1) }, /2049 bytes; phones accept at most 2048/);
    // Counted in bytes, not characters.
    refused({ data: 'é'.repeat(Math.ceil(room / 2) + 1) }, /phones accept at most 2048/);
  });

  it('refuses what the phone could not act on, saying what to do', () => {
    refused({ priority: 'Urgent' }, /unknown push priority "Urgent": use one of Critical, Important, High, Normal/);
    refused({ data: 'Key:Line1', url: 'x.xhtml' }, /either data or a URL, not both/);
    refused({ data: '  ' }, /push data is empty/);
    refused({ url: '' }, /push URL is empty/);
    refused({ data: 'Key:\u0001' }, /U\+0001 at position 4/);
  });
});
