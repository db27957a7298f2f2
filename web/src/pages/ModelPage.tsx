import { useState } from 'react';
import { seg } from '../api.js';
import { AppFilePathForm } from '../components/AppFilePathForm.js';
import { DeleteRecord } from '../components/DeleteRecord.js';
import { ErrorNote } from '../components/ErrorNote.js';
import { ParameterEditor } from '../components/ParameterEditor.js';
import { useTagged } from '../components/useTagged.js';
import { Link, navigate } from '../router.js';
import type { ModelPolicy } from '../types.js';

/** One model policy: its firmware path (If-Match), its removal, and the parameters of the model layer. */
export function ModelPage({ tenant, model, canWrite = true }: { tenant: string; model: string; canWrite?: boolean }) {
  const path = `/api/v1/tenants/${seg(tenant)}/models/${seg(model)}`;
  const res = useTagged<ModelPolicy>(path);
  const [saved, setSaved] = useState(false);
  const data = res.data;

  return (
    <section>
      <p className="crumbs">
        <Link to={`/t/${seg(tenant)}/models`}>Models</Link> / {model}
      </p>
      <h1>Model {data?.model ?? model}</h1>
      <ErrorNote error={res.error} />
      {data && (
        <div className="columns">
          <section aria-label="About this policy">
            <dl className="facts">
              <dt>Model</dt>
              <dd className="mono">{data.model}</dd>
              <dt>APP_FILE_PATH</dt>
              <dd className="mono" data-testid="model-app-file-path">
                {data.appFilePath ?? "the tenant's"}
              </dd>
            </dl>
            {saved && (
              <p className="ok" role="status">
                Firmware path saved.
              </p>
            )}
            <div className="buttons">
              <DeleteRecord
                apiPath={path}
                etag={res.etag}
                canWrite={canWrite}
                label="Delete policy"
                question={`Delete the policy of ${data.model}? Its parameters are removed with it.`}
                confirmLabel="Yes, delete the policy"
                onDeleted={() => navigate(`/t/${seg(tenant)}/models`)}
                onReload={res.reload}
              />
            </div>
          </section>
          {canWrite && (
            <AppFilePathForm
              key={res.version}
              tenant={tenant}
              policy={data}
              etag={res.etag}
              onReload={res.reload}
              onSaved={(next, etag) => {
                res.replace(next, etag);
                setSaved(true);
              }}
            />
          )}
        </div>
      )}
      {data && <ParameterEditor tenant={tenant} scope={`model:${data.model}`} title="Parameters of this model" canWrite={canWrite} />}
    </section>
  );
}
