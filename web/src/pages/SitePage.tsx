import { useState } from 'react';
import { seg } from '../api.js';
import { DeleteRecord } from '../components/DeleteRecord.js';
import { ErrorNote } from '../components/ErrorNote.js';
import { ParameterEditor } from '../components/ParameterEditor.js';
import { SiteEditForm } from '../components/SiteEditForm.js';
import { useTagged } from '../components/useTagged.js';
import { Link, navigate } from '../router.js';
import type { Site } from '../types.js';

/** One site: what it is (editable with If-Match), its removal, and the parameters its layer sets. */
export function SitePage({ tenant, site, canWrite = true }: { tenant: string; site: string; canWrite?: boolean }) {
  const path = `/api/v1/tenants/${seg(tenant)}/sites/${seg(site)}`;
  const res = useTagged<Site>(path);
  const [editing, setEditing] = useState(false);
  const [saved, setSaved] = useState(false);
  const data = res.data;

  return (
    <section>
      <p className="crumbs">
        <Link to={`/t/${seg(tenant)}/sites`}>Sites</Link> / {site}
      </p>
      <h1>Site {site}</h1>
      <ErrorNote error={res.error} />
      {data && (
        <div className="columns">
          <section aria-label="About this site">
            <dl className="facts">
              <dt>Name</dt>
              <dd>{data.name}</dd>
              <dt>Description</dt>
              <dd>{data.description || '—'}</dd>
              <dt>Location</dt>
              <dd data-testid="site-location">{data.location || '—'}</dd>
              <dt>TFTP subnets</dt>
              <dd className="mono">{data.tftpSubnets.length ? data.tftpSubnets.join(', ') : 'any'}</dd>
            </dl>
            {saved && !editing && (
              <p className="ok" role="status">
                Site saved.
              </p>
            )}
            <div className="buttons">
              {canWrite && !editing && (
                <button
                  type="button"
                  onClick={() => {
                    setSaved(false);
                    setEditing(true);
                  }}
                >
                  Edit site
                </button>
              )}
              <DeleteRecord
                apiPath={path}
                etag={res.etag}
                canWrite={canWrite}
                label="Delete site"
                question={`Delete site ${site}? Its devices fall back to no site and its parameters are removed.`}
                confirmLabel="Yes, delete the site"
                onDeleted={() => navigate(`/t/${seg(tenant)}/sites`)}
                onReload={res.reload}
              />
            </div>
            <p>
              <Link to={`/t/${seg(tenant)}/devices?site=${seg(site)}`}>Devices at this site</Link>
            </p>
          </section>
          {editing && (
            <SiteEditForm
              key={res.version}
              tenant={tenant}
              site={data}
              etag={res.etag}
              onReload={res.reload}
              onCancel={() => setEditing(false)}
              onSaved={(next, etag) => {
                res.replace(next, etag);
                setEditing(false);
                setSaved(true);
              }}
            />
          )}
        </div>
      )}
      {data && <ParameterEditor tenant={tenant} scope={`site:${site}`} title="Parameters of this site" canWrite={canWrite} />}
    </section>
  );
}
