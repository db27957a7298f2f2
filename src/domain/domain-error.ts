/**
 * Invalid input to the domain layer. Callers show the message to an administrator as is, so every
 * message says what was wrong and what is expected instead.
 */
export class DomainError extends Error {
  override name = 'DomainError';
}
