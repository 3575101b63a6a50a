// infra/k8s: the example overlay rendered (base + components + generators), checked against the
// config schema, the apps' health endpoints and shutdown deadlines, and the compose images.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadProfileCatalog, loadTenants, type ProfilesConfig } from "@recfleet/config";
import { afterAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { PROMETHEUS_RULE_FILE, renderPrometheusRule } from "../scripts/prometheus-rule.ts";
import { readRepoFile, repoRoot } from "../scripts/repo.ts";
import { APPS, type AppName, appSections, shutdownDeadlineMs, usesHealthPort } from "./support/apps.ts";
import { envExample, resolvedCompose } from "./support/compose.ts";
import {
  type Container,
  containerEnvironment,
  deployment,
  deployments,
  K8S_BASE,
  K8S_OVERLAY,
  type K8sObject,
  type Probe,
  render,
  splitImage,
} from "./support/k8s.ts";
import { isConfigVariable, loadAs, requiredVars, SENSITIVE_VARS } from "./support/schema.ts";

const overlay = render(K8S_OVERLAY);
const base = render(K8S_BASE);
const fileRoot = mkdtempSync(join(tmpdir(), "recfleet-k8s-"));
afterAll(() => rmSync(fileRoot, { recursive: true, force: true }));

function containerOf(
  objects: K8sObject[],
  app: AppName,
): { container: Container; podSpec: K8sObject["spec"] } {
  const podSpec = deployment(objects, app).spec.template.spec;
  const container = (podSpec.containers as Container[]).find((c) => c.name === app);
  if (!container) throw new Error(`Deployment ${app} has no container ${app}`);
  return { container, podSpec };
}

function environmentOf(app: AppName): Record<string, string> {
  const { container, podSpec } = containerOf(overlay.objects, app);
  return containerEnvironment(overlay, podSpec, container, join(fileRoot, app));
}

function healthPaths(): { api: string[]; worker: string[] } {
  const api = [...readRepoFile("apps/api/src/routes/health.ts").matchAll(/\.route\("([^"]+)"\)/g)].map(
    (m) => m[1] ?? "",
  );
  const worker = [
    ...readRepoFile("packages/runtime/src/health-server.ts").matchAll(/path === "([^"]+)"/g),
  ].map((m) => m[1] ?? "");
  return { api, worker };
}

function probePort(container: Container, probe: Probe | undefined): number {
  const port = probe?.httpGet?.port;
  if (typeof port === "number") return port;
  const named = container.ports?.find((p) => p.name === port);
  if (!named) throw new Error(`${container.name}: probe port ${String(port)} is not a container port`);
  return named.containerPort;
}

describe("k8s: Deployments", () => {
  it("the base has exactly the four apps, each running its own image", () => {
    expect(
      deployments(base.objects)
        .map((d) => d.metadata.name)
        .sort(),
    ).toEqual([...APPS].sort());
    for (const app of APPS)
      expect(splitImage(containerOf(base.objects, app).container.image)[0]).toBe(`recfleet/${app}`);
  });

  it("images have the repository names compose builds, and the overlay only changes registry and tag", () => {
    const vars = Object.fromEntries(envExample().map((e) => [e.name, e.value]));
    const services = resolvedCompose(vars).services;
    for (const app of APPS) {
      const composeRepo = splitImage(services[app]?.image ?? "")[0];
      expect(composeRepo.split("/").at(-1)).toBe(app);
      const overlayImage = containerOf(overlay.objects, app).container.image;
      expect(splitImage(overlayImage)[0].split("/").slice(-2).join("/")).toBe(`recfleet/${app}`);
    }
  });

  for (const app of APPS) {
    it(`${app}: its environment is config-schema variables only and a valid configuration`, () => {
      const env = environmentOf(app);
      expect(Object.keys(env).filter((name) => !isConfigVariable(name))).toEqual([]);
      const sections = appSections(app);
      for (const name of requiredVars(sections)) {
        expect(env[name] !== undefined || env[`${name}_FILE`] !== undefined, `${app}: ${name}`).toBe(true);
      }
      const config = loadAs(sections, env);
      if ("profiles" in config)
        expect(() => loadProfileCatalog(config.profiles as ProfilesConfig)).not.toThrow();
    });

    it(`${app}: secrets come from Secrets, never from the ConfigMap or a literal value`, () => {
      const configMap = overlay.configMaps.get("recfleet-config") ?? {};
      expect(Object.keys(configMap).filter((name) => SENSITIVE_VARS.has(name))).toEqual([]);
      const { container } = containerOf(overlay.objects, app);
      const literal = (container.env ?? []).filter(
        (e) => e.value !== undefined && SENSITIVE_VARS.has(e.name),
      );
      expect(literal.map((e) => e.name)).toEqual([]);
    });

    it(`${app}: probes ask the app's real /readyz and /healthz on the port it listens on`, () => {
      const { container } = containerOf(overlay.objects, app);
      const env = environmentOf(app);
      const listening = Number(usesHealthPort(app) ? env.HEALTH_PORT : env.PORT);
      const paths = usesHealthPort(app) ? healthPaths().worker : healthPaths().api;
      expect(container.readinessProbe?.httpGet?.path).toBe("/readyz");
      expect(container.livenessProbe?.httpGet?.path).toBe("/healthz");
      for (const probe of [container.readinessProbe, container.livenessProbe]) {
        expect(paths).toContain(probe?.httpGet?.path);
        expect(probePort(container, probe)).toBe(listening);
      }
    });

    it(`${app}: terminationGracePeriodSeconds covers preStop and the app's shutdown deadline`, () => {
      const { container, podSpec } = containerOf(overlay.objects, app);
      const config = loadAs(appSections(app), environmentOf(app));
      const deadline = shutdownDeadlineMs(app, config);
      const command = container.lifecycle?.preStop?.exec?.command ?? [];
      const preStopMs = command[0] === "sleep" ? Number(command[1]) * 1000 : 0;
      const graceMs = Number(podSpec.terminationGracePeriodSeconds) * 1000;
      expect(graceMs).toBeGreaterThanOrEqual(preStopMs + deadline + 3000);
      expect(graceMs).toBeLessThanOrEqual(preStopMs + deadline + 30_000);
    });

    it(`${app}: a PodDisruptionBudget selects its pods`, () => {
      const labels = deployment(overlay.objects, app).spec.template.metadata.labels as Record<string, string>;
      const budgets = overlay.objects
        .filter((o) => o.kind === "PodDisruptionBudget")
        .filter((o) =>
          Object.entries(o.spec.selector.matchLabels as Record<string, string>).every(
            ([k, v]) => labels[k] === v,
          ),
        );
      expect(budgets).toHaveLength(1);
    });
  }

  it("gives the api and the mailer the same tenants file from one Secret, a valid one in the example", () => {
    for (const app of ["api", "mailer"] as const) {
      const { container } = containerOf(overlay.objects, app);
      expect(container.env?.find((entry) => entry.name === "TENANTS_FILE")?.value).toBe(
        "/run/secrets/recfleet/tenants.yaml",
      );
      // environmentOf writes the mounted Secret's files where the variable points.
      const file = environmentOf(app).TENANTS_FILE ?? "";
      expect(loadTenants({ apiKeys: ["change-me-api-key-0001"], file }).tenants.map((t) => t.name)).toEqual([
        "default",
      ]);
    }
  });

  it("runs two storage listeners (fan-out plus job-id de-duplication make it safe)", () => {
    expect(deployment(overlay.objects, "storage-listener").spec.replicas).toBe(2);
  });

  it("runs every pod as non-root with a read-only root filesystem", () => {
    for (const d of deployments(overlay.objects)) {
      expect(d.spec.template.spec.securityContext.runAsNonRoot, d.metadata.name).toBe(true);
      for (const c of d.spec.template.spec.containers as { securityContext: Record<string, unknown> }[]) {
        expect(c.securityContext.readOnlyRootFilesystem).toBe(true);
        expect(c.securityContext.allowPrivilegeEscalation).toBe(false);
      }
    }
  });

  it("the api Service reaches the api pods' http port", () => {
    const service = overlay.objects.find((o) => o.kind === "Service" && o.metadata.name === "api");
    const labels = deployment(overlay.objects, "api").spec.template.metadata.labels as Record<string, string>;
    expect(
      Object.entries(service?.spec.selector as Record<string, string>).every(([k, v]) => labels[k] === v),
    ).toBe(true);
    const { container } = containerOf(overlay.objects, "api");
    expect(container.ports?.map((p) => p.name)).toContain(service?.spec.ports[0].targetPort);
  });

  it("an Ingress serves API_PUBLIC_URL's host over TLS, LiveKit's webhook route included, to the api Service", () => {
    const publicUrl = new URL(overlay.configMaps.get("recfleet-config")?.API_PUBLIC_URL ?? "");
    expect(publicUrl.protocol).toBe("https:");
    const ingress = overlay.objects.find((o) => o.kind === "Ingress" && o.metadata.name === "api");
    if (!ingress) throw new Error("the overlay has no api Ingress");
    const spec = ingress.spec as {
      tls: { hosts: string[]; secretName: string }[];
      rules: {
        host: string;
        http: {
          paths: {
            path: string;
            pathType: string;
            backend: { service: { name: string; port: { name: string } } };
          }[];
        };
      }[];
    };
    expect(spec.tls).toEqual([{ hosts: [publicUrl.hostname], secretName: expect.any(String) }]);
    expect(spec.rules.map((rule) => rule.host)).toEqual([publicUrl.hostname]);
    const paths = spec.rules[0]?.http.paths ?? [];
    const webhook = paths.find(
      (entry) =>
        "/v1/webhooks/livekit".startsWith(entry.path) &&
        (entry.pathType === "Prefix" || entry.path === "/v1/webhooks/livekit"),
    );
    expect(webhook?.backend.service.name).toBe("api");
    const service = overlay.objects.find((o) => o.kind === "Service" && o.metadata.name === "api");
    expect(((service?.spec.ports ?? []) as { name: string }[]).map((port) => port.name)).toContain(
      webhook?.backend.service.port.name,
    );
  });
});

describe("k8s: autoscaling", () => {
  const scaled = overlay.objects.filter((o) => o.kind === "ScaledObject");
  const config = overlay.configMaps.get("recfleet-config") ?? {};
  const redisUrl = new URL(overlay.secrets.get("recfleet-redis")?.url ?? "");

  it("KEDA scales recorder and mailer on their queue, one replica per batch of waiting jobs they take at once", () => {
    const concurrency: Record<string, number> = {
      recorder: Number(config.RECORDER_CONCURRENCY),
      mailer: Number(config.MAILER_CONCURRENCY),
    };
    expect(scaled.map((o) => o.spec.scaleTargetRef.name).sort()).toEqual(["mailer", "recorder"]);
    for (const object of scaled) {
      const name = object.spec.scaleTargetRef.name as string;
      const { metadata } = object.spec.triggers[0] as { metadata: Record<string, string> };
      const listLength = Number(metadata.listLength);
      expect(listLength % (concurrency[name] ?? 0), name).toBe(0);
      expect(listLength).toBeGreaterThanOrEqual(concurrency[name] ?? Number.POSITIVE_INFINITY);
      expect(object.spec.minReplicaCount).toBeGreaterThanOrEqual(2);
      expect(object.spec.maxReplicaCount).toBeGreaterThan(object.spec.minReplicaCount);
    }
    const recorder = scaled.find((o) => o.spec.scaleTargetRef.name === "recorder");
    expect(Number(recorder?.spec.triggers[0].metadata.listLength)).toBe(concurrency.recorder);
  });

  it("KEDA reaches the apps' Redis, with TLS exactly when REDIS_URL asks for it, and its password", () => {
    for (const object of scaled) {
      const { metadata, authenticationRef } = object.spec.triggers[0] as {
        metadata: Record<string, string>;
        authenticationRef: { name: string };
      };
      expect(metadata.address).toBe(`${redisUrl.hostname}:${redisUrl.port || "6379"}`);
      expect(metadata.enableTLS).toBe(String(redisUrl.protocol === "rediss:"));
      const auth = overlay.objects.find(
        (o) => o.kind === "TriggerAuthentication" && o.metadata.name === authenticationRef.name,
      );
      if (!auth) throw new Error(`no TriggerAuthentication ${authenticationRef.name}`);
      const ref = (auth.spec.secretTargetRef as { parameter: string; name: string; key: string }[])[0];
      expect(ref?.parameter).toBe("password");
      expect(overlay.secrets.get(ref?.name ?? "")?.[ref?.key ?? ""]).toBe(
        decodeURIComponent(redisUrl.password),
      );
    }
  });

  it("leaves the replica count of autoscaled Deployments to the autoscaler", () => {
    for (const object of scaled) {
      expect(deployment(overlay.objects, object.spec.scaleTargetRef.name).spec.replicas).toBeUndefined();
    }
    expect(deployment(overlay.objects, "api").spec.replicas).toBe(3);
  });

  it("the HPA alternative scales the same Deployments", () => {
    const withHpa = render("infra/k8s/components/hpa", render(K8S_BASE));
    const hpa = withHpa.objects.filter((o) => o.kind === "HorizontalPodAutoscaler");
    expect(hpa.map((o) => o.spec.scaleTargetRef.name).sort()).toEqual(["mailer", "recorder"]);
    for (const object of hpa) {
      expect(deployment(withHpa.objects, object.spec.scaleTargetRef.name).spec.replicas).toBeUndefined();
      expect(object.spec.minReplicas).toBeGreaterThanOrEqual(2);
    }
  });
});

describe("k8s: monitoring", () => {
  it("the PodMonitor scrapes ports every app's container has", () => {
    const monitor = overlay.objects.find((o) => o.kind === "PodMonitor");
    if (!monitor) throw new Error("no PodMonitor");
    const ports = (monitor.spec.podMetricsEndpoints as { port: string; path: string }[]).map((e) => e.port);
    for (const app of APPS) {
      const names = containerOf(overlay.objects, app).container.ports?.map((p) => p.name) ?? [];
      expect(
        names.some((name) => ports.includes(name ?? "")),
        app,
      ).toBe(true);
    }
    expect(monitor.spec.selector.matchExpressions[0].values.sort()).toEqual(
      APPS.map((a) => `recfleet-${a}`).sort(),
    );
  });

  it("the PrometheusRule is generated from infra/prometheus/alerts.yml and up to date", () => {
    expect(readRepoFile(PROMETHEUS_RULE_FILE)).toBe(renderPrometheusRule());
  });
});

const kubectl = spawnSync("kubectl", ["version", "--client"], { encoding: "utf8" }).status === 0;

describe("k8s: rendered by the real kustomize", () => {
  it.runIf(kubectl)("the overlay renders, and every Secret and ConfigMap it references exists", () => {
    const result = spawnSync("kubectl", ["kustomize", K8S_OVERLAY], { cwd: repoRoot, encoding: "utf8" });
    expect(result.stderr).toBe("");
    const objects = parseAllDocuments(result.stdout).map((doc) => doc.toJS() as K8sObject);
    const names = (kind: string) =>
      new Set(objects.filter((o) => o.kind === kind).map((o) => o.metadata.name));
    const secrets = names("Secret");
    const configMaps = names("ConfigMap");
    for (const object of objects.filter((o) => o.kind === "Deployment")) {
      const podSpec = object.spec.template.spec;
      for (const volume of podSpec.volumes ?? []) {
        for (const source of volume.projected?.sources ?? [])
          expect(secrets.has(source.secret.name)).toBe(true);
      }
      for (const container of podSpec.containers as Container[]) {
        for (const ref of container.envFrom ?? [])
          expect(configMaps.has(ref.configMapRef?.name ?? "")).toBe(true);
        for (const entry of container.env ?? []) {
          const ref = entry.valueFrom?.secretKeyRef;
          if (ref) expect(secrets.has(ref.name), ref.name).toBe(true);
        }
      }
      if (["recorder", "mailer"].includes(object.metadata.name)) expect(object.spec.replicas).toBeUndefined();
    }
    for (const auth of objects.filter((o) => o.kind === "TriggerAuthentication")) {
      for (const ref of auth.spec.secretTargetRef) expect(secrets.has(ref.name), ref.name).toBe(true);
    }
    expect(
      objects.every(
        (o) => o.kind === "Namespace" || (o.metadata as { namespace?: string }).namespace === "recfleet",
      ),
    ).toBe(true);
  });
});
