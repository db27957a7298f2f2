// Changes what a site is (display name, description, location, TFTP subnets) with the ETag of the
// copy the form started from; a 412 says someone else changed it and offers the current values.

import { useState, type FormEvent } from 'react';
import { request, seg } from '../api.js';
import type { Site } from '../types.js';
import { ProblemNote, problemOf, type Problem } from './ProblemNote.js';

/** Subnets as typed: one per line or separated by commas or spaces. */
function subnetList(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

export function SiteEditForm({ tenant, site, etag, onSaved, onReload, onCancel }: { tenant: string; site: Site; etag: string | null; onSaved: (site: Site, etag: string | null) => void; onReload: () => void; onCancel: () => void }) {
  const [name, setName] = useState(site.name);
  const [description, setDescription] = useState(site.description);
  const [location, setLocation] = useState(site.location);
  const [subnets, setSubnets] = useState(site.tftpSubnets.join('\n'));
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);

  const save = async (e: FormEvent) => {
    e.preventDefault();
    setProblem(null);
    setBusy(true);
    try {
      const body = { name: name.trim(), description, location, tftpSubnets: subnetList(subnets) };
      const { data, etag: next } = await request<Site>('PATCH', `/api/v1/tenants/${seg(tenant)}/sites/${seg(site.slug)}`, { body, ifMatch: etag });
      onSaved(data, next);
    } catch (err) {
      setProblem(problemOf(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="stacked" onSubmit={(e) => void save(e)} aria-label="Edit site">
      <h2>Edit site</h2>
      <ProblemNote problem={problem} onReload={onReload} />
      <label>
        Display name
        <input name="site-name" required maxLength={200} value={name} onChange={(e) => setName(e.target.value)} />
      </label>
      <label>
        Description
        <textarea name="site-description" rows={2} maxLength={2000} value={description} onChange={(e) => setDescription(e.target.value)} />
      </label>
      <label>
        Location
        <input name="site-location" maxLength={500} value={location} onChange={(e) => setLocation(e.target.value)} />
      </label>
      <label>
        TFTP subnets
        <textarea name="site-subnets" className="mono" rows={3} value={subnets} onChange={(e) => setSubnets(e.target.value)} aria-describedby="site-subnets-hint" />
      </label>
      <p id="site-subnets-hint" className="hint">
        CIDR subnets, one per line (e.g. 10.1.0.0/16). Leave empty to lift the restriction.
      </p>
      <div className="buttons">
        <button type="submit" disabled={busy}>
          Save site
        </button>
        <button type="button" className="secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
