export type Cell = string | number;

/** A number with an optional unit: such columns are right-aligned. */
const NUMERIC = /^(|n\/a|[-+]?[\d.,]+ ?(ms|µs|s|%|×|\/s|MiB|KiB|B)?)$/;

export interface Table {
  title: string;
  columns: string[];
  rows: Cell[][];
}

/**
 * A Markdown table with padded columns: readable in a terminal and pasted as is into
 * docs/benchmarks.md. Numbers are right-aligned, text left-aligned.
 */
export function renderTable(table: Table): string {
  const cells = table.rows.map((row) => table.columns.map((_, i) => String(row[i] ?? "")));
  const numeric = table.columns.map((_, i) =>
    table.rows.every((row) => typeof row[i] === "number" || NUMERIC.test(String(row[i] ?? ""))),
  );
  const widths = table.columns.map((column, i) =>
    Math.max(column.length, 3, ...cells.map((row) => (row[i] ?? "").length)),
  );
  const line = (values: string[]) =>
    `| ${values
      .map((value, i) => (numeric[i] ? value.padStart(widths[i] ?? 0) : value.padEnd(widths[i] ?? 0)))
      .join(" | ")} |`;
  const rule = `| ${widths.map((width, i) => (numeric[i] ? `${"-".repeat(width - 1)}:` : "-".repeat(width))).join(" | ")} |`;
  return [`**${table.title}**`, "", line(table.columns), rule, ...cells.map(line)].join("\n");
}
