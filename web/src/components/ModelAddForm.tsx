// Adds a policy for one model. The field suggests the models this tenant's phones have reported,
// then every model polyprov knows a firmware part number of (GET /api/v1/model-names); any other
// model id is still accepted (new models come before polyprov knows them), and the server spells
// it canonically (vvx450 → VVX_450).

import { useEffect, useId, useState, type FormEvent } from 'react';
import { ApiError, messageOf, request, seg } from '../api.js';
import type { Device, ModelPolicy, Page } from '../types.js';
import { ErrorNote } from './ErrorNote.js';

export function ModelAddForm({ tenant, onAdded }: { tenant: string; onAdded: (policy: ModelPolicy) => void }) {
  const [model, setModel] = useState('');
  const [appFilePath, setAppFilePath] = useState('');
  const [reported, setReported] = useState<string[]>([]);
  const [known, setKnown] = useState<string[]>([]);
  const [error, setError] = useState<string | null>(null);
  const listId = useId();
  const hintId = useId();

  useEffect(() => {
    request<{ items: { model: string }[] }>('GET', '/api/v1/model-names')
      .then(({ data }) => setKnown(data.items.map((m) => m.model)))
      .catch(() => {
        /* suggestions only: the field works without them */
      });
    request<Page<Device>>('GET', `/api/v1/tenants/${seg(tenant)}/devices?limit=500`)
      .then(({ data }) => setReported([...new Set(data.items.map((d) => d.inventory.model).filter((m): m is string => !!m))].sort()))
      .catch(() => {
        /* suggestions only: the field works without them */
      });
  }, [tenant]);

  const add = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    const typed = model.trim();
    try {
      const { data } = await request<ModelPolicy>('PUT', `/api/v1/tenants/${seg(tenant)}/models/${seg(typed)}`, { body: { appFilePath: appFilePath.trim() === '' ? null : appFilePath.trim() } });
      onAdded(data);
    } catch (err) {
      // Without If-Match a PUT only creates: 428 means the policy is there already.
      setError(err instanceof ApiError && err.status === 428 ? `${typed} already has a policy: open it in the list to change it.` : messageOf(err));
    }
  };

  return (
    <form className="inline" onSubmit={(e) => void add(e)} aria-label="Add a model policy">
      <h2>Add a model policy</h2>
      <label>
        Model
        <input
          name="model"
          className="mono"
          required
          maxLength={40}
          pattern="[A-Za-z][A-Za-z0-9_ \-]*"
          title="a model id as phones report it, e.g. VVX_450"
          list={listId}
          spellCheck={false}
          autoComplete="off"
          aria-describedby={hintId}
          value={model}
          onChange={(e) => setModel(e.target.value)}
        />
      </label>
      <datalist id={listId}>
        {[...reported, ...known.filter((m) => !reported.includes(m))].map((m) => (
          <option key={m} value={m} label={reported.includes(m) ? 'reported by your phones' : undefined} />
        ))}
      </datalist>
      <label>
        APP_FILE_PATH (optional)
        <input name="app-file-path" className="mono" maxLength={255} value={appFilePath} onChange={(e) => setAppFilePath(e.target.value)} placeholder="the tenant's" />
      </label>
      <button type="submit">Add policy</button>
      <p id={hintId} className="hint full">
        As phones report it in their User-Agent, e.g. VVX_450, SPIP_335, Trio_8800 (vvx450 is accepted).
        {reported.length > 0 && ` Reported by this tenant's phones: ${reported.join(', ')}.`}
      </p>
      <div className="full">
        <ErrorNote error={error} />
      </div>
    </form>
  );
}
