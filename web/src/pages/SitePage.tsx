import { useEffect, useState } from 'react';
import { messageOf, request, seg } from '../api.js';
import { ErrorNote } from '../components/ErrorNote.js';
import { ParameterEditor } from '../components/ParameterEditor.js';
import { Link } from '../router.js';
import type { Site } from '../types.js';

/** One site: what it is, and the parameters its layer sets. */
export function SitePage({ tenant, site }: { tenant: string; site: string }) {
  const [data, setData] = useState<Site | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    request<Site>('GET', `/api/v1/tenants/${seg(tenant)}/sites/${seg(site)}`)
      .then(({ data }) => setData(data))
      .catch((err: unknown) => setError(messageOf(err)));
  }, [tenant, site]);

  return (
    <section>
      <p className="crumbs">
        <Link to={`/t/${seg(tenant)}/sites`}>Sites</Link> / {site}
      </p>
      <h1>Site {site}</h1>
      <ErrorNote error={error} />
      {data && (
        <dl className="facts">
          <dt>Name</dt>
          <dd>{data.name}</dd>
          <dt>Location</dt>
          <dd>{data.location || '—'}</dd>
          <dt>TFTP subnets</dt>
          <dd>{data.tftpSubnets.length ? data.tftpSubnets.join(', ') : 'any'}</dd>
        </dl>
      )}
      {data && <ParameterEditor tenant={tenant} scope={`site:${site}`} title="Parameters of this site" />}
      {data && (
        <p>
          <Link to={`/t/${seg(tenant)}/devices?site=${seg(site)}`}>Devices at this site</Link>
        </p>
      )}
    </section>
  );
}
