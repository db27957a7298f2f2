const MAX_SHOWN = 60;

/**
 * Renders untrusted input for an error message: JSON quoting makes control characters visible,
 * and truncation keeps a 10 MB mistake from producing a 10 MB message.
 */
export function quoteInput(input: unknown): string {
  const text = typeof input === 'string' ? input : String(input);
  const shown = text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}…` : text;
  return JSON.stringify(shown);
}
