// infra/prometheus/alerts.yml: parses, and every series, label and value it uses exists in the code.

import { QUEUE_NAMES } from "@recfleet/queues";
import { STATUSES } from "@recfleet/recordings";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ALERTS_FILE } from "../scripts/prometheus-rule.ts";
import { readRepoFile } from "../scripts/repo.ts";
import { type MetricDefinition, recfleetMetrics, seriesNames } from "./support/metrics-catalog.ts";

interface Rule {
  alert?: string;
  expr?: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

const groups = (parse(readRepoFile(ALERTS_FILE)) as { groups: { name: string; rules: Rule[] }[] }).groups;
const rules = groups.flatMap((group) => group.rules);
const metrics = recfleetMetrics();
const seriesToMetric = new Map<string, MetricDefinition>();
for (const metric of metrics.values())
  for (const series of seriesNames(metric)) seriesToMetric.set(series, metric);

// Labels every series gets besides its own: the registry's default label and Prometheus' target labels.
const COMMON_LABELS = ["app", "job", "instance", "pod", "namespace"];

// Values of labels that are enumerations in the code.
const JOB_STATES = [
  ...(/JOB_STATES = \[([^\]]*)\]/.exec(readRepoFile("apps/api/src/metrics.ts"))?.[1] ?? "").matchAll(
    /"([a-z-]+)"/g,
  ),
].map((m) => m[1] ?? "");
const LABEL_VALUES: Record<string, Record<string, readonly string[]>> = {
  recfleet_recordings: { status: STATUSES },
  recfleet_queue_jobs: { state: JOB_STATES, queue: QUEUE_NAMES },
};

function selectors(
  expr: string,
): { series: string; matchers: { label: string; op: string; value: string }[] }[] {
  const found: { series: string; matchers: { label: string; op: string; value: string }[] }[] = [];
  for (const match of expr.matchAll(/\b(recfleet_[a-z0-9_]+)(\{([^}]*)\})?/g)) {
    const matchers = [...(match[3] ?? "").matchAll(/([a-zA-Z_]+)\s*(=~|!~|!=|=)\s*"([^"]*)"/g)].map((m) => ({
      label: m[1] ?? "",
      op: m[2] ?? "",
      value: m[3] ?? "",
    }));
    found.push({ series: match[1] ?? "", matchers });
  }
  return found;
}

function anchorsOf(markdown: string): Set<string> {
  return new Set(
    [...markdown.matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) =>
      (m[1] ?? "")
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\s-]/gu, "")
        .replace(/\s/g, "-"),
    ),
  );
}

describe("alert rules", () => {
  it("the catalog of recfleet metrics was read from the sources", () => {
    for (const name of ["recfleet_queue_jobs", "recfleet_recordings", "recfleet_listener_connected"]) {
      expect(metrics.has(name), name).toBe(true);
    }
    expect(metrics.get("recfleet_queue_jobs")?.labelNames).toEqual(["queue", "state"]);
  });

  it("every rule has a unique name, an expression, a severity and a summary and description", () => {
    const names = rules.map((rule) => rule.alert);
    expect(new Set(names).size).toBe(names.length);
    for (const rule of rules) {
      expect(rule.alert).toMatch(/^Recfleet[A-Z]\w+$/);
      expect(rule.expr?.trim()).toBeTruthy();
      expect(["warning", "critical"]).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary, rule.alert).toBeTruthy();
      expect(rule.annotations?.description, rule.alert).toBeTruthy();
      if (rule.for !== undefined) expect(rule.for).toMatch(/^\d+[smh]$/);
    }
  });

  it("every expression has balanced brackets and quotes", () => {
    for (const rule of rules) {
      const expr = rule.expr ?? "";
      const stack: string[] = [];
      const pairs: Record<string, string> = { ")": "(", "]": "[", "}": "{" };
      for (const char of expr.replace(/"[^"]*"/g, '""')) {
        if ("([{".includes(char)) stack.push(char);
        else if (char in pairs) expect(stack.pop(), rule.alert).toBe(pairs[char]);
      }
      expect(stack, rule.alert).toEqual([]);
      expect((expr.match(/"/g) ?? []).length % 2, rule.alert).toBe(0);
    }
  });

  it("uses only series the code exports, with labels they have and values they take", () => {
    const problems: string[] = [];
    for (const rule of rules) {
      for (const { series, matchers } of selectors(rule.expr ?? "")) {
        const metric = seriesToMetric.get(series);
        if (!metric) {
          problems.push(`${rule.alert}: unknown series ${series}`);
          continue;
        }
        const labels = [
          ...metric.labelNames,
          ...COMMON_LABELS,
          ...(series.endsWith("_bucket") ? ["le"] : []),
        ];
        for (const { label, op, value } of matchers) {
          if (!labels.includes(label)) problems.push(`${rule.alert}: ${series} has no label ${label}`);
          const allowed = LABEL_VALUES[metric.name]?.[label];
          if (allowed && op === "=" && !allowed.includes(value)) {
            problems.push(`${rule.alert}: ${series}{${label}="${value}"} is never exported`);
          }
        }
      }
      const used = selectors(rule.expr ?? "").map((s) => seriesToMetric.get(s.series));
      const known = new Set([...used.flatMap((m) => m?.labelNames ?? []), ...COMMON_LABELS, "le"]);
      for (const match of (rule.expr ?? "").matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g)) {
        for (const label of (match[1] ?? "")
          .split(",")
          .map((l) => l.trim())
          .filter(Boolean)) {
          if (!known.has(label)) problems.push(`${rule.alert}: grouping by unknown label ${label}`);
        }
      }
      const templated = JSON.stringify(rule.annotations).matchAll(/\$labels\.([a-zA-Z_]+)/g);
      for (const [, label] of templated) {
        if (!known.has(label ?? "")) problems.push(`${rule.alert}: annotation uses unknown label ${label}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it("covers queues, the listener, the egress fleet, stuck recordings and SMTP", () => {
    const used = new Set(rules.flatMap((rule) => selectors(rule.expr ?? "").map((s) => s.series)));
    for (const series of [
      "recfleet_queue_jobs",
      "recfleet_recordings",
      "recfleet_listener_connected",
      "recfleet_listener_reconnects_total",
      "recfleet_recorder_start_backpressure_total",
      "recfleet_mailer_send_failures_total",
      "recfleet_mailer_notifications_failed_total",
    ]) {
      expect(used.has(series), series).toBe(true);
    }
  });

  it("every runbook link points at a section of docs/operations.md", () => {
    const anchors = anchorsOf(readRepoFile("docs/operations.md"));
    const links = [...JSON.stringify(rules).matchAll(/docs\/operations\.md#([a-z0-9-]+)/g)].map(
      (m) => m[1] ?? "",
    );
    expect(links.length).toBeGreaterThan(5);
    expect(links.filter((anchor) => !anchors.has(anchor))).toEqual([]);
  });
});
