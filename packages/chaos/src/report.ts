import type { ScenarioResult } from "./scenario.ts";

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** The results as a plain-text table, then every failed check with its problems. */
export function formatResults(results: ScenarioResult[]): string {
  const header = [
    "scenario",
    "result",
    "recordings",
    "notified",
    "failed",
    "lost",
    "dup egress",
    "orphan egress",
    "emails",
    "dup emails",
    "failed jobs",
    "stuck jobs",
    "5xx",
    "time",
  ];
  const rows = results.map((result) => {
    const { tally } = result;
    return [
      result.name,
      result.passed ? "PASS" : "FAIL",
      String(tally.recordings),
      String(tally.byStatus.notified ?? 0),
      String(tally.byStatus.failed ?? 0),
      String(tally.lost),
      String(tally.duplicateEgresses),
      String(tally.orphanEgresses),
      `${tally.savedEmails}+${tally.failureEmails}`,
      String(tally.duplicateEmails),
      `${tally.failedJobs}${tally.unexplainedFailedJobs ? ` (${tally.unexplainedFailedJobs} unexplained)` : ""}`,
      String(tally.stuckJobs),
      String(tally.serverErrors),
      seconds(result.durationMs),
    ];
  });
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]?.length ?? 0)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join("  ");
  const out = [line(header), line(widths.map((width) => "-".repeat(width))), ...rows.map(line)];
  out.push("", "emails: ready + failure emails of the scenario's recordings");
  for (const result of results) {
    const metrics = Object.entries(result.metrics)
      .map(([name, value]) => `${name}=${value}`)
      .join(" ");
    out.push(`${result.name}: ${metrics}`);
    for (const job of result.failedJobs) {
      out.push(
        `  failed job ${job.queue}/${job.id}: ${job.failedReason ?? "?"} → ${job.explanation ?? "UNEXPLAINED"}`,
      );
    }
    for (const note of result.notes) out.push(`  note: ${note}`);
    for (const check of result.checks.filter((item) => !item.passed)) {
      out.push(`  ✗ ${check.name}: ${check.summary}`);
      for (const problem of check.problems.slice(0, 20)) out.push(`      - ${problem}`);
      if (check.problems.length > 20) out.push(`      … and ${check.problems.length - 20} more`);
    }
  }
  return out.join("\n");
}

/** One failed scenario as an assertion message: what broke, the seed, where the logs are. */
export function failureMessage(result: ScenarioResult): string {
  const lines = [`${result.name} (seed ${result.seed}, logs in ${result.logsDir}):`];
  for (const check of result.checks.filter((item) => !item.passed)) {
    lines.push(`✗ ${check.name}: ${check.summary}`);
    for (const problem of check.problems.slice(0, 8)) lines.push(`  - ${problem}`);
    if (check.problems.length > 8) lines.push(`  … and ${check.problems.length - 8} more`);
  }
  return lines.join("\n");
}
