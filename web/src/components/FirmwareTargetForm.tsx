// The firmware target of one policy layer (the tenant, or one device's pin): what it is, a form to
// set it (If-Match with the ETag it was read with) and a way to unset it. The prerequisite warnings
// the API answers (Updater, BootROM, an intermediate release some phones may need) are shown after
// setting, since the target is set anyway.

import { useEffect, useId, useState, type FormEvent } from 'react';
import { request, seg } from '../api.js';
import type { FirmwareTarget } from '../types.js';
import { ConfirmButton } from './ConfirmButton.js';
import { ErrorNote } from './ErrorNote.js';
import { problemOf, ProblemNote, type Problem } from './ProblemNote.js';
import { useTagged } from './useTagged.js';

export interface TargetWording {
  /** The heading of the section. */
  title: string;
  /** The select's label. */
  versionLabel: string;
  setLabel: string;
  unsetLabel: string;
  unsetQuestion: string;
  /** What the layer's absence of a target means for its phones. */
  none: string;
}

interface Props {
  tenant: string;
  /** tenant, site:<slug>, group:<slug>, model:<model> or device:<mac>. */
  scope: string;
  versions: string[];
  canWrite: boolean;
  wording: TargetWording;
  onChanged(): void;
}

export function FirmwareTargetForm({ tenant, scope, versions, canWrite, wording, onChanged }: Props) {
  const path = `/api/v1/tenants/${seg(tenant)}/firmware-target?scope=${encodeURIComponent(scope)}`;
  const res = useTagged<FirmwareTarget>(path);
  const [version, setVersion] = useState('');
  const [allowDowngrade, setAllowDowngrade] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [done, setDone] = useState<{ text: string; warnings: string[] } | null>(null);
  const headingId = useId();
  const current = res.data;

  // The form starts again from what the layer sets now (or the newest release) after each read or
  // edit, and when the releases change; not on every render, which would undo the user's choice.
  const versionsKey = versions.join(' ');
  useEffect(() => {
    if (!current) return;
    setVersion(current.version ?? versionsKey.split(' ')[0] ?? '');
    setAllowDowngrade(current.allowDowngrade);
  }, [res.version, versionsKey]);

  const set = async (e: FormEvent) => {
    e.preventDefault();
    setProblem(null);
    setDone(null);
    try {
      const { data, etag } = await request<FirmwareTarget>('PUT', path, { body: { version, allowDowngrade }, ifMatch: res.etag });
      const { warnings = [], library, ...target } = data;
      res.replace(target, etag);
      setDone({ text: `Target set to ${data.version ?? version} (${library ?? 'tenant'} library).`, warnings });
      onChanged();
    } catch (err) {
      setProblem(problemOf(err));
    }
  };

  const unset = async () => {
    setProblem(null);
    setDone(null);
    try {
      const { data, etag } = await request<FirmwareTarget>('DELETE', path, { ifMatch: res.etag });
      res.replace(data, etag);
      setDone({ text: 'Target removed.', warnings: [] });
      onChanged();
    } catch (err) {
      setProblem(problemOf(err));
    }
  };

  const reload = () => {
    setProblem(null);
    res.reload();
  };

  return (
    <section aria-labelledby={headingId} className="fw-target">
      <h2 id={headingId}>{wording.title}</h2>
      <ErrorNote error={res.error} />
      {current && (
        <p data-testid={`fw-target-${scope}`}>
          {current.version ? (
            <>
              Target: <strong className="mono">{current.version}</strong>
              {current.allowDowngrade ? ' (phones on a newer version may go back to it)' : ''}
            </>
          ) : (
            wording.none
          )}
        </p>
      )}
      {current?.loopDetected && (
        <p className="warning" role="note">
          Held after an upgrade loop: {current.loopDetected}. Unsetting the target clears the hold.
        </p>
      )}
      {current && canWrite && (
        <form className="inline" onSubmit={(e) => void set(e)} aria-label={wording.setLabel}>
          <label>
            {wording.versionLabel}
            <select name={`fw-version-${scope}`} value={version} onChange={(e) => setVersion(e.target.value)} required>
              {versions.length === 0 && <option value="">no release yet</option>}
              {versions.map((v) => (
                <option key={v} value={v}>
                  {v}
                </option>
              ))}
            </select>
          </label>
          <label className="check">
            <input type="checkbox" checked={allowDowngrade} onChange={(e) => setAllowDowngrade(e.target.checked)} />
            Allow downgrade
          </label>
          <button type="submit" disabled={versions.length === 0}>
            {wording.setLabel}
          </button>
          {current.version && <ConfirmButton label={wording.unsetLabel} question={wording.unsetQuestion} confirmLabel={`Yes, ${wording.unsetLabel.toLowerCase()}`} onConfirm={() => void unset()} />}
        </form>
      )}
      {done && (
        <div role="status" className="fw-done">
          <p className="ok">{done.text}</p>
          {done.warnings.length > 0 && (
            <>
              <p className="warning">Prerequisites some of its phones may lack:</p>
              <ul className="fw-warnings">
                {done.warnings.map((w) => (
                  <li key={w}>{w}</li>
                ))}
              </ul>
            </>
          )}
        </div>
      )}
      <ProblemNote problem={problem} onReload={reload} />
    </section>
  );
}
