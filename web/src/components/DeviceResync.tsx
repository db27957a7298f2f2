// Resync one phone: a check-sync NOTIFY (the phone re-reads its files, and reboots only if a
// changed parameter needs it) started as a resync job of one device. The job runs on the server;
// the page polls it, bounded, then shows the phone's answer with its latest reach results.

import { useCallback, useEffect, useRef, useState } from 'react';
import { messageOf, request, seg } from '../api.js';
import { formatTime } from '../format-time.js';
import type { ReachJob, ReachResult } from '../types.js';
import { ErrorNote } from './ErrorNote.js';

const POLL_MS = 500;
// A NOTIFY transaction gives up after 32 s (SIP timer F): a little more than that.
const POLL_LIMIT = 80;

function outcomeText(job: ReachJob): string {
  const parts = Object.entries(job.outcomes).map(([k, n]) => (job.total === 1 ? k : `${k}: ${n}`));
  return parts.length ? parts.join(', ') : 'no answer recorded';
}

export function DeviceResync({ tenant, mac, canWrite }: { tenant: string; mac: string; canWrite: boolean }) {
  const t = `/api/v1/tenants/${seg(tenant)}`;
  const [results, setResults] = useState<ReachResult[] | null>(null);
  const [job, setJob] = useState<ReachJob | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const alive = useRef(true);
  useEffect(() => {
    alive.current = true;
    return () => void (alive.current = false);
  }, []);

  const loadResults = useCallback(() => {
    request<{ items: ReachResult[] }>('GET', `${t}/devices/${seg(mac)}/reach`)
      .then(({ data }) => alive.current && setResults(data.items))
      .catch((err: unknown) => alive.current && setError(messageOf(err)));
  }, [t, mac]);
  useEffect(loadResults, [loadResults]);

  const resync = async () => {
    setError(null);
    setBusy(true);
    try {
      let { data: current } = await request<ReachJob>('POST', `${t}/resync`, { body: { via: 'notify', macs: [mac], rate: 1, jitter: 0 } });
      setJob(current);
      for (let i = 0; i < POLL_LIMIT && current.status === 'running' && alive.current; i++) {
        await new Promise((r) => setTimeout(r, POLL_MS));
        current = (await request<ReachJob>('GET', `${t}/resync/${current.id}`)).data;
        if (alive.current) setJob(current);
      }
      if (current.status === 'running') setError(`resync job ${current.id} is still running; its result will show under "Latest results" once the phone answers (reload to see it).`);
      loadResults();
    } catch (err) {
      setError(messageOf(err));
    } finally {
      if (alive.current) setBusy(false);
    }
  };

  return (
    <section aria-labelledby="device-resync" id="resync">
      <h2 id="device-resync">Resync</h2>
      {canWrite && (
        <p className="inline actions">
          <button type="button" onClick={() => void resync()} disabled={busy}>
            {busy ? 'Resyncing…' : 'Resync now'}
          </button>
          <span className="muted">Sends a check-sync NOTIFY: the phone re-reads its configuration (it reboots only if a changed parameter needs it).</span>
        </p>
      )}
      <ErrorNote error={error} />
      {job && (
        <p role="status" className={job.status === 'running' ? 'muted' : job.outcomes.ok ? 'ok' : 'warning'} data-testid="resync-status">
          Resync job {job.id}: {job.status === 'running' ? 'waiting for the phone…' : `${job.status} — ${outcomeText(job)}`}
        </p>
      )}
      <h3>Latest results</h3>
      {results && results.length === 0 && <p className="muted">polyprov has not reached this phone yet.</p>}
      {results && results.length > 0 && (
        <table aria-label="Reach results">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Via</th>
              <th scope="col">Outcome</th>
              <th scope="col">Status</th>
              <th scope="col">Target</th>
              <th scope="col">Detail</th>
            </tr>
          </thead>
          <tbody>
            {results.map((r) => (
              <tr key={`${r.via}-${r.at}`} className={`reach-${r.outcome}`}>
                <td>{formatTime(r.at, { seconds: true })}</td>
                <td>{r.via}</td>
                <td>{r.outcome}</td>
                <td>{r.status ?? '—'}</td>
                <td className="mono">{r.target}</td>
                <td>{r.detail}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
