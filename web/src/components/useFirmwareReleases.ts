// The releases a tenant's phones can be sent to (its library and the global one), read once per
// page and again after an upload or a removal.

import { useCallback, useEffect, useState } from 'react';
import { messageOf, request, seg } from '../api.js';
import type { FirmwareRelease, Page } from '../types.js';

export function useFirmwareReleases(tenant: string): { releases: FirmwareRelease[] | null; error: string | null; reload: () => void } {
  const [releases, setReleases] = useState<FirmwareRelease[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const reload = useCallback(() => {
    request<Page<FirmwareRelease>>('GET', `/api/v1/tenants/${seg(tenant)}/firmware?limit=500`)
      .then(({ data }) => {
        setReleases(data.items);
        setError(null);
      })
      .catch((err: unknown) => setError(messageOf(err)));
  }, [tenant]);
  useEffect(reload, [reload]);
  return { releases, error, reload };
}

/** The versions phones can be sent to, newest first, each once (a shadowed global copy is the same version). */
export function targetableVersions(releases: FirmwareRelease[] | null): string[] {
  return [...new Set((releases ?? []).filter((r) => !r.shadowed).map((r) => r.version))];
}
