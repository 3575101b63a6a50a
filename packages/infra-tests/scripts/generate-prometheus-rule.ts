// Writes infra/k8s/components/monitoring/prometheusrule.yaml from infra/prometheus/alerts.yml.
// With --check, exits 1 instead when the file is stale.
import { readFileSync, writeFileSync } from "node:fs";
import { PROMETHEUS_RULE_FILE, renderPrometheusRule } from "./prometheus-rule.ts";
import { repoPath } from "./repo.ts";

const target = repoPath(PROMETHEUS_RULE_FILE);
const rendered = renderPrometheusRule();
if (process.argv.includes("--check")) {
  const current = readFileSync(target, "utf8");
  if (current !== rendered) {
    process.stderr.write(`${PROMETHEUS_RULE_FILE} is stale: run this script without --check\n`);
    process.exit(1);
  }
} else {
  writeFileSync(target, rendered);
  process.stdout.write(`wrote ${PROMETHEUS_RULE_FILE}\n`);
}
