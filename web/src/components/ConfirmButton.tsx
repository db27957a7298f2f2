// A button for an action that cannot be taken back: the first press asks, in the page (not a
// browser dialog), and only the confirm button acts. Focus moves to Cancel, so a stray Enter takes
// nothing away, and back to the opening button when the question closes.

import { useEffect, useRef, useState } from 'react';

interface Props {
  label: string;
  question: string;
  confirmLabel: string;
  disabled?: boolean;
  onConfirm(): void;
}

export function ConfirmButton({ label, question, confirmLabel, disabled, onConfirm }: Props) {
  const [asking, setAsking] = useState(false);
  const cancel = useRef<HTMLButtonElement>(null);
  const opener = useRef<HTMLButtonElement>(null);
  const asked = useRef(false);
  useEffect(() => {
    if (asking) cancel.current?.focus();
    else if (asked.current) opener.current?.focus();
    asked.current = asking;
  }, [asking]);

  if (!asking) {
    return (
      <button type="button" ref={opener} className="danger" disabled={disabled} onClick={() => setAsking(true)}>
        {label}
      </button>
    );
  }
  return (
    <div role="group" aria-label={`Confirm: ${label}`} className="confirm">
      <p>{question}</p>
      <button
        type="button"
        className="danger"
        onClick={() => {
          setAsking(false);
          onConfirm();
        }}
      >
        {confirmLabel}
      </button>
      <button type="button" ref={cancel} className="secondary" onClick={() => setAsking(false)}>
        Cancel
      </button>
    </div>
  );
}
