import { stringify } from 'csv-stringify/sync';
import type { ImportKind } from './csv-import.js';
import { isServerOnlyParameter } from './firmware-policy.js';
import { lensModelName } from './lens-models.js';
import { formatLensSubnets, type SiteSubnet } from './site-subnets.js';

// The export side of csv-import.ts: the same columns, so that an exported file imports back to
// the same state. Parameter columns are every phone parameter any record of the kind sets, sorted;
// polyprov's own settings (polyprov.*) are left out, as the import refuses them (they have their
// own commands, which check their values).

export interface SiteRecord {
  name: string;
  description: string;
  location: string;
  subnets: SiteSubnet[];
  /** polyprov models the site's parameters are meant for (Lens device_models), if recorded. */
  models?: string[];
  parameters: Record<string, string>;
}

export interface DeviceRecord {
  mac: string;
  model: string | null;
  /** How the import should name the device's site: its name (or its slug when names are shared). */
  site: string | null;
  group: string | null;
  label: string;
  parameters: Record<string, string>;
}

export interface GroupRecord {
  slug: string;
  name: string;
  parameters: Record<string, string>;
}

export interface ModelRecord {
  model: string;
  parameters: Record<string, string>;
}

export interface CsvExport {
  csv: string;
  /** What the file cannot carry (parameters set to an empty value), one line each. */
  warnings: string[];
}

// Code-unit order, not the locale's: the same records give the same bytes on any machine.
const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function parameterColumns(records: readonly { parameters: Record<string, string> }[]): string[] {
  const names = new Set<string>();
  for (const r of records) for (const name of Object.keys(r.parameters)) if (!isServerOnlyParameter(name)) names.add(name);
  return [...names].sort(byText);
}

function emptyValueWarnings(kind: ImportKind, records: readonly { key: string; parameters: Record<string, string> }[]): string[] {
  const out: string[] = [];
  for (const r of records) {
    for (const [name, value] of Object.entries(r.parameters)) {
      if (value === '' && !isServerOnlyParameter(name)) out.push(`${kind} ${r.key}: ${name} is set to an empty value, which the file writes as an empty cell and an import leaves alone`);
    }
  }
  return out;
}

// The import's columns, less serial_number: Lens asks for it, but polyprov learns a serial from the
// phone and an import ignores it, so exporting it would not round-trip.
const EXPORT_COLUMNS: Readonly<Record<ImportKind, readonly string[]>> = {
  sites: ['site_name', 'description', 'location_name', 'subnets', 'device_models'],
  devices: ['mac_address', 'device_model', 'site_name', 'group', 'label'],
  groups: ['group', 'name'],
  models: ['model'],
};

function toCsv(kind: ImportKind, records: { key: string; fields: string[]; parameters: Record<string, string> }[]): CsvExport {
  const params = parameterColumns(records);
  const rows = records.map((r) => [...r.fields, ...params.map((p) => r.parameters[p] ?? '')]);
  // The import trims unquoted cells, so values that start or end with white space are quoted.
  const csv = stringify([[...EXPORT_COLUMNS[kind], ...params], ...rows], { quoted_match: [/^\s/, /\s$/] });
  return { csv, warnings: emptyValueWarnings(kind, records) };
}

/** Sites as site_name, description, location_name, subnets (Lens JSON), device_models (Lens names), parameters; by name. */
export function sitesToCsv(sites: readonly SiteRecord[]): CsvExport {
  const sorted = [...sites].sort((a, b) => byText(a.name, b.name));
  return toCsv(
    'sites',
    sorted.map((s) => ({
      key: s.name,
      fields: [s.name, s.description, s.location, s.subnets.length > 0 ? formatLensSubnets(s.subnets) : '', (s.models ?? []).map(lensModelName).join('|')],
      parameters: s.parameters,
    })),
  );
}

/** Devices as mac_address, device_model, site_name, group, label, parameters; by MAC. */
export function devicesToCsv(devices: readonly DeviceRecord[]): CsvExport {
  const sorted = [...devices].sort((a, b) => byText(a.mac, b.mac));
  return toCsv(
    'devices',
    sorted.map((d) => ({ key: d.mac, fields: [d.mac, d.model ?? '', d.site ?? '', d.group ?? '', d.label], parameters: d.parameters })),
  );
}

/** Groups as group (the slug), name, parameters; by slug. */
export function groupsToCsv(groups: readonly GroupRecord[]): CsvExport {
  const sorted = [...groups].sort((a, b) => byText(a.slug, b.slug));
  return toCsv('groups', sorted.map((g) => ({ key: g.slug, fields: [g.slug, g.name], parameters: g.parameters })));
}

/** Model policies as model (polyprov spelling), parameters; by model. */
export function modelsToCsv(models: readonly ModelRecord[]): CsvExport {
  const sorted = [...models].sort((a, b) => byText(a.model, b.model));
  return toCsv('models', sorted.map((m) => ({ key: m.model, fields: [m.model], parameters: m.parameters })));
}
