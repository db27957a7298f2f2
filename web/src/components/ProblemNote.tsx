// The error of an edit, announced to screen readers. A 412 (someone changed the resource since this
// page read it) also offers to read it again, since retrying with the old ETag can never succeed.

import { ApiError, messageOf } from '../api.js';

/** What an edit's failure says, and whether it failed because the page's copy is stale. */
export interface Problem {
  message: string;
  stale: boolean;
}

export function problemOf(err: unknown): Problem {
  // A stale edit's note carries its own reload button, so the API's detail is enough.
  if (err instanceof ApiError && err.status === 412) return { message: err.detail, stale: true };
  return { message: messageOf(err), stale: false };
}

export function ProblemNote({ problem, onReload }: { problem: Problem | null; onReload?: () => void }) {
  if (!problem) return null;
  return (
    <div className="error" role="alert">
      <p>{problem.message}</p>
      {problem.stale && onReload && (
        <button type="button" onClick={onReload}>
          Reload current values
        </button>
      )}
    </div>
  );
}
