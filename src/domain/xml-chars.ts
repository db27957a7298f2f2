// XML 1.0's Char production leaves out C0 controls other than TAB/LF/CR, U+FFFE/U+FFFF and
// unpaired surrogates; not even a character reference can carry them.
const NOT_XML_CHAR_SOURCE =
  '[\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\ufffe\\uffff]|[\\ud800-\\udbff](?![\\udc00-\\udfff])|(?<![\\ud800-\\udbff])[\\udc00-\\udfff]';

// Compiled once: these run for every attribute of every rendered file.
const NOT_XML_CHAR = new RegExp(NOT_XML_CHAR_SOURCE);
const NOT_XML_CHARS = new RegExp(NOT_XML_CHAR_SOURCE, 'g');

/** First character XML cannot carry, with its position, or null. */
export function findNonXmlChar(text: string): { char: string; index: number } | null {
  const match = NOT_XML_CHAR.exec(text);
  return match ? { char: match[0], index: match.index } : null;
}

export function replaceNonXmlChars(text: string, replacement: string): string {
  return text.replace(NOT_XML_CHARS, replacement);
}

/** "U+0001" style label for error messages. */
export function codeUnitLabel(char: string): string {
  return `U+${char.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
}
