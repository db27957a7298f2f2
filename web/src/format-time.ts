// One way to show the API's ISO times: in UTC, to the minute or second, so that what the console
// shows matches the phones' logs, the CLI and the filters (which take UTC) whatever the browser's zone.

/** `2026-11-22 02:48 UTC` (seconds when asked); the input as is when it is not a date. */
export function formatTime(iso: string | null, opts: { seconds?: boolean } = {}): string {
  if (iso === null) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.toISOString().slice(0, opts.seconds ? 19 : 16).replace('T', ' ')} UTC`;
}

/** `02:48` for chart ticks within a day, `11-22 02:48` across days. */
export function shortTime(iso: string, withDay: boolean): string {
  const s = new Date(iso).toISOString();
  return withDay ? `${s.slice(5, 10)} ${s.slice(11, 16)}` : s.slice(11, 16);
}
