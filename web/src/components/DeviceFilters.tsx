// The devices list's filters as a search form. The URL query is the truth (so a filtered list
// survives a reload and can be bookmarked); this form edits a copy and hands it back on submit.
// Lists (site, status, registration) apply as soon as one is chosen; typed fields apply on Search.

import { useEffect, useState, type FormEvent } from 'react';
import type { Site } from '../types.js';

/** Every filter the devices list understands, as its query parameter names. */
export const DEVICE_FILTER_KEYS = ['mac', 'site', 'model', 'firmware', 'registered', 'status', 'seenAfter', 'seenBefore'] as const;
export type DeviceFilterValues = Record<(typeof DEVICE_FILTER_KEYS)[number], string>;

export function filtersFrom(query: URLSearchParams): DeviceFilterValues {
  return Object.fromEntries(DEVICE_FILTER_KEYS.map((k) => [k, query.get(k) ?? ''])) as DeviceFilterValues;
}

// The form shows and takes UTC, like the API: `2026-11-22T02:48` ↔ `2026-11-22T02:48:00.000Z`.
function toInput(iso: string): string {
  const d = new Date(iso);
  return iso && !Number.isNaN(d.getTime()) ? d.toISOString().slice(0, 16) : '';
}
function fromInput(local: string): string {
  return local ? new Date(`${local}:00Z`).toISOString() : '';
}

interface Props {
  values: DeviceFilterValues;
  sites: Site[];
  /** Known models and firmware versions, offered as suggestions. */
  models: string[];
  firmware: string[];
  onApply(values: DeviceFilterValues): void;
}

export function DeviceFilters({ values, sites, models, firmware, onApply }: Props) {
  const [draft, setDraft] = useState(values);
  // Back/Forward and links change the URL: the form follows (only then, not on every render).
  const shown = JSON.stringify(values);
  useEffect(() => setDraft(JSON.parse(shown) as DeviceFilterValues), [shown]);
  const set = (k: keyof DeviceFilterValues, v: string) => setDraft((d) => ({ ...d, [k]: v }));
  const applyNow = (k: keyof DeviceFilterValues, v: string) => onApply({ ...draft, [k]: v });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onApply({ ...draft, mac: draft.mac.trim(), model: draft.model.trim(), firmware: draft.firmware.trim() });
  };
  const clear = () => onApply(Object.fromEntries(DEVICE_FILTER_KEYS.map((k) => [k, ''])) as DeviceFilterValues);
  const any = DEVICE_FILTER_KEYS.some((k) => values[k] !== '');

  return (
    <form className="inline filters" role="search" aria-label="Filter devices" onSubmit={submit}>
      <label>
        MAC prefix
        <input name="mac-search" type="search" className="mono" size={14} value={draft.mac} onChange={(e) => set('mac', e.target.value)} placeholder="0004f2" />
      </label>
      <label>
        Site
        <select name="site-filter" value={draft.site} onChange={(e) => applyNow('site', e.target.value)}>
          <option value="">any</option>
          <option value="-">none</option>
          {sites.map((s) => (
            <option key={s.slug} value={s.slug}>
              {s.slug}
            </option>
          ))}
        </select>
      </label>
      <label>
        Model
        <input name="model-filter" list="known-models" size={12} value={draft.model} onChange={(e) => set('model', e.target.value)} placeholder="VVX_450" />
      </label>
      <datalist id="known-models">
        {models.map((m) => (
          <option key={m} value={m} />
        ))}
      </datalist>
      <label>
        Firmware
        <input name="firmware-filter" list="known-firmware" size={12} className="mono" value={draft.firmware} onChange={(e) => set('firmware', e.target.value)} />
      </label>
      <datalist id="known-firmware">
        {firmware.map((f) => (
          <option key={f} value={f} />
        ))}
      </datalist>
      <label>
        Status
        <select name="status-filter" value={draft.status} onChange={(e) => applyNow('status', e.target.value)}>
          <option value="">any</option>
          <option value="online">online (last 24 h)</option>
          <option value="offline">offline (earlier)</option>
          <option value="never">never seen</option>
        </select>
      </label>
      <label>
        Registered
        <select name="registered-filter" value={draft.registered} onChange={(e) => applyNow('registered', e.target.value)}>
          <option value="">any</option>
          <option value="true">registered</option>
          <option value="false">seen only</option>
        </select>
      </label>
      <label>
        Seen after (UTC)
        <input name="seen-after" type="datetime-local" value={toInput(draft.seenAfter)} onChange={(e) => set('seenAfter', fromInput(e.target.value))} />
      </label>
      <label>
        Seen before (UTC)
        <input name="seen-before" type="datetime-local" value={toInput(draft.seenBefore)} onChange={(e) => set('seenBefore', fromInput(e.target.value))} />
      </label>
      <button type="submit">Search</button>
      {any && (
        <button type="button" className="secondary" onClick={clear}>
          Clear filters
        </button>
      )}
    </form>
  );
}
