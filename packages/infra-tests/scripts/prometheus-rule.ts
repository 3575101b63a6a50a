// The PrometheusRule of infra/k8s/components/monitoring is made from infra/prometheus/alerts.yml,
// so the rules live in one file and Kubernetes gets the same ones.
import { parse, stringify } from "yaml";
import { readRepoFile } from "./repo.ts";

export const ALERTS_FILE = "infra/prometheus/alerts.yml";
export const PROMETHEUS_RULE_FILE = "infra/k8s/components/monitoring/prometheusrule.yaml";

const HEADER = `# Generated from ${ALERTS_FILE} by packages/infra-tests/scripts/generate-prometheus-rule.ts;
# do not edit (a test fails when it is stale). Regenerate:
#   node packages/infra-tests/scripts/generate-prometheus-rule.ts
`;

export function renderPrometheusRule(alertsYaml: string = readRepoFile(ALERTS_FILE)): string {
  const rules = parse(alertsYaml) as { groups?: unknown };
  if (!Array.isArray(rules.groups)) throw new Error(`${ALERTS_FILE} has no groups`);
  const resource = {
    apiVersion: "monitoring.coreos.com/v1",
    kind: "PrometheusRule",
    metadata: { name: "recfleet" },
    spec: { groups: rules.groups },
  };
  return `${HEADER}${stringify(resource, { lineWidth: 0 })}`;
}
