// What this teaches: ctr prints its listings with Go's text/tabwriter (minwidth 1,
// padding 1, space as pad character), so columns are as wide as their widest cell
// plus one space. Matching that lets scripts written for ctr parse mini-ctr's output.
// Mirrors the `tabwriter.NewWriter(os.Stdout, 1, 8, 1, ' ', 0)` listings of containerd's
// cmd/ctr/commands (images/images.go, content/content.go, snapshots/snapshots.go).

/** Formats rows under headers like ctr's tabwriter does. */
export function formatTable(headers: string[], rows: string[][]): string {
  const all = [headers, ...rows];
  const widths = headers.map((_, column) =>
    Math.max(...all.map((row) => (row[column] ?? "").length))
  );
  return all
    .map((row) =>
      row.map((cell, column) => column === row.length - 1 ? cell : cell.padEnd(widths[column] + 1))
        .join("")
    )
    .join("\n");
}

/** Sizes as ctr shows them (`progress.Bytes`): "3.5 KiB", "10.2 MiB". */
export function formatBytes(size: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = size;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** Labels as ctr prints them: `k=v,k2=v2`, or `-` when there are none. */
export function formatLabels(labels: Record<string, string> | undefined): string {
  const entries = Object.entries(labels ?? {});
  if (entries.length === 0) return "-";
  return entries.map(([key, value]) => `${key}=${value}`).join(",");
}

/** Parses `k=v` arguments into a label map (`ctr ... label REF k=v k2=`). */
export function parseLabelArguments(args: string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const arg of args) {
    const index = arg.indexOf("=");
    if (index <= 0) throw new Error(`label "${arg}" must look like key=value`);
    labels[arg.slice(0, index)] = arg.slice(index + 1);
  }
  return labels;
}
