import { seg } from '../api.js';
import { DeleteRecord } from '../components/DeleteRecord.js';
import { ErrorNote } from '../components/ErrorNote.js';
import { GroupRenameForm } from '../components/GroupRenameForm.js';
import { ParameterEditor } from '../components/ParameterEditor.js';
import { useTagged } from '../components/useTagged.js';
import { Link, navigate } from '../router.js';
import type { Group } from '../types.js';

/** One device group: its names (renamed with If-Match), its removal, and the parameters its layer sets. */
export function GroupPage({ tenant, group, canWrite = true }: { tenant: string; group: string; canWrite?: boolean }) {
  const path = `/api/v1/tenants/${seg(tenant)}/groups/${seg(group)}`;
  const res = useTagged<Group>(path);
  const data = res.data;

  return (
    <section>
      <p className="crumbs">
        <Link to={`/t/${seg(tenant)}/groups`}>Groups</Link> / {group}
      </p>
      <h1>Group {group}</h1>
      <ErrorNote error={res.error} />
      {data && (
        <div className="columns">
          <section aria-label="About this group">
            <dl className="facts">
              <dt>Slug</dt>
              <dd className="mono">{data.slug}</dd>
              <dt>Display name</dt>
              <dd>{data.name}</dd>
            </dl>
            <div className="buttons">
              <DeleteRecord
                apiPath={path}
                etag={res.etag}
                canWrite={canWrite}
                label="Delete group"
                question={`Delete group ${group}? Its devices fall back to no group and its parameters are removed.`}
                confirmLabel="Yes, delete the group"
                onDeleted={() => navigate(`/t/${seg(tenant)}/groups`)}
                onReload={res.reload}
              />
            </div>
          </section>
          {canWrite && (
            <GroupRenameForm
              key={res.version}
              tenant={tenant}
              group={data}
              etag={res.etag}
              onReload={res.reload}
              onSaved={(next, etag) => {
                if (next.slug !== group) navigate(`/t/${seg(tenant)}/groups/${seg(next.slug)}`);
                else res.replace(next, etag);
              }}
            />
          )}
        </div>
      )}
      {data && <ParameterEditor tenant={tenant} scope={`group:${group}`} title="Parameters of this group" canWrite={canWrite} />}
    </section>
  );
}
