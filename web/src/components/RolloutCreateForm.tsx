// A new staged rollout: which phones (the whole tenant, or a site, group and/or model), from which
// release to which, in which waves and at what pace. The defaults are those of
// `polyprov rollout create` (waves 1, 10, 100 %, an hour's soak, two hours to report).

import { useEffect, useState, type FormEvent } from 'react';
import { messageOf, request, seg } from '../api.js';
import type { Group, Page, Rollout, Site } from '../types.js';
import { problemOf, ProblemNote, type Problem } from './ProblemNote.js';

interface Props {
  tenant: string;
  /** Targetable versions, newest first. */
  versions: string[];
  onCreated(rollout: Rollout, warnings: string[]): void;
}

export function RolloutCreateForm({ tenant, versions, onCreated }: Props) {
  const [name, setName] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [site, setSite] = useState('');
  const [group, setGroup] = useState('');
  const [model, setModel] = useState('');
  const [waves, setWaves] = useState('1, 10, 100');
  const [intervalMin, setIntervalMin] = useState('60');
  const [deadlineMin, setDeadlineMin] = useState('120');
  const [maxFailures, setMaxFailures] = useState('0');
  const [maintenanceWindow, setMaintenanceWindow] = useState('');
  const [sites, setSites] = useState<Site[]>([]);
  const [groups, setGroups] = useState<Group[]>([]);
  const [problem, setProblem] = useState<Problem | null>(null);

  useEffect(() => {
    request<Page<Site>>('GET', `/api/v1/tenants/${seg(tenant)}/sites?limit=500`)
      .then(({ data }) => setSites(data.items))
      .catch((err: unknown) => setProblem({ message: messageOf(err), stale: false }));
    request<Page<Group>>('GET', `/api/v1/tenants/${seg(tenant)}/groups?limit=500`)
      .then(({ data }) => setGroups(data.items))
      .catch((err: unknown) => setProblem({ message: messageOf(err), stale: false }));
  }, [tenant]);

  // A rollout goes up: by default from the second newest release to the newest.
  const versionsKey = versions.join(' ');
  useEffect(() => {
    const vs = versionsKey ? versionsKey.split(' ') : [];
    setTo((v) => (vs.includes(v) ? v : (vs[0] ?? '')));
    setFrom((v) => (vs.includes(v) ? v : (vs[1] ?? vs[0] ?? '')));
  }, [versionsKey]);

  const create = async (e: FormEvent) => {
    e.preventDefault();
    setProblem(null);
    const waveList = waves.split(/[\s,]+/).filter(Boolean).map(Number);
    if (waveList.some((w) => !Number.isFinite(w))) {
      setProblem({ message: `Waves must be percentages separated by commas, e.g. 1, 10, 100 (got "${waves}").`, stale: false });
      return;
    }
    const body = {
      name: name.trim(),
      from,
      to,
      selector: { ...(site ? { site } : {}), ...(group ? { group } : {}), ...(model.trim() ? { model: model.trim() } : {}) },
      waves: waveList,
      waveIntervalMs: Math.round(Number(intervalMin) * 60_000),
      deadlineMs: Math.round(Number(deadlineMin) * 60_000),
      maxFailurePercent: Number(maxFailures),
      ...(maintenanceWindow.trim() ? { window: maintenanceWindow.trim() } : {}),
    };
    try {
      const { data } = await request<Rollout & { warnings: string[] }>('POST', `/api/v1/tenants/${seg(tenant)}/rollouts`, { body });
      const { warnings, ...rollout } = data;
      setName('');
      onCreated(rollout, warnings);
    } catch (err) {
      setProblem(problemOf(err));
    }
  };

  const versionOptions = versions.map((v) => (
    <option key={v} value={v}>
      {v}
    </option>
  ));
  return (
    <form className="inline rollout-form" onSubmit={(e) => void create(e)} aria-label="New rollout">
      <h2>New rollout</h2>
      <label>
        Rollout name
        <input name="rollout-name" required pattern="[a-z0-9][a-z0-9\-]*" title="lower-case letters, digits and -" value={name} onChange={(e) => setName(e.target.value)} />
      </label>
      <label>
        From version
        <select name="rollout-from" value={from} onChange={(e) => setFrom(e.target.value)} required>
          {versionOptions}
        </select>
      </label>
      <label>
        To version
        <select name="rollout-to" value={to} onChange={(e) => setTo(e.target.value)} required>
          {versionOptions}
        </select>
      </label>
      <label>
        Site
        <select name="rollout-site" value={site} onChange={(e) => setSite(e.target.value)}>
          <option value="">any</option>
          {sites.map((s) => (
            <option key={s.slug} value={s.slug}>
              {s.slug}
            </option>
          ))}
        </select>
      </label>
      <label>
        Group
        <select name="rollout-group" value={group} onChange={(e) => setGroup(e.target.value)}>
          <option value="">any</option>
          {groups.map((g) => (
            <option key={g.slug} value={g.slug}>
              {g.slug}
            </option>
          ))}
        </select>
      </label>
      <label>
        Model
        <input name="rollout-model" value={model} onChange={(e) => setModel(e.target.value)} placeholder="any, e.g. VVX_450" size={12} />
      </label>
      <label>
        Waves (%)
        <input name="rollout-waves" value={waves} onChange={(e) => setWaves(e.target.value)} size={12} />
      </label>
      <label>
        Soak per wave (minutes)
        <input name="rollout-interval" type="number" min="0" value={intervalMin} onChange={(e) => setIntervalMin(e.target.value)} size={6} />
      </label>
      <label>
        Deadline to report (minutes)
        <input name="rollout-deadline" type="number" min="0" value={deadlineMin} onChange={(e) => setDeadlineMin(e.target.value)} size={6} />
      </label>
      <label>
        Failures allowed (%)
        <input name="rollout-max-failures" type="number" min="0" max="100" step="any" value={maxFailures} onChange={(e) => setMaxFailures(e.target.value)} size={5} />
      </label>
      <label>
        Window (UTC, optional)
        <input name="rollout-window" value={maintenanceWindow} onChange={(e) => setMaintenanceWindow(e.target.value)} placeholder="22:00-05:00" size={11} />
      </label>
      <button type="submit" disabled={versions.length < 2}>
        Create rollout
      </button>
      <p className="hint full">
        The first wave is released at once; each later one after the previous wave soaked and its phones reported the new version. Registered devices only.
        {versions.length < 2 && ' A rollout needs two releases: the one the phones run and the new one.'}
      </p>
      <div className="full">
        <ProblemNote problem={problem} />
      </div>
    </form>
  );
}
