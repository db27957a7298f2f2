import { useEffect, useState } from 'react';
import { messageOf, request, seg } from '../api.js';
import { ErrorNote } from '../components/ErrorNote.js';
import { ModelAddForm } from '../components/ModelAddForm.js';
import { Link, navigate } from '../router.js';
import type { ModelPolicy, Page } from '../types.js';

/** The tenant's model policies (a model's firmware path and parameter layer), and (unless read-only) a form to add one. */
export function ModelsPage({ tenant, canWrite = true }: { tenant: string; canWrite?: boolean }) {
  const [models, setModels] = useState<ModelPolicy[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    request<Page<ModelPolicy>>('GET', `/api/v1/tenants/${seg(tenant)}/models?limit=500`)
      .then(({ data }) => setModels(data.items))
      .catch((err: unknown) => setError(messageOf(err)));
  }, [tenant]);

  return (
    <section>
      <h1>Models</h1>
      <p className="hint">A model's parameters apply to every phone of that model; sites, groups and devices override them.</p>
      <ErrorNote error={error} />
      {models && models.length === 0 && <p>No model policies yet.</p>}
      {models && models.length > 0 && (
        <table aria-label="Model policies">
          <thead>
            <tr>
              <th scope="col">Model</th>
              <th scope="col">APP_FILE_PATH</th>
            </tr>
          </thead>
          <tbody>
            {models.map((m) => (
              <tr key={m.model}>
                <td className="mono">
                  <Link to={`/t/${seg(tenant)}/models/${seg(m.model)}`}>{m.model}</Link>
                </td>
                <td className="mono">{m.appFilePath ?? <span className="muted">the tenant's</span>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {canWrite && <ModelAddForm tenant={tenant} onAdded={(p) => navigate(`/t/${seg(tenant)}/models/${seg(p.model)}`)} />}
    </section>
  );
}
