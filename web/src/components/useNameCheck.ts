// Checks a parameter name against Poly's catalog while it is typed: one request per pause in
// typing (not per key), and answers for an older name are dropped.

import { useEffect, useState } from 'react';
import { request } from '../api.js';
import type { NameCheck } from '../types.js';

const PAUSE_MS = 250;

/** null while the name is empty or being checked. */
export function useNameCheck(name: string): NameCheck | null {
  const [check, setCheck] = useState<NameCheck | null>(null);
  useEffect(() => {
    setCheck(null);
    const trimmed = name.trim();
    if (trimmed === '') return;
    let current = true;
    const timer = setTimeout(() => {
      request<NameCheck>('GET', `/api/v1/parameter-names/check?name=${encodeURIComponent(trimmed)}`)
        .then(({ data }) => {
          if (current) setCheck(data);
        })
        .catch(() => {
          /* the PATCH checks again and says what is wrong */
        });
    }, PAUSE_MS);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [name]);
  return check;
}
