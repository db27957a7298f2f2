// Deleting the record a page shows: a confirmation in the page, DELETE with the ETag it was read
// with, and on a 412 the API's reason with a way to reload what is there now.

import { ConfirmButton } from './ConfirmButton.js';
import { ProblemNote } from './ProblemNote.js';
import { useDeleteWithEtag } from './useDeleteWithEtag.js';

interface Props {
  apiPath: string;
  etag: string | null;
  label: string;
  question: string;
  confirmLabel: string;
  /** Hides the button (read-only users); a problem already shown stays. */
  canWrite: boolean;
  onDeleted(): void;
  onReload(): void;
}

export function DeleteRecord({ apiPath, etag, label, question, confirmLabel, canWrite, onDeleted, onReload }: Props) {
  const remove = useDeleteWithEtag(apiPath, etag, onDeleted);
  return (
    <>
      {canWrite && <ConfirmButton label={label} question={question} confirmLabel={confirmLabel} onConfirm={remove.run} />}
      <ProblemNote
        problem={remove.problem}
        onReload={() => {
          remove.clear();
          onReload();
        }}
      />
    </>
  );
}
