// The parameters one layer sets (site, group, model, device, tenant): the list with remove
// buttons, and a form to set one, whose name is checked against the catalog as it is typed.
// Every change sends the layer's ETag, so an edit made meanwhile elsewhere is not overwritten; a
// 412 offers to read the layer again.

import { useCallback, useEffect, useId, useState, type FormEvent } from 'react';
import { request, seg } from '../api.js';
import type { ParameterLayer } from '../types.js';
import { ProblemNote, problemOf, type Problem } from './ProblemNote.js';
import { useNameCheck } from './useNameCheck.js';

/** `canWrite` false (a read-only administrator) shows the layer without the controls the API would refuse. */
export function ParameterEditor({ tenant, scope, title, canWrite = true }: { tenant: string; scope: string; title: string; canWrite?: boolean }) {
  const [layer, setLayer] = useState<ParameterLayer | null>(null);
  const [etag, setEtag] = useState<string | null>(null);
  const [error, setError] = useState<Problem | null>(null);
  const [warnings, setWarnings] = useState<string[]>([]);
  const [name, setName] = useState('');
  const [value, setValue] = useState('');
  const [force, setForce] = useState(false);
  const check = useNameCheck(name);
  const checkId = useId();
  const base = `/api/v1/tenants/${seg(tenant)}/parameters`;
  const q = `?scope=${encodeURIComponent(scope)}`;

  const load = useCallback(() => {
    setError(null);
    request<ParameterLayer>('GET', base + q)
      .then(({ data, etag }) => {
        setLayer(data);
        setEtag(etag);
      })
      .catch((err: unknown) => setError(problemOf(err)));
  }, [base, q]);
  useEffect(load, [load]);

  const set = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      const { data, etag: next } = await request<ParameterLayer>('PATCH', base + q, { body: { values: { [name.trim()]: value }, force }, ifMatch: etag });
      setLayer(data);
      setEtag(next);
      setWarnings(data.warnings ?? []);
      setName('');
      setValue('');
      setForce(false);
    } catch (err) {
      setError(problemOf(err));
    }
  };

  const unset = async (n: string) => {
    setError(null);
    try {
      const { data, etag: next } = await request<ParameterLayer>('DELETE', `${base}/${seg(n)}${q}`, { ifMatch: etag });
      setLayer(data);
      setEtag(next);
    } catch (err) {
      setError(problemOf(err));
    }
  };

  const entries = layer ? Object.entries(layer.parameters).sort(([a], [b]) => (a < b ? -1 : 1)) : [];
  return (
    <section aria-label={title}>
      <h2>{title}</h2>
      <ProblemNote problem={error} onReload={load} />
      {warnings.map((w) => (
        <p className="warning" key={w}>
          {w}
        </p>
      ))}
      {layer && entries.length === 0 && <p>This layer sets no parameters.</p>}
      {entries.length > 0 && (
        <table aria-label="Parameters">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Value</th>
              {canWrite && (
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              )}
            </tr>
          </thead>
          <tbody>
            {entries.map(([n, v]) => (
              <tr key={n}>
                <td className="mono">{n}</td>
                <td className="mono">{v}</td>
                {canWrite && (
                  <td>
                    <button type="button" onClick={() => void unset(n)} aria-label={`Remove ${n}`}>
                      Remove
                    </button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {canWrite && (
        <form className="inline" onSubmit={(e) => void set(e)} aria-label="Set a parameter">
          <label>
            Name
            <input name="parameter-name" className="mono" required spellCheck={false} autoComplete="off" aria-describedby={checkId} value={name} onChange={(e) => setName(e.target.value)} />
          </label>
          <label>
            Value
            <input name="parameter-value" className="mono" value={value} onChange={(e) => setValue(e.target.value)} />
          </label>
          <button type="submit">Set</button>
          <p id={checkId} className="name-check" aria-live="polite">
            {check?.known === true && <span className="ok">known parameter</span>}
            {check?.known === false && (
              <span className="warning">
                unknown name
                {check.suggestions.length > 0 && (
                  <>
                    {' '}
                    — did you mean{' '}
                    {check.suggestions.map((s, i) => (
                      <span key={s}>
                        {i > 0 && ' or '}
                        <button type="button" className="link mono" onClick={() => setName(s)}>
                          {s}
                        </button>
                      </span>
                    ))}
                    ?
                  </>
                )}
              </span>
            )}
          </p>
          {check?.known === false && (
            <label className="check">
              <input type="checkbox" checked={force} onChange={(e) => setForce(e.target.checked)} /> Store it anyway (newer firmware may know it)
            </label>
          )}
        </form>
      )}
    </section>
  );
}
