import { isServerOnlyParameter } from './firmware-policy.js';
import { lookupParameter, type ParameterType } from './parameter-catalog.js';
import { quoteInput } from './quote-input.js';

// What polyprov says about a name=value before storing it, wherever it comes from (CLI, import,
// API). Phones ignore names they do not know and fall back to the default on values they cannot
// read, both silently, so both are caught here. An empty value is always accepted: phones read an
// empty value as "use the default", which is how the stock templates write most parameters.

export type ParameterProblem =
  | { kind: 'unknown-name'; message: string; suggestions: string[] }
  | { kind: 'bad-value'; message: string; expected: string };

const INTEGER = /^-?[0-9]+$/;
const TIME_OF_DAY = /^(?:[01][0-9]|2[0-3]):[0-5][0-9]$/;
// Names polyprov accepts are shown as they are; anything else is quoted so that a control
// character or a 10 MB mistake cannot garble the message.
const PRINTABLE_NAME = /^[A-Za-z0-9_.-]{1,200}$/;

/**
 * null when fine. Understands indexed (reg.3.address) and per-model (….VVX101) names; messages say
 * what is expected and "did you mean …?". polyprov.* names (server-only) are not the catalog's
 * business: return null for them. An empty value is always fine (the phone's default).
 */
export function checkParameter(name: string, value: string): ParameterProblem | null {
  if (typeof name === 'string' && isServerOnlyParameter(name)) return null;
  const found = lookupParameter(name);
  if (!found.known) {
    return { kind: 'unknown-name', message: unknownNameMessage(name, found.suggestions), suggestions: found.suggestions };
  }
  if (value === '' || (typeof value === 'string' && valueFits(found.type, value))) return null;
  const expected = describeType(found.type);
  const hint = spellingHint(found.type, value);
  return {
    kind: 'bad-value',
    message: `${quoteInput(value)} is not a valid value for ${shownName(name)}: expected ${expected}${hint ? `; did you mean ${hint}?` : ''}`,
    expected,
  };
}

/** Whether a non-empty value is one the type allows. */
export function valueFits(type: ParameterType, value: string): boolean {
  if (type === 'string') return true;
  if (type === 'boolean') return value === '0' || value === '1';
  if (type === 'integer') return INTEGER.test(value);
  if ('oneOf' in type) return type.oneOf.includes(value);
  if ('format' in type) return TIME_OF_DAY.test(value);
  if (!INTEGER.test(value)) return false;
  const n = Number(value);
  return (type.min === undefined || n >= type.min) && (type.max === undefined || n <= type.max);
}

/** The values a type allows, in words: "0 or 1", "a whole number from 1 to 65535", "one of abs, rel or random". */
export function describeType(type: ParameterType): string {
  if (type === 'string') return 'any text';
  if (type === 'boolean') return '0 or 1 (off or on)';
  if (type === 'integer') return 'a whole number';
  if ('oneOf' in type) return `one of ${alternatives(type.oneOf)}`;
  if ('format' in type) return 'a time of day as HH:MM, 00:00 to 23:59';
  if (type.min !== undefined && type.max !== undefined) return `a whole number from ${type.min} to ${type.max}`;
  if (type.min !== undefined) return `a whole number of at least ${type.min}`;
  if (type.max !== undefined) return `a whole number of at most ${type.max}`;
  return 'a whole number';
}

/** The message for a name the catalog does not know, with what it may have meant. */
export function unknownNameMessage(name: string, suggestions: readonly string[]): string {
  const text = `${shownName(name)} is not a parameter of Poly's UC Software templates (phones ignore unknown names)`;
  return suggestions.length === 0 ? text : `${text}; did you mean ${alternatives(suggestions)}?`;
}

function alternatives(items: readonly string[]): string {
  return items.length === 1 ? items[0] : `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}

function shownName(name: string): string {
  return typeof name === 'string' && PRINTABLE_NAME.test(name) ? name : quoteInput(name);
}

/** HTTPS for "https": an enumeration's spelling that differs from the value only in case. */
function spellingHint(type: ParameterType, value: unknown): string | undefined {
  if (typeof type !== 'object' || !('oneOf' in type) || typeof value !== 'string') return undefined;
  const lower = value.trim().toLowerCase();
  return type.oneOf.find((option) => option.toLowerCase() === lower);
}
