/** A two-column table of values and how many devices report each (models, firmware versions). */
export function CountTable({ label, heading, rows }: { label: string; heading: string; rows: { value: string | null; count: number }[] }) {
  if (rows.length === 0) return <p className="muted">No device has reported one yet.</p>;
  return (
    <table aria-label={label} className="counts">
      <thead>
        <tr>
          <th scope="col">{heading}</th>
          <th scope="col">Devices</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.value ?? ''}>
            <th scope="row">{r.value ?? <span className="muted">not reported</span>}</th>
            <td>{r.count}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
