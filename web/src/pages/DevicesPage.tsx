import { useEffect, useState, type FormEvent } from 'react';
import { messageOf, request, seg } from '../api.js';
import { ErrorNote } from '../components/ErrorNote.js';
import { Link, navigate, useLocation } from '../router.js';
import type { Device, Page, Site } from '../types.js';

/** The tenant's devices, filtered by MAC prefix and site (kept in the URL), and a form to add one. */
export function DevicesPage({ tenant }: { tenant: string }) {
  const { query } = useLocation();
  const mac = query.get('mac') ?? '';
  const site = query.get('site') ?? '';
  const [search, setSearch] = useState(mac);
  const [devices, setDevices] = useState<Device[] | null>(null);
  const [more, setMore] = useState(false);
  const [sites, setSites] = useState<Site[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [newMac, setNewMac] = useState('');

  useEffect(() => {
    request<Page<Site>>('GET', `/api/v1/tenants/${seg(tenant)}/sites?limit=500`)
      .then(({ data }) => setSites(data.items))
      .catch((err: unknown) => setError(messageOf(err)));
  }, [tenant]);

  useEffect(() => {
    const params = new URLSearchParams({ limit: '200' });
    if (mac) params.set('mac', mac);
    if (site) params.set('site', site);
    setError(null);
    request<Page<Device>>('GET', `/api/v1/tenants/${seg(tenant)}/devices?${params}`)
      .then(({ data }) => {
        setDevices(data.items);
        setMore(data.next !== null);
      })
      .catch((err: unknown) => setError(messageOf(err)));
  }, [tenant, mac, site]);

  const filter = (nextMac: string, nextSite: string) => {
    const params = new URLSearchParams();
    if (nextMac) params.set('mac', nextMac);
    if (nextSite) params.set('site', nextSite);
    const qs = params.toString();
    navigate(`/t/${seg(tenant)}/devices${qs ? `?${qs}` : ''}`);
  };

  const add = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      const { data } = await request<Device>('POST', `/api/v1/tenants/${seg(tenant)}/devices`, { body: { mac: newMac } });
      navigate(`/t/${seg(tenant)}/devices/${seg(data.mac)}`);
    } catch (err) {
      setError(messageOf(err));
    }
  };

  return (
    <section>
      <h1>Devices</h1>
      <form
        className="inline"
        role="search"
        aria-label="Filter devices"
        onSubmit={(e) => {
          e.preventDefault();
          filter(search.trim(), site);
        }}
      >
        <label>
          MAC prefix
          <input name="mac-search" type="search" className="mono" value={search} onChange={(e) => setSearch(e.target.value)} placeholder="0004f2" />
        </label>
        <label>
          Site
          <select name="site-filter" value={site} onChange={(e) => filter(search.trim(), e.target.value)}>
            <option value="">any</option>
            <option value="-">none</option>
            {sites.map((s) => (
              <option key={s.slug} value={s.slug}>
                {s.slug}
              </option>
            ))}
          </select>
        </label>
        <button type="submit">Search</button>
      </form>
      <ErrorNote error={error} />
      {devices && devices.length === 0 && <p>No devices match.</p>}
      {devices && devices.length > 0 && (
        <table aria-label="Devices">
          <thead>
            <tr>
              <th scope="col">MAC</th>
              <th scope="col">Registered</th>
              <th scope="col">Site</th>
              <th scope="col">Model</th>
              <th scope="col">Firmware</th>
              <th scope="col">Last seen</th>
            </tr>
          </thead>
          <tbody>
            {devices.map((d) => (
              <tr key={d.mac}>
                <td className="mono">
                  <Link to={`/t/${seg(tenant)}/devices/${seg(d.mac)}`}>{d.mac}</Link>
                </td>
                <td>{d.registered ? 'yes' : 'seen only'}</td>
                <td>{d.site ?? '—'}</td>
                <td>{d.inventory.model ?? '—'}</td>
                <td>{d.inventory.firmware ?? '—'}</td>
                <td>{d.inventory.lastSeen ?? 'never'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {more && <p className="muted">Only the first 200 are shown: narrow the search.</p>}
      <form className="inline" onSubmit={(e) => void add(e)} aria-label="Add a device">
        <h2>Add a device</h2>
        <label>
          MAC
          <input name="new-mac" className="mono" required value={newMac} onChange={(e) => setNewMac(e.target.value)} placeholder="0004f2abc001" />
        </label>
        <button type="submit">Add device</button>
      </form>
    </section>
  );
}
