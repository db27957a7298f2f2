// One resource read with its ETag, kept together so an edit always sends the tag of what the form
// shows; `reload` reads it again (after a 412), `replace` takes the answer of a successful edit.

import { useCallback, useEffect, useState } from 'react';
import { messageOf, request } from '../api.js';

export interface TaggedResource<T> {
  /** null until read (or when the read failed). */
  data: T | null;
  etag: string | null;
  /** The read's error sentence (404, 403…), or null. */
  error: string | null;
  /** Counts the reads that succeeded: forms key on it to start again from the current values. */
  version: number;
  reload: () => void;
  replace: (data: T, etag: string | null) => void;
}

export function useTagged<T>(path: string): TaggedResource<T> {
  const [state, setState] = useState<{ data: T | null; etag: string | null; version: number }>({ data: null, etag: null, version: 0 });
  const [error, setError] = useState<string | null>(null);

  const reload = useCallback(() => {
    setError(null);
    request<T>('GET', path)
      .then(({ data, etag }) => setState((s) => ({ data, etag, version: s.version + 1 })))
      .catch((err: unknown) => setError(messageOf(err)));
  }, [path]);
  useEffect(reload, [reload]);

  const replace = useCallback((data: T, etag: string | null) => setState((s) => ({ data, etag, version: s.version + 1 })), []);
  return { ...state, error, reload, replace };
}
