// What an administrator can do to a rollout: pause a running one, resume a paused one, roll it back
// (every released phone returns to the old version) or forget it. Each sends the ETag the page
// read; a 412 means the server's minute tick (or someone) moved it meanwhile, and offers a reload.

import { useState } from 'react';
import { request, seg } from '../api.js';
import type { Rollout } from '../types.js';
import { ConfirmButton } from './ConfirmButton.js';
import { DeleteRecord } from './DeleteRecord.js';
import { problemOf, ProblemNote, type Problem } from './ProblemNote.js';

interface Props {
  tenant: string;
  rollout: Rollout;
  etag: string | null;
  onChanged(): void;
  onRemoved(): void;
}

export function RolloutActions({ tenant, rollout, etag, onChanged, onRemoved }: Props) {
  const path = `/api/v1/tenants/${seg(tenant)}/rollouts/${seg(rollout.name)}`;
  const [problem, setProblem] = useState<Problem | null>(null);
  const [done, setDone] = useState<string | null>(null);

  const act = async (verb: 'pause' | 'resume' | 'rollback', text: string) => {
    setProblem(null);
    setDone(null);
    try {
      await request<Rollout>('POST', `${path}/${verb}`, { ifMatch: etag });
      setDone(text);
      onChanged();
    } catch (err) {
      setProblem(problemOf(err));
    }
  };

  const finished = rollout.status === 'completed' || rollout.status === 'rolled-back';
  return (
    <div className="rollout-actions">
      <div className="buttons">
        {rollout.status === 'running' && (
          <button type="button" onClick={() => void act('pause', 'Rollout paused: no further wave is released until it is resumed.')}>
            Pause
          </button>
        )}
        {rollout.status === 'paused' && (
          <button type="button" onClick={() => void act('resume', 'Rollout resumed; it pauses again if its current wave is still unhealthy.')}>
            Resume
          </button>
        )}
        {rollout.status !== 'rolled-back' && (
          <ConfirmButton
            label="Roll back"
            question={`Roll back ${rollout.name}? Every released phone is sent back to ${rollout.from}.`}
            confirmLabel="Yes, roll back"
            onConfirm={() => void act('rollback', `Rolled back: released phones are sent back to ${rollout.from}.`)}
          />
        )}
        <DeleteRecord
          apiPath={path}
          etag={etag}
          canWrite
          label="Remove rollout"
          question={
            finished
              ? `Forget rollout ${rollout.name}? Its phones follow the policy target again.`
              : `Remove rollout ${rollout.name} while it is ${rollout.status}? Its released phones follow the policy target again.`
          }
          confirmLabel="Yes, remove the rollout"
          onDeleted={onRemoved}
          onReload={onChanged}
        />
      </div>
      {done && (
        <p className="ok" role="status">
          {done}
        </p>
      )}
      <ProblemNote
        problem={problem}
        onReload={() => {
          setProblem(null);
          onChanged();
        }}
      />
    </div>
  );
}
