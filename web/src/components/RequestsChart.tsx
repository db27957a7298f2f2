// Provisioning requests per time bucket as stacked bars (answered below, failed on top), drawn as
// plain SVG. The SVG is one labelled image with a summary; the numbers themselves are in a table
// that screen readers read (and anyone can open), so nothing depends on seeing the bars.

import { formatTime, shortTime } from '../format-time.js';
import type { Dashboard } from '../types.js';

const WIDTH = 960;
const HEIGHT = 220;
const PAD = { top: 12, right: 12, bottom: 28, left: 48 };

/** A round axis maximum at or above `n` (1, 2, 5 × 10^k). */
function niceMax(n: number): number {
  if (n <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(n));
  for (const m of [1, 2, 5, 10]) if (m * p >= n) return m * p;
  return 10 * p;
}

export function RequestsChart({ requests }: { requests: Dashboard['requests'] }) {
  const { buckets, bucketMinutes } = requests;
  const total = buckets.reduce((s, b) => s + b.total, 0);
  const failed = buckets.reduce((s, b) => s + b.failed, 0);
  const max = niceMax(Math.max(0, ...buckets.map((b) => b.total)));
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const step = buckets.length ? plotW / buckets.length : plotW;
  const barW = Math.max(1, step * 0.8);
  const y = (v: number) => PAD.top + plotH - (v / max) * plotH;
  // A day's window spans a little over 24 h (whole buckets at both ends): days only beyond that.
  const multiDay = new Date(requests.to).getTime() - new Date(requests.from).getTime() > 25 * 3600_000;
  // About eight tick labels whatever the number of buckets.
  const tickEvery = Math.max(1, Math.ceil(buckets.length / 8));
  const summary = `${total} requests, ${failed} failed, ${formatTime(requests.from)} to ${formatTime(requests.to)}, in ${bucketMinutes}-minute buckets`;

  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={`Provisioning requests: ${summary}`} className="requests-chart">
        {[0, max / 2, max].map((v) => (
          <g key={v} className="grid">
            <line x1={PAD.left} x2={WIDTH - PAD.right} y1={y(v)} y2={y(v)} />
            <text x={PAD.left - 6} y={y(v) + 4} textAnchor="end">
              {v}
            </text>
          </g>
        ))}
        {buckets.map((b, i) => {
          const x = PAD.left + i * step + (step - barW) / 2;
          const ok = b.total - b.failed;
          return (
            <g key={b.at} data-at={b.at}>
              <title>{`${formatTime(b.at)}: ${b.total} requests, ${b.failed} failed`}</title>
              {ok > 0 && <rect className="bar-ok" x={x} width={barW} y={y(ok)} height={y(0) - y(ok)} />}
              {b.failed > 0 && <rect className="bar-failed" x={x} width={barW} y={y(b.total)} height={y(ok) - y(b.total)} />}
              {i % tickEvery === 0 && (
                <text className="tick" x={x + barW / 2} y={HEIGHT - 8} textAnchor="middle">
                  {shortTime(b.at, multiDay)}
                </text>
              )}
            </g>
          );
        })}
      </svg>
      <figcaption>
        <span className="legend legend-ok">answered</span> <span className="legend legend-failed">failed (not found, refused, authentication, error)</span> — {summary}.
      </figcaption>
      <details>
        <summary>Requests as a table</summary>
        <table aria-label="Requests per bucket">
          <thead>
            <tr>
              <th scope="col">From (UTC)</th>
              <th scope="col">Total</th>
              <th scope="col">Failed</th>
              <th scope="col">HTTP</th>
              <th scope="col">HTTPS</th>
              <th scope="col">TFTP</th>
              <th scope="col">FTP</th>
            </tr>
          </thead>
          <tbody>
            {buckets
              .filter((b) => b.total > 0)
              .map((b) => (
                <tr key={b.at}>
                  <th scope="row">{formatTime(b.at)}</th>
                  <td>{b.total}</td>
                  <td>{b.failed}</td>
                  <td>{b.byProtocol.http}</td>
                  <td>{b.byProtocol.https}</td>
                  <td>{b.byProtocol.tftp}</td>
                  <td>{b.byProtocol.ftp}</td>
                </tr>
              ))}
          </tbody>
        </table>
        {total === 0 && <p>No requests in this window.</p>}
      </details>
    </figure>
  );
}
