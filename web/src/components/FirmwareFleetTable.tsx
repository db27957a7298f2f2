// How the tenant's phones stand against their targets, from what they report: one row per
// running version and target.

import { useEffect, useState } from 'react';
import { messageOf, request, seg } from '../api.js';
import type { FirmwareFleetRow } from '../types.js';
import { ErrorNote } from './ErrorNote.js';

const STATE_TEXT: Record<FirmwareFleetRow['state'], string> = { 'on-target': 'on target', 'not-on-target': 'not on target', 'no-target': 'no target' };

/** `refresh` changes whenever a target changed, so the table is read again. */
export function FirmwareFleetTable({ tenant, refresh }: { tenant: string; refresh: number }) {
  const [rows, setRows] = useState<FirmwareFleetRow[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    request<{ items: FirmwareFleetRow[] }>('GET', `/api/v1/tenants/${seg(tenant)}/firmware-status`)
      .then(({ data }) => setRows(data.items))
      .catch((err: unknown) => setError(messageOf(err)));
  }, [tenant, refresh]);

  return (
    <section aria-labelledby="fleet-heading">
      <h2 id="fleet-heading">Fleet status</h2>
      <ErrorNote error={error} />
      {rows && rows.length === 0 && <p className="muted">No device yet.</p>}
      {rows && rows.length > 0 && (
        <table aria-label="Fleet status" className="counts">
          <thead>
            <tr>
              <th scope="col">Running</th>
              <th scope="col">Target</th>
              <th scope="col">Devices</th>
              <th scope="col">State</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={`${r.running}→${r.target}`}>
                <th scope="row" className="mono">
                  {r.running}
                </th>
                <td className="mono">{r.target}</td>
                <td>{r.devices}</td>
                <td className={`fw-state fw-${r.state}`}>{STATE_TEXT[r.state]}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
