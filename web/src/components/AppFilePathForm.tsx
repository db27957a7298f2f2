// A model's APP_FILE_PATH (the firmware image path its phones are sent to), changed with the ETag of
// the policy the form started from; empty means the tenant's path.

import { useState, type FormEvent } from 'react';
import { request, seg } from '../api.js';
import type { ModelPolicy } from '../types.js';
import { ProblemNote, problemOf, type Problem } from './ProblemNote.js';

export function AppFilePathForm({ tenant, policy, etag, onSaved, onReload }: { tenant: string; policy: ModelPolicy; etag: string | null; onSaved: (policy: ModelPolicy, etag: string | null) => void; onReload: () => void }) {
  const [path, setPath] = useState(policy.appFilePath ?? '');
  const [problem, setProblem] = useState<Problem | null>(null);

  const save = async (e: FormEvent) => {
    e.preventDefault();
    setProblem(null);
    try {
      const body = { appFilePath: path.trim() === '' ? null : path.trim() };
      const { data, etag: next } = await request<ModelPolicy>('PUT', `/api/v1/tenants/${seg(tenant)}/models/${seg(policy.model)}`, { body, ifMatch: etag });
      onSaved(data, next);
    } catch (err) {
      setProblem(problemOf(err));
    }
  };

  return (
    <form className="inline" onSubmit={(e) => void save(e)} aria-label="Firmware path">
      <h2>Firmware path</h2>
      <label>
        APP_FILE_PATH
        <input name="app-file-path" className="mono" maxLength={255} size={40} value={path} onChange={(e) => setPath(e.target.value)} placeholder="empty: the tenant's" />
      </label>
      <button type="submit">Save path</button>
      <p className="hint full">The firmware image phones of this model fetch, e.g. firmware/6.4.6/[PHONE_PART_NUMBER].sip.ld. Empty uses the tenant's path.</p>
      <div className="full">
        <ProblemNote problem={problem} onReload={onReload} />
      </div>
    </form>
  );
}
