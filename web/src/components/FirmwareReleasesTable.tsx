// The releases a tenant's phones can be sent to, newest first. Only the tenant's own releases can
// be removed here (the global library is the server operator's); the API refuses a release that a
// policy layer or a rollout still needs, and its sentence (which layers) is shown as it is.

import { useState } from 'react';
import { request, seg } from '../api.js';
import { formatTime } from '../format-time.js';
import type { FirmwareRelease } from '../types.js';
import { ConfirmButton } from './ConfirmButton.js';
import { problemOf, ProblemNote, type Problem } from './ProblemNote.js';

function size(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  return `${Math.max(1, Math.round(bytes / 1024))} KiB`;
}

interface Props {
  tenant: string;
  releases: FirmwareRelease[];
  canWrite: boolean;
  onRemoved(): void;
}

export function FirmwareReleasesTable({ tenant, releases, canWrite, onRemoved }: Props) {
  const [problem, setProblem] = useState<Problem | null>(null);
  const [removed, setRemoved] = useState<string | null>(null);

  /** DELETE with the ETag of the release as it is now (the list carries none). */
  const remove = async (version: string) => {
    setProblem(null);
    setRemoved(null);
    const path = `/api/v1/tenants/${seg(tenant)}/firmware/${seg(version)}`;
    try {
      const { etag } = await request<FirmwareRelease>('GET', `${path}?library=tenant`);
      await request('DELETE', path, { ifMatch: etag });
      setRemoved(`Removed firmware ${version}.`);
      onRemoved();
    } catch (err) {
      setProblem(problemOf(err));
    }
  };

  if (releases.length === 0) return <p className="muted">No release yet: upload one below, or ask the server's operator to import one into the global library.</p>;
  return (
    <>
      <table aria-label="Releases">
        <thead>
          <tr>
            <th scope="col">Version</th>
            <th scope="col">Library</th>
            <th scope="col">Layout</th>
            <th scope="col">Models</th>
            <th scope="col">Size</th>
            <th scope="col">Imported</th>
            {canWrite && <th scope="col">Actions</th>}
          </tr>
        </thead>
        <tbody>
          {releases.map((r) => (
            <tr key={`${r.version}@${r.library}`} data-release={r.version}>
              <th scope="row" className="mono">
                {r.version}
              </th>
              <td>
                {r.library}
                {r.shadowed && <span className="muted"> (shadowed by the tenant's own copy)</span>}
              </td>
              <td>{r.layout}</td>
              <td className="release-models">{r.models.length ? r.models.join(', ') : <span className="muted">all (combined image)</span>}</td>
              <td className="nowrap">{size(r.size)}</td>
              <td className="nowrap">{formatTime(r.createdAt)}</td>
              {canWrite && (
                <td>
                  {r.library === 'tenant' && (
                    <ConfirmButton
                      label={`Remove ${r.version}`}
                      question={`Remove firmware ${r.version} from the tenant's library? Phones can no longer be sent to it.`}
                      confirmLabel={`Yes, remove ${r.version}`}
                      onConfirm={() => void remove(r.version)}
                    />
                  )}
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
      {removed && (
        <p className="ok" role="status">
          {removed}
        </p>
      )}
      <ProblemNote problem={problem} onReload={onRemoved} />
    </>
  );
}
