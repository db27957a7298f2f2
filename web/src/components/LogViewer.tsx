// A device's uploaded logs: pick app or boot, the last N lines, optionally only those matching a
// regular expression. Lines the API flags are marked in words (an "error" label, the flag names)
// and by class, never by colour alone.

import { useEffect, useState, type FormEvent } from 'react';
import { messageOf, request, seg } from '../api.js';
import { formatTime } from '../format-time.js';
import type { LogLine, LogSummary } from '../types.js';
import { ErrorNote } from './ErrorNote.js';

interface Query {
  kind: 'app' | 'boot';
  tail: number;
  grep: string;
  ignoreCase: boolean;
}

function sizeText(bytes: number): string {
  return bytes < 10_240 ? `${bytes} bytes` : `${Math.round(bytes / 1024)} KiB`;
}

function LogLineRow({ line }: { line: LogLine }) {
  const isError = line.flags.includes('error');
  const others = line.flags.filter((f) => f !== 'error');
  return (
    <tr className={isError ? 'log-error' : others.length ? 'log-flagged' : undefined} data-offset={line.offset}>
      <td className="mono nowrap">{line.time ?? ''}</td>
      <td className="mono">{line.module ?? ''}</td>
      <td className="mono">{line.level ?? ''}</td>
      <td>
        {isError && <span className="badge badge-error">error</span>}
        {others.map((f) => (
          <span key={f} className="badge">
            {f}
          </span>
        ))}
      </td>
      <td className="mono log-text">{line.text}</td>
    </tr>
  );
}

export function LogViewer({ tenant, mac, initialKind }: { tenant: string; mac: string; initialKind?: string | null }) {
  const base = `/api/v1/tenants/${seg(tenant)}/devices/${seg(mac)}/logs`;
  const [logs, setLogs] = useState<LogSummary[] | null>(null);
  const [draft, setDraft] = useState<Query>({ kind: initialKind === 'boot' ? 'boot' : 'app', tail: 200, grep: '', ignoreCase: true });
  const [shown, setShown] = useState<Query | null>(null);
  const [lines, setLines] = useState<LogLine[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    request<{ items: LogSummary[] }>('GET', base)
      .then(({ data }) => {
        setLogs(data.items);
        const kinds = data.items.map((l) => l.kind);
        // Open the asked-for log if the phone uploaded it, else whichever it did.
        const kind = kinds.includes(draft.kind) ? draft.kind : kinds[0];
        if (kind) {
          const q = { ...draft, kind };
          setDraft(q);
          setShown(q);
        }
      })
      .catch((err: unknown) => setError(messageOf(err)));
    // Only on opening the page (draft is the initial choice here): later reads come from the form.
  }, [base]);

  useEffect(() => {
    if (!shown) return;
    const params = new URLSearchParams({ tail: String(shown.tail) });
    if (shown.grep) {
      params.set('grep', shown.grep);
      params.set('ignoreCase', String(shown.ignoreCase));
    }
    setError(null);
    request<{ log: LogSummary; lines: LogLine[] }>('GET', `${base}/${shown.kind}?${params}`)
      .then(({ data }) => setLines(data.lines))
      .catch((err: unknown) => {
        setLines(null);
        setError(messageOf(err));
      });
  }, [base, shown]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setShown({ ...draft, grep: draft.grep.trim() });
  };

  const summary = logs?.find((l) => l.kind === shown?.kind);
  const errors = lines?.filter((l) => l.flags.includes('error')).length ?? 0;
  return (
    <section aria-labelledby="device-logs" id="logs">
      <h2 id="device-logs">Logs</h2>
      {logs && logs.length === 0 && <p>The phone has uploaded no logs yet.</p>}
      {logs && logs.length > 0 && (
        <form className="inline" aria-label="Show log lines" onSubmit={submit}>
          <label>
            Log
            <select name="log-kind" value={draft.kind} onChange={(e) => setDraft({ ...draft, kind: e.target.value as Query['kind'] })}>
              {logs.map((l) => (
                <option key={l.kind} value={l.kind}>
                  {l.kind} ({sizeText(l.size)})
                </option>
              ))}
            </select>
          </label>
          <label>
            Last lines
            <input name="log-tail" type="number" min={1} max={10000} value={draft.tail} onChange={(e) => setDraft({ ...draft, tail: Math.max(1, Number(e.target.value) || 1) })} />
          </label>
          <label>
            Search (regular expression)
            <input name="log-grep" type="search" className="mono" value={draft.grep} onChange={(e) => setDraft({ ...draft, grep: e.target.value })} placeholder="fail|error" />
          </label>
          <label className="check">
            <input type="checkbox" name="log-ignore-case" checked={draft.ignoreCase} onChange={(e) => setDraft({ ...draft, ignoreCase: e.target.checked })} />
            Ignore case
          </label>
          <button type="submit">Show lines</button>
        </form>
      )}
      <ErrorNote error={error} />
      {summary && (
        <p className="muted">
          {summary.path}: {sizeText(summary.size)} uploaded, last at {formatTime(summary.updatedAt, { seconds: true })}
          {summary.segments.length > 0 && `, ${summary.segments.length} rotated segment${summary.segments.length === 1 ? '' : 's'}`}.
        </p>
      )}
      {lines && shown && (
        <>
          <p aria-live="polite" className="log-count">
            {lines.length} line{lines.length === 1 ? '' : 's'}
            {shown.grep ? ` matching /${shown.grep}/${shown.ignoreCase ? 'i' : ''}` : ''}, {errors} error{errors === 1 ? '' : 's'}.
          </p>
          {lines.length > 0 && (
            <div className="log-scroll">
              <table aria-label={`${shown.kind} log lines`} className="log">
                <thead>
                  <tr>
                    <th scope="col">Time</th>
                    <th scope="col">Module</th>
                    <th scope="col">Level</th>
                    <th scope="col">Flags</th>
                    <th scope="col">Text</th>
                  </tr>
                </thead>
                <tbody>
                  {lines.map((l) => (
                    <LogLineRow key={`${l.segment ?? 'c'}-${l.offset}`} line={l} />
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </>
      )}
    </section>
  );
}
