// The "new site" / "new group" form: a slug (the name in URLs and the CLI) and a display name. It
// POSTs to the list's path and goes to the new record's page.

import { useState, type FormEvent } from 'react';
import { messageOf, request, seg } from '../api.js';
import { navigate } from '../router.js';

interface Props {
  /** "site" or "group": the form's title, its button and its accessible name say it. */
  kind: string;
  /** The API list path records are POSTed to. */
  apiPath: string;
  /** The console path of the list; the new record's page is below it. */
  pagePath: string;
  onError(message: string | null): void;
}

export function NewSlugForm({ kind, apiPath, pagePath, onError }: Props) {
  const [slug, setSlug] = useState('');
  const [name, setName] = useState('');

  const create = async (e: FormEvent) => {
    e.preventDefault();
    onError(null);
    try {
      const { data } = await request<{ slug: string }>('POST', apiPath, { body: { slug: slug.trim(), ...(name.trim() ? { name: name.trim() } : {}) } });
      navigate(`${pagePath}/${seg(data.slug)}`);
    } catch (err) {
      onError(messageOf(err));
    }
  };

  return (
    <form className="inline" onSubmit={(e) => void create(e)} aria-label={`New ${kind}`}>
      <h2>New {kind}</h2>
      <label>
        Slug
        <input name="slug" required pattern="[a-z0-9][a-z0-9\-]*" title="lower-case letters, digits and -" value={slug} onChange={(e) => setSlug(e.target.value)} />
      </label>
      <label>
        Name
        <input name="name" value={name} onChange={(e) => setName(e.target.value)} />
      </label>
      <button type="submit">Create {kind}</button>
    </form>
  );
}
