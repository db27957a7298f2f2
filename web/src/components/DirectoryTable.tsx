// The contact directory the phone is served, and where it comes from: its own upload (the phone
// PUTs its list when its user edits contacts; an administrator's import is a newer version), a file
// of the tenant's tree at the same path, or nothing, in which case it reads the site directory.

import { useEffect, useState } from 'react';
import { ApiError, messageOf, request, seg } from '../api.js';
import { formatTime } from '../format-time.js';
import type { DirectoryView } from '../types.js';
import { ErrorNote } from './ErrorNote.js';

function sourceText(v: DirectoryView): string {
  const s = v.source;
  const at = s.storedAt ? `, stored ${formatTime(s.storedAt)}` : '';
  switch (s.kind) {
    case 'device-upload':
      return `Its own ${s.path} (version ${s.version ?? '?'} of ${s.versions ?? '?'}, uploaded by the phone or imported by an administrator${at}).`;
    case 'device-file':
      return `A file of the tenant's tree at ${s.path}${at}.`;
    case 'site-file':
      return `The site directory ${s.path}${at}.`;
    case 'none':
      return `Nothing at ${s.path}: the phone reads the site directory instead.`;
  }
}

export function DirectoryTable({ tenant, mac }: { tenant: string; mac: string }) {
  const [view, setView] = useState<DirectoryView | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    request<DirectoryView>('GET', `/api/v1/tenants/${seg(tenant)}/devices/${seg(mac)}/directory`)
      .then(({ data }) => setView(data))
      .catch((err: unknown) => setError(err instanceof ApiError && err.status === 404 && /no route/.test(err.detail) ? 'This server cannot show directories yet (no directory route).' : messageOf(err)));
  }, [tenant, mac]);

  return (
    <section aria-labelledby="device-directory" id="directory">
      <h2 id="device-directory">Directory</h2>
      <ErrorNote error={error} />
      {view && (
        <>
          <p data-testid="directory-source">{sourceText(view)}</p>
          {view.problems.length > 0 && (
            <ul className="warning">
              {view.problems.map((p) => (
                <li key={p}>{p}</li>
              ))}
            </ul>
          )}
          {view.contacts.length === 0 && view.source.kind !== 'none' && view.readable && <p>No contacts.</p>}
          {view.contacts.length > 0 && (
            <table aria-label="Contacts">
              <thead>
                <tr>
                  <th scope="col">Last name</th>
                  <th scope="col">First name</th>
                  <th scope="col">Number</th>
                  <th scope="col">Speed dial</th>
                  <th scope="col">Label</th>
                </tr>
              </thead>
              <tbody>
                {view.contacts.map((c) => (
                  <tr key={c.contact}>
                    <td>{c.lastName}</td>
                    <td>{c.firstName}</td>
                    <td className="mono">{c.contact}</td>
                    <td>{c.speedDial ?? '—'}</td>
                    <td>{c.label ?? ''}</td>
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
