/** Plain aligned columns for terminals; `--json` is there for scripts. */
export function printTable(headers: string[], rows: (string | number | null | undefined)[][], out: NodeJS.WritableStream = process.stdout): void {
  const cells = rows.map((r) => r.map((c) => (c === null || c === undefined || c === '' ? '-' : String(c))));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  out.write(line(headers) + '\n');
  for (const r of cells) out.write(line(r) + '\n');
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}
