// Every Prometheus series recfleet defines, read from the sources (name, type, label names).
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { repoPath } from "../../scripts/repo.ts";

export interface MetricDefinition {
  name: string;
  type: "Counter" | "Gauge" | "Histogram" | "Summary";
  labelNames: string[];
  file: string;
}

function sourceFiles(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir)) {
    if (entry === "node_modules" || entry === "dist") continue;
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) files.push(...sourceFiles(path));
    else if (path.endsWith(".ts") && !path.endsWith(".test.ts")) files.push(path);
  }
  return files;
}

export function recfleetMetrics(): Map<string, MetricDefinition> {
  const metrics = new Map<string, MetricDefinition>();
  for (const root of ["apps", "packages"]) {
    for (const project of readdirSync(repoPath(root))) {
      const src = repoPath(`${root}/${project}/src`);
      let files: string[];
      try {
        files = sourceFiles(src);
      } catch {
        continue;
      }
      for (const file of files) {
        const text = readFileSync(file, "utf8");
        for (const match of text.matchAll(/name:\s*"(recfleet_[a-z0-9_]+)"/g)) {
          const at = match.index ?? 0;
          const type = [...text.slice(0, at).matchAll(/new (Counter|Gauge|Histogram|Summary)\b/g)].at(
            -1,
          )?.[1];
          if (!type) continue;
          const rest = text.slice(at + match[0].length);
          const next = rest.search(/name:\s*"recfleet_/);
          const body = next < 0 ? rest : rest.slice(0, next);
          const labels = /labelNames:\s*\[([^\]]*)\]/.exec(body)?.[1] ?? "";
          const name = match[1] ?? "";
          metrics.set(name, {
            name,
            type: type as MetricDefinition["type"],
            labelNames: [...labels.matchAll(/"([a-zA-Z_]+)"/g)].map((m) => m[1] ?? ""),
            file,
          });
        }
      }
    }
  }
  return metrics;
}

/** The series names a metric exposes: histograms add _bucket, _sum and _count. */
export function seriesNames(metric: MetricDefinition): string[] {
  if (metric.type === "Histogram")
    return [`${metric.name}_bucket`, `${metric.name}_sum`, `${metric.name}_count`];
  if (metric.type === "Summary") return [metric.name, `${metric.name}_sum`, `${metric.name}_count`];
  return [metric.name];
}
