import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { ApiError, messageOf, request, seg } from '../api.js';
import { DeviceFirmware } from '../components/DeviceFirmware.js';
import { DeviceOverrides } from '../components/DeviceOverrides.js';
import { DeviceResync } from '../components/DeviceResync.js';
import { DirectoryTable } from '../components/DirectoryTable.js';
import { ErrorNote } from '../components/ErrorNote.js';
import { ExplainTable } from '../components/ExplainTable.js';
import { LogViewer } from '../components/LogViewer.js';
import { formatTime } from '../format-time.js';
import { Link, useLocation } from '../router.js';
import type { Device, Page, Site } from '../types.js';

interface GroupItem {
  slug: string;
  name: string;
}

/**
 * One device: its inventory, its site and group (changed with If-Match), resync, its own
 * overrides, its logs, its directory, and why it has each value.
 */
export function DevicePage({ tenant, mac, canWrite = true }: { tenant: string; mac: string; canWrite?: boolean }) {
  const { query } = useLocation();
  const [device, setDevice] = useState<Device | null>(null);
  const [etag, setEtag] = useState<string | null>(null);
  const [sites, setSites] = useState<Site[]>([]);
  const [groups, setGroups] = useState<GroupItem[]>([]);
  const [site, setSite] = useState('');
  const [group, setGroup] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [stale, setStale] = useState(false);
  const [saved, setSaved] = useState(0);
  const path = `/api/v1/tenants/${seg(tenant)}/devices/${seg(mac)}`;

  const load = useCallback(() => {
    request<Device>('GET', path)
      .then(({ data, etag }) => {
        setDevice(data);
        setEtag(etag);
        setSite(data.site ?? '');
        setGroup(data.group ?? '');
        setStale(false);
        setError(null);
      })
      .catch((err: unknown) => setError(messageOf(err)));
  }, [path]);
  useEffect(load, [load]);
  useEffect(() => {
    request<Page<Site>>('GET', `/api/v1/tenants/${seg(tenant)}/sites?limit=500`)
      .then(({ data }) => setSites(data.items))
      .catch((err: unknown) => setError(messageOf(err)));
    request<Page<GroupItem>>('GET', `/api/v1/tenants/${seg(tenant)}/groups?limit=500`)
      .then(({ data }) => setGroups(data.items))
      .catch((err: unknown) => setError(messageOf(err)));
  }, [tenant]);

  /** One PATCH of the device, based on the ETag of what the page shows. */
  const edit = async (e: FormEvent, change: { site?: string | null; group?: string | null }) => {
    e.preventDefault();
    setError(null);
    setStale(false);
    try {
      const { data, etag: next } = await request<Device>('PATCH', path, { body: change, ifMatch: etag });
      setDevice(data);
      setEtag(next);
      setSaved((n) => n + 1);
    } catch (err) {
      setError(messageOf(err));
      setStale(err instanceof ApiError && err.status === 412);
    }
  };

  // A link to the device's log (from the dashboard's errors) lands on the log viewer.
  const logAsked = query.get('log') !== null;
  const loaded = device !== null;
  useEffect(() => {
    if (loaded && logAsked) document.getElementById('logs')?.scrollIntoView();
  }, [loaded, logAsked]);

  const inv = device?.inventory;
  const refreshExplain = () => setSaved((n) => n + 1);
  return (
    <section className="device-page">
      <p className="crumbs">
        <Link to={`/t/${seg(tenant)}/devices`}>Devices</Link> / {mac}
      </p>
      <h1>Device {device?.mac ?? mac}</h1>
      <nav aria-label="On this page" className="in-page">
        <a href="#inventory">Inventory</a>
        <a href="#resync">Resync</a>
        <a href="#overrides">Overrides</a>
        <a href="#firmware">Firmware</a>
        <a href="#logs">Logs</a>
        <a href="#directory">Directory</a>
        <a href="#explain">Effective configuration</a>
      </nav>
      <ErrorNote error={error} />
      {stale && (
        <p>
          <button type="button" className="secondary" onClick={load}>
            Reload the device
          </button>
        </p>
      )}
      {device && inv && (
        <div className="columns" id="inventory">
          <section aria-label="Inventory">
            <h2>Inventory</h2>
            <dl className="facts">
              <dt>Registered</dt>
              <dd>{device.registered ? 'yes' : 'no (seen on the wire only)'}</dd>
              <dt>Site</dt>
              <dd data-testid="device-site">{device.site ?? 'none'}</dd>
              <dt>Group</dt>
              <dd data-testid="device-group">{device.group ?? 'none'}</dd>
              <dt>Model</dt>
              <dd>{inv.model ?? 'unknown'}</dd>
              <dt>Firmware</dt>
              <dd>{inv.firmware ?? 'unknown'}</dd>
              <dt>Last seen</dt>
              <dd>{inv.lastSeen ? `${formatTime(inv.lastSeen, { seconds: true })} from ${inv.lastIp ?? '?'}` : 'never'}</dd>
              <dt>Last file</dt>
              <dd className="mono">{inv.lastFile ?? '—'}</dd>
            </dl>
          </section>
          <div>
            <form className="inline" onSubmit={(e) => void edit(e, { site: site === '' ? null : site })} aria-label="Assign a site">
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
              <button type="submit" disabled={!canWrite}>
                Assign site
              </button>
            </form>
            <form className="inline" onSubmit={(e) => void edit(e, { group: group === '' ? null : group })} aria-label="Assign a group">
              <h2>Group</h2>
              <label>
                Group
                <select name="device-group" value={group} onChange={(e) => setGroup(e.target.value)}>
                  <option value="">none</option>
                  {groups.map((g) => (
                    <option key={g.slug} value={g.slug}>
                      {g.slug}
                      {g.name && g.name !== g.slug ? ` — ${g.name}` : ''}
                    </option>
                  ))}
                </select>
              </label>
              <button type="submit" disabled={!canWrite}>
                Assign group
              </button>
            </form>
          </div>
        </div>
      )}
      {device && (
        <>
          <DeviceResync tenant={tenant} mac={device.mac} canWrite={canWrite} />
          <DeviceOverrides tenant={tenant} mac={device.mac} canWrite={canWrite} onChanged={refreshExplain} />
          <DeviceFirmware tenant={tenant} mac={device.mac} running={device.inventory.firmware} canWrite={canWrite} onChanged={refreshExplain} />
          <LogViewer tenant={tenant} mac={device.mac} initialKind={query.get('log')} />
          <DirectoryTable tenant={tenant} mac={device.mac} />
          <div id="explain">
            <ExplainTable key={saved} tenant={tenant} mac={device.mac} />
          </div>
        </>
      )}
    </section>
  );
}
