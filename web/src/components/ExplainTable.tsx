// Why the device has each value: the same explanation `polyprov explain` prints, from the same
// layer assembly that renders its configuration.

import { useEffect, useState } from 'react';
import { messageOf, request, seg } from '../api.js';
import type { Explanation, ShadowedValue } from '../types.js';
import { ErrorNote } from './ErrorNote.js';

function layerName(layer: string | null, ref: string | null): string {
  if (layer === null) return 'phone only';
  return ref && layer !== 'tenant' && layer !== 'defaults' ? `${layer} ${ref}` : layer;
}

function Shadows({ list }: { list: ShadowedValue[] }) {
  if (list.length === 0) return <>—</>;
  return (
    <ul className="plain">
      {list.map((s, i) => (
        <li key={i}>
          <span className="mono">{s.value}</span> <span className="muted">({layerName(s.layer, s.ref)})</span>
        </li>
      ))}
    </ul>
  );
}

export function ExplainTable({ tenant, mac }: { tenant: string; mac: string }) {
  const [explanation, setExplanation] = useState<Explanation | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [filter, setFilter] = useState('');

  useEffect(() => {
    request<Explanation>('GET', `/api/v1/tenants/${seg(tenant)}/devices/${seg(mac)}/explain`)
      .then(({ data }) => setExplanation(data))
      .catch((err: unknown) => setError(messageOf(err)));
  }, [tenant, mac]);

  const needle = filter.trim().toLowerCase();
  const rows = explanation?.parameters.filter((p) => needle === '' || p.name.toLowerCase().includes(needle)) ?? [];
  return (
    <section aria-label="Explain">
      <h2>Effective configuration</h2>
      <ErrorNote error={error} />
      {explanation?.notes.map((n) => (
        <p className="note" key={n}>
          {n}
        </p>
      ))}
      {explanation && (
        <>
          <label className="inline-label">
            Filter parameters
            <input type="search" name="explain-filter" className="mono" value={filter} onChange={(e) => setFilter(e.target.value)} />
          </label>
          <table aria-label="Effective parameters" className="explain">
            <thead>
              <tr>
                <th scope="col">Parameter</th>
                <th scope="col">Effective value</th>
                <th scope="col">Layer</th>
                <th scope="col">Shadows</th>
                <th scope="col">Phone override</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((p) => (
                <tr key={p.name} data-parameter={p.name}>
                  <th scope="row" className="mono">
                    {p.name}
                  </th>
                  <td className="mono">{p.effective}</td>
                  <td className="layer">{layerName(p.layer, p.ref)}</td>
                  <td>
                    <Shadows list={p.shadows} />
                  </td>
                  <td>
                    {p.override ? (
                      <>
                        <span className="mono">{p.override.value}</span> <span className="muted">({p.override.source}, over server {p.value ?? '—'})</span>
                      </>
                    ) : (
                      '—'
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {rows.length === 0 && <p>No parameter matches.</p>}
        </>
      )}
    </section>
  );
}
