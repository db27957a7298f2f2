// The tenant's landing page: how many devices were seen in the window, what they run, the errors
// their logs reported lately, and the provisioning requests over time. The window is in the URL.

import { useEffect, useState } from 'react';
import { messageOf, request, seg } from '../api.js';
import { CountTable } from '../components/CountTable.js';
import { ErrorNote } from '../components/ErrorNote.js';
import { RequestsChart } from '../components/RequestsChart.js';
import { formatTime } from '../format-time.js';
import { Link, navigate, useLocation } from '../router.js';
import type { Dashboard } from '../types.js';

const WINDOWS = [
  { hours: 24, label: 'last 24 hours' },
  { hours: 168, label: 'last 7 days' },
] as const;

function windowHours(query: URLSearchParams): number {
  const h = Number(query.get('hours'));
  return WINDOWS.some((w) => w.hours === h) ? h : 24;
}

/** The devices list showing the devices seen in the window ("online" is the list's 24 hours). */
function seenUrl(devicesUrl: string, hours: number, generatedAt: string): string {
  if (hours === 24) return `${devicesUrl}?status=online`;
  const since = new Date(new Date(generatedAt).getTime() - hours * 3600_000).toISOString();
  return `${devicesUrl}?${new URLSearchParams({ seenAfter: since })}`;
}

export function DashboardPage({ tenant }: { tenant: string }) {
  const { query } = useLocation();
  const hours = windowHours(query);
  // Kept with the window it answers, so a figure is never labelled with a window still loading.
  const [shown, setShown] = useState<{ hours: number; dashboard: Dashboard } | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    setError(null);
    request<Dashboard>('GET', `/api/v1/tenants/${seg(tenant)}/dashboard?hours=${hours}`)
      .then(({ data }) => setShown({ hours, dashboard: data }))
      .catch((err: unknown) => setError(messageOf(err)));
  }, [tenant, hours]);

  const dashboard = shown?.dashboard ?? null;
  const windowLabel = WINDOWS.find((w) => w.hours === shown?.hours)?.label ?? '';
  const devicesUrl = `/t/${seg(tenant)}/devices`;
  const d = dashboard?.devices;
  return (
    <section className="dashboard">
      <div className="title-row">
        <h1>Dashboard</h1>
        <label className="inline-label">
          Window
          <select name="dashboard-window" value={hours} onChange={(e) => navigate(`/t/${seg(tenant)}${e.target.value === '24' ? '' : `?hours=${e.target.value}`}`)}>
            {WINDOWS.map((w) => (
              <option key={w.hours} value={w.hours}>
                {w.label}
              </option>
            ))}
          </select>
        </label>
        {dashboard && <span className="muted">as of {formatTime(dashboard.generatedAt)}</span>}
      </div>
      <ErrorNote error={error} />
      {d && dashboard && (
        <>
          <section aria-labelledby="dash-devices" className="stats">
            <h2 id="dash-devices">Devices</h2>
            <dl className="stat-list">
              <div className="stat" data-testid="seen-in-window">
                <dt>Seen in the {windowLabel}</dt>
                <dd>
                  <Link to={seenUrl(devicesUrl, shown!.hours, dashboard.generatedAt)}>{d.seenInWindow}</Link>
                </dd>
              </div>
              <div className="stat">
                <dt>Total</dt>
                <dd>
                  <Link to={devicesUrl}>{d.total}</Link>
                </dd>
              </div>
              <div className="stat">
                <dt>Registered</dt>
                <dd>{d.registered}</dd>
              </div>
              <div className="stat">
                <dt>Seen only (not registered)</dt>
                <dd>{d.seenOnly}</dd>
              </div>
              <div className="stat">
                <dt>Never seen</dt>
                <dd>
                  <Link to={`${devicesUrl}?status=never`}>{d.neverSeen}</Link>
                </dd>
              </div>
            </dl>
          </section>
          <div className="columns">
            <section aria-labelledby="dash-models">
              <h2 id="dash-models">Models</h2>
              <CountTable label="Models" heading="Model" rows={dashboard.models.map((m) => ({ value: m.model, count: m.count }))} />
            </section>
            <section aria-labelledby="dash-firmware">
              <h2 id="dash-firmware">Firmware</h2>
              <CountTable label="Firmware versions" heading="Version" rows={dashboard.firmware.map((f) => ({ value: f.version, count: f.count }))} />
            </section>
          </div>
          <section aria-labelledby="dash-requests">
            <h2 id="dash-requests">Provisioning requests</h2>
            <RequestsChart requests={dashboard.requests} />
          </section>
          <section aria-labelledby="dash-errors">
            <h2 id="dash-errors">Recent errors in phone logs</h2>
            {dashboard.recentErrors.length === 0 ? (
              <p>No errors in the logs phones uploaded.</p>
            ) : (
              <table aria-label="Recent errors" className="recent-errors">
                <thead>
                  <tr>
                    <th scope="col">When</th>
                    <th scope="col">Device</th>
                    <th scope="col">Log</th>
                    <th scope="col">Level</th>
                    <th scope="col">Line</th>
                  </tr>
                </thead>
                <tbody>
                  {dashboard.recentErrors.map((e, i) => (
                    <tr key={`${e.mac}-${e.kind}-${i}`}>
                      <td>{e.at ? formatTime(e.at, { seconds: true }) : <span className="muted">unknown</span>}</td>
                      <td className="mono">
                        <Link to={`${devicesUrl}/${seg(e.mac)}?log=${e.kind}#logs`}>{e.mac}</Link>
                      </td>
                      <td>{e.kind}</td>
                      <td>{e.level}</td>
                      <td className="mono log-text">{e.line}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </section>
        </>
      )}
    </section>
  );
}
