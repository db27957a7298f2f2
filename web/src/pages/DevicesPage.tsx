import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { messageOf, request, seg } from '../api.js';
import { DeviceFilters, filtersFrom, type DeviceFilterValues } from '../components/DeviceFilters.js';
import { ErrorNote } from '../components/ErrorNote.js';
import { formatTime } from '../format-time.js';
import { Link, navigate, useLocation } from '../router.js';
import type { Device, Page, Site } from '../types.js';

const DEFAULT_LIMIT = 50;

/** The usual page sizes, plus the URL's own when it is another (a bookmark with limit=3). */
function pageSizes(current: string): string[] {
  const sizes = [10, 25, 50, 100, 200, 500];
  const n = Number(current);
  if (Number.isInteger(n) && n > 0 && !sizes.includes(n)) sizes.push(n);
  return sizes.sort((a, b) => a - b).map(String);
}

/** The list's URL: filters, page size and cursor, in a stable order, empty values left out. */
function listUrl(tenant: string, filters: Partial<DeviceFilterValues>, extra: { limit?: string; cursor?: string } = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries({ ...filters, ...extra })) if (v) params.set(k, v);
  const qs = params.toString();
  return `/t/${seg(tenant)}/devices${qs ? `?${qs}` : ''}`;
}

/**
 * The tenant's devices, filtered (MAC prefix, site, model, firmware, registration, status, last
 * seen) and paged by the API's cursor, all kept in the URL; and a form to add one.
 */
export function DevicesPage({ tenant }: { tenant: string }) {
  const { query } = useLocation();
  const qs = query.toString();
  const filters = useMemo(() => filtersFrom(new URLSearchParams(qs)), [qs]);
  const limit = query.get('limit') ?? '';
  const cursor = query.get('cursor') ?? '';
  const [devices, setDevices] = useState<Device[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [sites, setSites] = useState<Site[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [newMac, setNewMac] = useState('');

  useEffect(() => {
    request<Page<Site>>('GET', `/api/v1/tenants/${seg(tenant)}/sites?limit=500`)
      .then(({ data }) => setSites(data.items))
      .catch((err: unknown) => setError(messageOf(err)));
  }, [tenant]);

  useEffect(() => {
    const params = new URLSearchParams({ limit: limit || String(DEFAULT_LIMIT) });
    for (const [k, v] of Object.entries(filters)) if (v) params.set(k, v);
    if (cursor) params.set('cursor', cursor);
    setError(null);
    request<Page<Device>>('GET', `/api/v1/tenants/${seg(tenant)}/devices?${params}`)
      .then(({ data }) => {
        setDevices(data.items);
        setNext(data.next);
      })
      .catch((err: unknown) => {
        setDevices(null);
        setError(messageOf(err));
      });
  }, [tenant, filters, limit, cursor]);

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

  const known = (pick: (d: Device) => string | null) => [...new Set((devices ?? []).map(pick).filter((v): v is string => v !== null))].sort();
  return (
    <section>
      <h1>Devices</h1>
      <DeviceFilters
        values={filters}
        sites={sites}
        models={known((d) => d.inventory.model)}
        firmware={known((d) => d.inventory.firmware)}
        onApply={(f) => navigate(listUrl(tenant, f, { limit }))}
      />
      <ErrorNote error={error} />
      {devices && devices.length === 0 && <p>No devices match.</p>}
      {devices && devices.length > 0 && (
        <table aria-label="Devices" className="devices">
          <thead>
            <tr>
              <th scope="col">MAC</th>
              <th scope="col">Registered</th>
              <th scope="col">Site</th>
              <th scope="col">Group</th>
              <th scope="col">Model</th>
              <th scope="col">Firmware</th>
              <th scope="col">Last seen</th>
            </tr>
          </thead>
          <tbody>
            {devices.map((d) => (
              <tr key={d.mac} data-mac={d.mac}>
                <td className="mono">
                  <Link to={`/t/${seg(tenant)}/devices/${seg(d.mac)}`}>{d.mac}</Link>
                  {d.label && <span className="muted"> {d.label}</span>}
                </td>
                <td>{d.registered ? 'yes' : 'seen only'}</td>
                <td>{d.site ?? '—'}</td>
                <td>{d.group ?? '—'}</td>
                <td>{d.inventory.model ?? '—'}</td>
                <td className="mono">{d.inventory.firmware ?? '—'}</td>
                <td>{d.inventory.lastSeen ? formatTime(d.inventory.lastSeen) : 'never'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <nav aria-label="Pages" className="pager">
        {cursor && <Link to={listUrl(tenant, filters, { limit })}>First page</Link>}
        {next !== null && devices && <Link to={listUrl(tenant, filters, { limit, cursor: next })}>Next page</Link>}
        {devices && (
          <label className="inline-label">
            Per page
            <select name="page-size" value={limit || String(DEFAULT_LIMIT)} onChange={(e) => navigate(listUrl(tenant, filters, { limit: e.target.value }))}>
              {pageSizes(limit).map((n) => (
                <option key={n} value={n}>
                  {n}
                </option>
              ))}
            </select>
          </label>
        )}
      </nav>
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
