/** A uniqueness rule was broken: the message names what already exists. */
export class ConflictError extends Error {
  override name = 'ConflictError';
}

/** The row to change does not exist. */
export class NotFoundError extends Error {
  override name = 'NotFoundError';
}
