// A secret the server answers once (a generated password, an API token): shown in a read-only field
// with a copy button and a plain warning, because nothing can show it again later.

import { useId, useState } from 'react';

export function OneTimeSecret({ label, value, onDone }: { label: string; value: string; onDone: () => void }) {
  const [copied, setCopied] = useState<string | null>(null);
  const id = useId();
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setCopied('Copied to the clipboard.');
    } catch {
      setCopied('The browser refused the clipboard: select the text and copy it by hand.');
    }
  };
  return (
    <section className="secret" aria-labelledby={id}>
      <h2 id={id}>{label}</h2>
      <p className="warning">
        <strong>Copy it now:</strong> it is not stored in readable form and will not be shown again.
      </p>
      <div className="secret-row">
        <input aria-label={label} className="mono" readOnly value={value} onFocus={(e) => e.target.select()} size={Math.min(64, Math.max(24, value.length + 6))} />
        <button type="button" onClick={() => void copy()}>
          Copy
        </button>
        <button type="button" className="secondary" onClick={onDone}>
          I have copied it
        </button>
      </div>
      <p aria-live="polite" className="muted">
        {copied}
      </p>
    </section>
  );
}
