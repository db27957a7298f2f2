import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { messageOf, request, seg } from '../api.js';
import { ErrorNote } from '../components/ErrorNote.js';
import { ExplainTable } from '../components/ExplainTable.js';
import { Link } from '../router.js';
import type { Device, Page, Site } from '../types.js';

/** One device: its inventory, its site (changed with If-Match), and why it has each value. */
export function DevicePage({ tenant, mac }: { tenant: string; mac: string }) {
  const [device, setDevice] = useState<Device | null>(null);
  const [etag, setEtag] = useState<string | null>(null);
  const [sites, setSites] = useState<Site[]>([]);
  const [site, setSite] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(0);
  const path = `/api/v1/tenants/${seg(tenant)}/devices/${seg(mac)}`;

  const load = useCallback(() => {
    request<Device>('GET', path)
      .then(({ data, etag }) => {
        setDevice(data);
        setEtag(etag);
        setSite(data.site ?? '');
      })
      .catch((err: unknown) => setError(messageOf(err)));
  }, [path]);
  useEffect(load, [load]);
  useEffect(() => {
    request<Page<Site>>('GET', `/api/v1/tenants/${seg(tenant)}/sites?limit=500`)
      .then(({ data }) => setSites(data.items))
      .catch((err: unknown) => setError(messageOf(err)));
  }, [tenant]);

  const assign = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      const { data, etag: next } = await request<Device>('PATCH', path, { body: { site: site === '' ? null : site }, ifMatch: etag });
      setDevice(data);
      setEtag(next);
      setSaved((n) => n + 1);
    } catch (err) {
      setError(messageOf(err));
    }
  };

  const inv = device?.inventory;
  return (
    <section>
      <p className="crumbs">
        <Link to={`/t/${seg(tenant)}/devices`}>Devices</Link> / {mac}
      </p>
      <h1>Device {device?.mac ?? mac}</h1>
      <ErrorNote error={error} />
      {device && inv && (
        <div className="columns">
          <section aria-label="Inventory">
            <h2>Inventory</h2>
            <dl className="facts">
              <dt>Registered</dt>
              <dd>{device.registered ? 'yes' : 'no (seen on the wire only)'}</dd>
              <dt>Site</dt>
              <dd data-testid="device-site">{device.site ?? 'none'}</dd>
              <dt>Group</dt>
              <dd>{device.group ?? 'none'}</dd>
              <dt>Model</dt>
              <dd>{inv.model ?? 'unknown'}</dd>
              <dt>Firmware</dt>
              <dd>{inv.firmware ?? 'unknown'}</dd>
              <dt>Last seen</dt>
              <dd>{inv.lastSeen ? `${inv.lastSeen} from ${inv.lastIp ?? '?'}` : 'never'}</dd>
              <dt>Last file</dt>
              <dd className="mono">{inv.lastFile ?? '—'}</dd>
            </dl>
          </section>
          <form className="inline" onSubmit={(e) => void assign(e)} aria-label="Assign a site">
            <h2>Site</h2>
            <label>
              Site
              <select name="device-site" value={site} onChange={(e) => setSite(e.target.value)}>
                <option value="">none</option>
                {sites.map((s) => (
                  <option key={s.slug} value={s.slug}>
                    {s.slug} — {s.name}
                  </option>
                ))}
              </select>
            </label>
            <button type="submit">Assign site</button>
          </form>
        </div>
      )}
      {device && <ExplainTable key={saved} tenant={tenant} mac={device.mac} />}
    </section>
  );
}
