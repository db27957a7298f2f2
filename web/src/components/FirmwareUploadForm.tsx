// Importing a release zip as Poly publishes it into the tenant's library. The version comes from
// the zip's sip.ver or its name; the field is for zips that carry neither.

import { useId, useRef, useState, type FormEvent } from 'react';
import { seg } from '../api.js';
import type { FirmwareRelease } from '../types.js';
import { problemOf, ProblemNote, type Problem } from './ProblemNote.js';
import { uploadZip } from './uploadZip.js';

const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;

export function FirmwareUploadForm({ tenant, onUploaded }: { tenant: string; onUploaded(release: FirmwareRelease): void }) {
  const fileInput = useRef<HTMLInputElement>(null);
  const [version, setVersion] = useState('');
  const [progress, setProgress] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);
  const hintId = useId();

  const upload = async (e: FormEvent) => {
    e.preventDefault();
    const file = fileInput.current?.files?.[0];
    if (!file) {
      setProblem({ message: 'Choose the release zip first.', stale: false });
      return;
    }
    setProblem(null);
    setBusy(true);
    setProgress(`Sending ${file.name}…`);
    // The API takes the zip's own name (it may carry the version) when it is a plain file name.
    const safeName = /^[A-Za-z0-9][A-Za-z0-9._-]{0,195}\.zip$/.test(file.name) ? file.name : 'release.zip';
    const query = new URLSearchParams({ filename: safeName, ...(version.trim() ? { version: version.trim() } : {}) });
    try {
      const release = await uploadZip<FirmwareRelease>(`/api/v1/tenants/${seg(tenant)}/firmware?${query}`, file, (sent, total) =>
        setProgress(total > 0 && sent < total ? `Sent ${mib(sent)} of ${mib(total)} (${Math.floor((sent / total) * 100)} %)…` : 'Sent; the server is reading the zip…'),
      );
      setProgress(`Imported firmware ${release.version} (${release.images.length} image${release.images.length === 1 ? '' : 's'}).`);
      setVersion('');
      if (fileInput.current) fileInput.current.value = '';
      onUploaded(release);
    } catch (err) {
      setProgress(null);
      setProblem(problemOf(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="inline" onSubmit={(e) => void upload(e)} aria-label="Upload a release">
      <h2>Upload a release</h2>
      <label>
        Release zip
        <input ref={fileInput} type="file" name="release-zip" accept=".zip,application/zip" aria-describedby={hintId} />
      </label>
      <label>
        Version (optional)
        <input name="release-version" value={version} onChange={(e) => setVersion(e.target.value)} placeholder="6.4.6.1234" size={14} />
      </label>
      <button type="submit" disabled={busy}>
        Upload
      </button>
      <p className="hint full" id={hintId}>
        A zip as Poly publishes it (split or combined); the version is read from its sip.ver or its name.
      </p>
      <p className="full upload-progress" role="status">
        {progress}
      </p>
      <div className="full">
        <ProblemNote problem={problem} />
      </div>
    </form>
  );
}
