// The phone's own overrides (what its user or its web interface changed, uploaded as
// <mac>-phone.cfg and <mac>-web.cfg) and clearing them: the newest version becomes the empty
// override file, which the phone applies when it next reads it. Earlier versions stay stored.

import { useEffect, useState } from 'react';
import { messageOf, request, seg } from '../api.js';
import { formatTime } from '../format-time.js';
import type { DeviceOverrides as Overrides, OverrideFile } from '../types.js';
import { ConfirmButton } from './ConfirmButton.js';
import { ErrorNote } from './ErrorNote.js';

const KIND_NAMES = { phone: 'Set on the phone', web: 'Set in its web interface' } as const;

function FileState({ kind, file }: { kind: 'phone' | 'web'; file: OverrideFile | null }) {
  const heading = `${KIND_NAMES[kind]} (-${kind}.cfg)`;
  if (!file) {
    return (
      <div className="override-file">
        <h3>{heading}</h3>
        <p className="muted">Never uploaded.</p>
      </div>
    );
  }
  return (
    <div className="override-file" data-kind={kind}>
      <h3>{heading}</h3>
      <p className="muted">
        <span className="mono">{file.path}</span>, version {file.version}, stored {formatTime(file.createdAt)}
      </p>
      {file.problem && <p className="warning">Malformed (served as is): {file.problem}</p>}
      {file.empty && <p className="ok">Cleared: the phone is served the empty override file.</p>}
      {!file.empty && !file.problem && file.parameters.length === 0 && <p>No parameters.</p>}
      {file.parameters.length > 0 && (
        <table aria-label={`Overrides ${kind}`}>
          <thead>
            <tr>
              <th scope="col">Parameter</th>
              <th scope="col">Value</th>
            </tr>
          </thead>
          <tbody>
            {file.parameters.map((p) => (
              <tr key={p.name}>
                <th scope="row" className="mono">
                  {p.name}
                </th>
                <td className="mono">{p.value}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

/** `onChanged` runs after a clear (the effective configuration changed with it). */
export function DeviceOverrides({ tenant, mac, canWrite, onChanged }: { tenant: string; mac: string; canWrite: boolean; onChanged(): void }) {
  const path = `/api/v1/tenants/${seg(tenant)}/devices/${seg(mac)}/overrides`;
  const [overrides, setOverrides] = useState<Overrides | null>(null);
  const [which, setWhich] = useState<'both' | 'phone' | 'web'>('both');
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);

  useEffect(() => {
    request<Overrides>('GET', path)
      .then(({ data }) => setOverrides(data))
      .catch((err: unknown) => setError(messageOf(err)));
  }, [path]);

  const clear = async () => {
    setError(null);
    setDone(null);
    try {
      const { data } = await request<Overrides>('POST', `${path}/clear`, { body: { which } });
      setOverrides(data);
      // Said from the answer: a file the phone never uploaded has nothing to clear.
      const empty = (['phone', 'web'] as const).filter((k) => (which === 'both' || which === k) && data[k]?.empty).map((k) => `-${k}.cfg`);
      setDone(empty.length ? `Cleared ${empty.join(' and ')}: the phone drops its local changes when it next reads it.` : 'Nothing to clear: the phone never uploaded that file.');
      onChanged();
    } catch (err) {
      setError(messageOf(err));
    }
  };

  const something = !!overrides && [overrides.phone, overrides.web].some((f) => f && !f.empty);
  return (
    <section aria-labelledby="device-overrides" id="overrides">
      <h2 id="device-overrides">Phone overrides</h2>
      <ErrorNote error={error} />
      {done && (
        <p className="ok" role="status">
          {done}
        </p>
      )}
      {overrides && (
        <>
          <div className="columns">
            <FileState kind="phone" file={overrides.phone} />
            <FileState kind="web" file={overrides.web} />
          </div>
          {overrides.versions.length > 0 && (
            <p className="muted">
              {overrides.versions.length} stored version{overrides.versions.length === 1 ? '' : 's'} in all (restore one with polyprov override restore).
            </p>
          )}
          {canWrite && something && (
            <div className="inline actions">
              <label>
                Clear
                <select name="overrides-which" value={which} onChange={(e) => setWhich(e.target.value as typeof which)}>
                  <option value="both">both files</option>
                  <option value="phone">-phone.cfg only</option>
                  <option value="web">-web.cfg only</option>
                </select>
              </label>
              <ConfirmButton
                label="Clear overrides"
                question="Clear the phone's overrides? It drops its local changes when it next reads the file; earlier versions stay stored."
                confirmLabel="Yes, clear overrides"
                onConfirm={() => void clear()}
              />
            </div>
          )}
        </>
      )}
    </section>
  );
}
