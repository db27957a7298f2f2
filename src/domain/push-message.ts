import { XMLBuilder } from 'fast-xml-parser';
import { DomainError } from './domain-error.js';
import { quoteInput } from './quote-input.js';
import { escapeAttributeValue, escapeTextContent } from './xml-document.js';
import { codeUnitLabel, findNonXmlChar } from './xml-chars.js';

// The body of a Push API request (fact sheet §7.2): what a phone's own web server accepts on
// `POST /push` to act as if its user had pressed a key or opened a page.

/** The Content-Type a phone's push server expects (the one deployed servers send). */
export const PUSH_CONTENT_TYPE = 'application/x-com-polycom-spipx';

/** Poly's guide caps a push message at about 2 KB; longer ones are refused by the phone. */
export const PUSH_MAX_BODY_BYTES = 2048;

/** Which messages a phone accepts is its `apps.push.messageType`; Critical is accepted unless pushes are off. */
export const PUSH_PRIORITIES = ['Critical', 'Important', 'High', 'Normal'] as const;
export type PushPriority = (typeof PUSH_PRIORITIES)[number];

/** What a push asks for: a data URI (key press, `Action:UpdateConfig`), or a page to show. */
export type PushMessageInput =
  | { priority?: PushPriority; /** Default `Action:UpdateConfig`: re-read the configuration. */ data?: string }
  | { priority?: PushPriority; /** Resolved by the phone against `apps.push.serverRootURL`. */ url: string };

// Escaping is done by the escapes shared with the file renderers (the builder's own entity pass
// leaves TAB/LF/CR raw in attributes), so the builder only lays out the elements.
const builder = new XMLBuilder({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  format: false,
  suppressEmptyNode: false,
  processEntities: false,
  attributeValueProcessor: (_name: string, value: unknown) => escapeAttributeValue(String(value)),
  tagValueProcessor: (_name: string, value: unknown) => escapeTextContent(String(value)),
});

function checkedText(what: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') throw new DomainError(`the push ${what} is empty: give the text the phone should act on`);
  const bad = findNonXmlChar(value);
  if (bad) throw new DomainError(`the push ${what} contains ${codeUnitLabel(bad.char)} at position ${bad.index}, which XML cannot carry`);
  return value;
}

/**
 * The XML body of one push: `<PolycomIPPhone><Data priority="Critical">Action:UpdateConfig</Data></PolycomIPPhone>`
 * for `pushMessage({})` (the same as the phone's Menu > Update Configuration). Throws DomainError
 * for an unknown priority, empty or non-XML text, both data and url, or a body over 2 KB.
 */
export function pushMessage(input: PushMessageInput): string {
  const priority = input.priority ?? 'Critical';
  if (!(PUSH_PRIORITIES as readonly string[]).includes(priority)) {
    throw new DomainError(`unknown push priority ${quoteInput(priority)}: use one of ${PUSH_PRIORITIES.join(', ')}`);
  }
  const hasUrl = 'url' in input && input.url !== undefined;
  if (hasUrl && 'data' in input && input.data !== undefined) {
    throw new DomainError('a push carries either data or a URL, not both: send two pushes');
  }
  const element = hasUrl
    ? { URL: { '@_priority': priority, '#text': checkedText('URL', input.url) } }
    : { Data: { '@_priority': priority, '#text': checkedText('data', 'data' in input && input.data !== undefined ? input.data : 'Action:UpdateConfig') } };
  const body = builder.build({ PolycomIPPhone: element }) as string;
  const bytes = Buffer.byteLength(body, 'utf8');
  if (bytes > PUSH_MAX_BODY_BYTES) {
    throw new DomainError(`the push message is ${bytes} bytes; phones accept at most ${PUSH_MAX_BODY_BYTES}: shorten the data or URL`);
  }
  return body;
}
