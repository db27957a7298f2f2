// Renames a group (its slug, which device assignments and the group's parameters follow) and/or its
// display name, with the ETag of the copy the form started from.

import { useState, type FormEvent } from 'react';
import { request, seg } from '../api.js';
import type { Group } from '../types.js';
import { ProblemNote, problemOf, type Problem } from './ProblemNote.js';

export function GroupRenameForm({ tenant, group, etag, onSaved, onReload }: { tenant: string; group: Group; etag: string | null; onSaved: (group: Group, etag: string | null) => void; onReload: () => void }) {
  const [slug, setSlug] = useState(group.slug);
  const [name, setName] = useState(group.name);
  const [problem, setProblem] = useState<Problem | null>(null);

  const save = async (e: FormEvent) => {
    e.preventDefault();
    setProblem(null);
    const body: { slug?: string; name?: string } = {};
    if (slug.trim() !== group.slug) body.slug = slug.trim();
    if (name.trim() !== group.name) body.name = name.trim();
    if (Object.keys(body).length === 0) {
      setProblem({ message: 'Nothing to save: change the slug or the display name first.', stale: false });
      return;
    }
    try {
      const { data, etag: next } = await request<Group>('PATCH', `/api/v1/tenants/${seg(tenant)}/groups/${seg(group.slug)}`, { body, ifMatch: etag });
      onSaved(data, next);
    } catch (err) {
      setProblem(problemOf(err));
    }
  };

  return (
    <form className="inline" onSubmit={(e) => void save(e)} aria-label="Rename group">
      <h2>Rename</h2>
      <label>
        Slug
        <input name="group-slug" required pattern="[a-z0-9][a-z0-9\-]*" title="lower-case letters, digits and -" value={slug} onChange={(e) => setSlug(e.target.value)} />
      </label>
      <label>
        Display name
        <input name="group-name" required maxLength={200} value={name} onChange={(e) => setName(e.target.value)} />
      </label>
      <button type="submit">Save group</button>
      <div className="full">
        <ProblemNote problem={problem} onReload={onReload} />
      </div>
    </form>
  );
}
