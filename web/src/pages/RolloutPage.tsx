import { seg } from '../api.js';
import { CountTable } from '../components/CountTable.js';
import { ErrorNote } from '../components/ErrorNote.js';
import { RolloutActions } from '../components/RolloutActions.js';
import { durationText, selectorText, waveText } from '../components/rollout-text.js';
import { useTagged } from '../components/useTagged.js';
import { formatTime } from '../format-time.js';
import { Link, navigate } from '../router.js';
import type { Rollout, RolloutStatus } from '../types.js';

const at = (start: string, ms: number) => new Date(Date.parse(start) + ms).toISOString();

/** When the server's minute tick may next move the rollout on, in words. */
function nextTime(r: Rollout): string {
  if (r.status === 'completed' || r.status === 'rolled-back') return `never: the rollout is ${r.status}`;
  if (r.status === 'paused') return 'when resumed';
  if (r.currentWave >= r.waves.length - 1) return `completes once the last wave's phones report ${r.to}`;
  const soaked = formatTime(at(r.waveStartedAt, r.waveIntervalMs));
  return `next wave not before ${soaked}${r.window ? `, inside ${r.window} UTC` : ''}, once this wave's phones report ${r.to}`;
}

/**
 * One rollout's status: its settings, its waves (released, phones on the new version), the versions
 * its phones report, the phones that are stuck, what the next tick would do; pause, resume, roll
 * back and remove with its ETag.
 */
export function RolloutPage({ tenant, name, canWrite = true }: { tenant: string; name: string; canWrite?: boolean }) {
  const res = useTagged<RolloutStatus>(`/api/v1/tenants/${seg(tenant)}/rollouts/${seg(name)}`);
  const s = res.data;
  const r = s?.rollout;

  return (
    <section>
      <p className="crumbs">
        <Link to={`/t/${seg(tenant)}/rollouts`}>Rollouts</Link> / {name}
      </p>
      <h1>Rollout {name}</h1>
      <ErrorNote error={res.error} />
      {s && r && (
        <>
          <div className="columns">
            <section aria-label="About this rollout">
              <dl className="facts">
                <dt>Status</dt>
                <dd data-testid="rollout-status" className={`rollout-status rollout-${r.status}`}>
                  {r.status}
                  {r.reason && <span className="muted"> — {r.reason}</span>}
                </dd>
                <dt>Versions</dt>
                <dd className="mono">
                  {r.from} → {r.to}
                </dd>
                <dt>Devices</dt>
                <dd>
                  {r.devices} ({selectorText(r.selector)})
                </dd>
                <dt>Progress</dt>
                <dd>
                  {waveText(r)}, started {formatTime(r.waveStartedAt)}
                </dd>
                <dt>Pace</dt>
                <dd>
                  soak {durationText(r.waveIntervalMs)}, report within {durationText(r.deadlineMs)}, {r.maxFailurePercent} % may fail
                  {r.window ? `, window ${r.window} UTC` : ''}
                </dd>
                <dt>Next action</dt>
                <dd data-testid="rollout-next">
                  <strong>{s.next.action}</strong>
                  {s.next.reason ? ` — ${s.next.reason}` : ''}
                </dd>
                <dt>Next time</dt>
                <dd>{nextTime(r)}</dd>
              </dl>
              {canWrite && <RolloutActions tenant={tenant} rollout={r} etag={res.etag} onChanged={res.reload} onRemoved={() => navigate(`/t/${seg(tenant)}/rollouts`)} />}
            </section>
            <section aria-labelledby="rollout-versions">
              <h2 id="rollout-versions">Versions its phones report</h2>
              <CountTable label="Versions reported" heading="Version" rows={Object.entries(s.versions).map(([value, count]) => ({ value, count }))} />
            </section>
          </div>
          <h2>Waves</h2>
          <table aria-label="Waves" className="counts">
            <thead>
              <tr>
                <th scope="col">Wave</th>
                <th scope="col">Up to</th>
                <th scope="col">Phones</th>
                <th scope="col">Released</th>
                <th scope="col">On {r.to}</th>
              </tr>
            </thead>
            <tbody>
              {s.waves.map((w) => (
                <tr key={w.wave}>
                  <th scope="row">{w.wave + 1}</th>
                  <td>{w.percent} %</td>
                  <td>{w.size}</td>
                  <td>{w.released ? 'yes' : 'not yet'}</td>
                  <td>
                    {w.updated} of {w.size}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <h2>Stuck phones</h2>
          {s.stuck.length === 0 ? (
            <p className="muted">None: every released phone reports {r.to}, or none is released yet.</p>
          ) : (
            <table aria-label="Stuck phones" className="counts">
              <thead>
                <tr>
                  <th scope="col">Device</th>
                  <th scope="col">Wave</th>
                  <th scope="col">Running</th>
                  <th scope="col">Last seen</th>
                </tr>
              </thead>
              <tbody>
                {s.stuck.map((m) => (
                  <tr key={m.mac}>
                    <th scope="row">
                      <Link to={`/t/${seg(tenant)}/devices/${seg(m.mac)}`} className="mono">
                        {m.mac}
                      </Link>
                    </th>
                    <td>{m.wave + 1}</td>
                    <td className="mono">{m.running ?? 'not reported'}</td>
                    <td>{formatTime(m.lastSeen)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
    </section>
  );
}
