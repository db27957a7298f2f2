import { useCallback, useEffect, useMemo, useState } from 'react';
import { messageOf, request, seg } from '../api.js';
import { ErrorNote } from '../components/ErrorNote.js';
import { RolloutCreateForm } from '../components/RolloutCreateForm.js';
import { selectorText, waveText } from '../components/rollout-text.js';
import { targetableVersions, useFirmwareReleases } from '../components/useFirmwareReleases.js';
import { formatTime } from '../format-time.js';
import { Link } from '../router.js';
import type { Page, Rollout } from '../types.js';

/** The tenant's staged rollouts with their state, and (unless read-only) a form to start one. */
export function RolloutsPage({ tenant, canWrite = true }: { tenant: string; canWrite?: boolean }) {
  const [rollouts, setRollouts] = useState<Rollout[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [created, setCreated] = useState<{ name: string; warnings: string[] } | null>(null);
  const { releases, error: releasesError } = useFirmwareReleases(tenant);
  const versions = useMemo(() => targetableVersions(releases), [releases]);

  const load = useCallback(() => {
    request<Page<Rollout>>('GET', `/api/v1/tenants/${seg(tenant)}/rollouts?limit=500`)
      .then(({ data }) => setRollouts(data.items))
      .catch((err: unknown) => setError(messageOf(err)));
  }, [tenant]);
  useEffect(load, [load]);

  return (
    <section>
      <p className="crumbs">
        <Link to={`/t/${seg(tenant)}/firmware`}>Firmware</Link> / rollouts
      </p>
      <h1>Rollouts</h1>
      <ErrorNote error={error ?? releasesError} />
      {created && (
        <div role="status" className="fw-done">
          <p className="ok">
            Rollout <Link to={`/t/${seg(tenant)}/rollouts/${seg(created.name)}`}>{created.name}</Link> created; its first wave is released.
          </p>
          {created.warnings.length > 0 && (
            <ul className="fw-warnings">
              {created.warnings.map((w) => (
                <li key={w}>{w}</li>
              ))}
            </ul>
          )}
        </div>
      )}
      {rollouts && rollouts.length === 0 && <p>No rollout yet.</p>}
      {rollouts && rollouts.length > 0 && (
        <table aria-label="Rollouts">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">From → to</th>
              <th scope="col">Devices</th>
              <th scope="col">Status</th>
              <th scope="col">Progress</th>
              <th scope="col">Updated</th>
            </tr>
          </thead>
          <tbody>
            {rollouts.map((r) => (
              <tr key={r.name}>
                <th scope="row">
                  <Link to={`/t/${seg(tenant)}/rollouts/${seg(r.name)}`}>{r.name}</Link>
                </th>
                <td className="mono">
                  {r.from} → {r.to}
                </td>
                <td>
                  {r.devices} <span className="muted">({selectorText(r.selector)})</span>
                </td>
                <td className={`rollout-status rollout-${r.status}`}>
                  {r.status}
                  {r.reason && <span className="muted"> — {r.reason}</span>}
                </td>
                <td>{waveText(r)}</td>
                <td className="nowrap">{formatTime(r.updatedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {canWrite && releases && (
        <RolloutCreateForm
          tenant={tenant}
          versions={versions}
          onCreated={(r, warnings) => {
            setCreated({ name: r.name, warnings });
            load();
          }}
        />
      )}
    </section>
  );
}
