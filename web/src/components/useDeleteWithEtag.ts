// Removing a resource the page has read: DELETE with its ETag (so a change made meanwhile is not
// removed unseen), then `onDeleted` (usually back to the list).

import { useCallback, useState } from 'react';
import { request } from '../api.js';
import { problemOf, type Problem } from './ProblemNote.js';

export function useDeleteWithEtag(path: string, etag: string | null, onDeleted: () => void): { run: () => Promise<void>; problem: Problem | null; clear: () => void } {
  const [problem, setProblem] = useState<Problem | null>(null);
  const run = useCallback(async () => {
    setProblem(null);
    try {
      await request('DELETE', path, { ifMatch: etag });
      onDeleted();
    } catch (err) {
      setProblem(problemOf(err));
    }
  }, [path, etag, onDeleted]);
  const clear = useCallback(() => setProblem(null), []);
  return { run, problem, clear };
}
