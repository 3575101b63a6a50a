// infra/compose/docker-compose.yml, read the way docker compose reads it with .env.example as .env.
import { existsSync } from "node:fs";
import { loadProfileCatalog, loadTenants, type ProfilesConfig } from "@recfleet/config";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { readRepoFile, repoPath } from "../scripts/repo.ts";
import { APPS, appSections, shutdownDeadlineMs, usesHealthPort } from "./support/apps.ts";
import {
  composeText,
  durationMs,
  envExample,
  rawCompose,
  referencedVariables,
  resolvedCompose,
  serviceEnvironment,
} from "./support/compose.ts";
import { isConfigVariable, loadAs, requiredVars } from "./support/schema.ts";

const vars = Object.fromEntries(envExample().map((entry) => [entry.name, entry.value]));
const compose = resolvedCompose(vars);
const services = compose.services;

// Variables the third-party images of the stack read, by service (from their documentation).
const THIRD_PARTY_ENV: Record<string, string[]> = {
  // MinIO server: the administrator account.
  minio: ["MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD"],
  // livekit-server: the whole config as YAML (its --config-body flag).
  livekit: ["LIVEKIT_CONFIG"],
  // LiveKit egress: the whole config as YAML, API key pair and ws_url defaults, and the AWS SDK's credentials.
  egress: [
    "EGRESS_CONFIG_BODY",
    "LIVEKIT_API_KEY",
    "LIVEKIT_API_SECRET",
    "LIVEKIT_WS_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
  ],
  // The LiveKit CLI (lk): server URL and key pair.
  lk: ["LIVEKIT_URL", "LIVEKIT_API_KEY", "LIVEKIT_API_SECRET"],
};

/** Egress' config as written in the compose file, before compose fills in variables. */
function rawEgressConfig(): string {
  const raw = parse(readRepoFile("infra/compose/docker-compose.yml")) as {
    services: { egress: { environment: Record<string, string> } };
  };
  return raw.services.egress.environment.EGRESS_CONFIG_BODY ?? "";
}

function hostOf(url: string): string {
  return new URL(url).hostname;
}

describe("compose: variables", () => {
  it("every variable the compose file substitutes is defined in .env.example, and every one there is used", () => {
    // Compose reads COMPOSE_PROFILES from .env itself.
    const used = new Set([...referencedVariables(composeText()), "COMPOSE_PROFILES"]);
    const defined = new Set(Object.keys(vars));
    expect([...used].filter((name) => !defined.has(name))).toEqual([]);
    expect([...defined].filter((name) => !used.has(name))).toEqual([]);
  });

  it("runs its MinIO only with the bundled-minio profile, which .env.example enables, and needs it nowhere else", () => {
    expect(services.minio?.profiles).toEqual(["bundled-minio"]);
    expect((vars.COMPOSE_PROFILES ?? "").split(",")).toContain("bundled-minio");
    for (const [name, service] of Object.entries(services)) {
      const needs = (service.depends_on ?? {}) as Record<string, { required?: boolean }>;
      if (!needs.minio) continue;
      // An existing MinIO is already up: only minio-setup waits for the bundled one, when it runs.
      expect(name).toBe("minio-setup");
      expect(needs.minio.required).toBe(false);
    }
    // Everything else reaches MinIO through the settings, so pointing them elsewhere is enough.
    const raw = composeText();
    expect(raw).not.toMatch(/^\s*STORAGE_ENDPOINT: minio$/m);
    expect(raw.match(/http:\/\/minio:9000/g)?.length).toBe(
      raw.match(/\$\{MINIO_URL:-http:\/\/minio:9000\}/g)?.length,
    );
  });

  it("substitutes without a missing required variable", () => {
    expect(() => resolvedCompose(vars)).not.toThrow();
    expect(() => resolvedCompose({ ...vars, API_KEYS: "" })).toThrow(/API_KEYS/);
  });
});

describe("compose: the four apps", () => {
  it("run the image built from infra/docker/Dockerfile with the repository root as context", () => {
    for (const app of APPS) {
      const service = services[app];
      expect(service, app).toBeDefined();
      expect(service?.image).toBe(`${vars.RECFLEET_REGISTRY}/${app}:${vars.RECFLEET_VERSION}`);
      expect(service?.build?.args?.APP).toBe(app);
      expect(service?.build?.context).toBe("../..");
      expect(service?.build?.dockerfile).toBe("infra/docker/Dockerfile");
      expect(existsSync(repoPath("infra/docker/Dockerfile"))).toBe(true);
    }
  });

  it("can be scaled: no fixed container names, and no host ports on the workers", () => {
    for (const [name, service] of Object.entries(services))
      expect(service.container_name, name).toBeUndefined();
    for (const app of APPS.filter(usesHealthPort)) expect(services[app]?.ports, app).toBeUndefined();
  });

  for (const app of APPS) {
    it(`${app}: sets only config-schema variables and starts with a valid configuration`, () => {
      const env = serviceEnvironment(services[app] ?? {});
      expect(Object.keys(env).filter((name) => !isConfigVariable(name))).toEqual([]);
      const sections = appSections(app);
      for (const name of requiredVars(sections)) expect(env[name], `${app}: ${name}`).toBeTruthy();
      const config = loadAs(sections, env);
      if ("profiles" in config) {
        expect(() => loadProfileCatalog(config.profiles as ProfilesConfig)).not.toThrow();
      }
      if (app === "api") expect(env.API_KEYS?.split(",").length).toBeGreaterThan(0);
    });

    it(`${app}: compose waits longer than the app's own shutdown deadline before SIGKILL`, () => {
      const config = loadAs(appSections(app), serviceEnvironment(services[app] ?? {}));
      const deadline = shutdownDeadlineMs(app, config);
      const grace = durationMs(services[app]?.stop_grace_period ?? "10s");
      expect(grace).toBeGreaterThanOrEqual(deadline + 3000);
    });
  }

  it("reach Redis, MinIO, LiveKit and Mailpit by their service names", () => {
    for (const app of APPS) {
      const env = serviceEnvironment(services[app] ?? {});
      expect(hostOf(env.REDIS_URL ?? "")).toBe("redis");
      if (env.STORAGE_ENDPOINT) expect(env.STORAGE_ENDPOINT).toBe("minio");
      if (env.LIVEKIT_URL) expect(hostOf(env.LIVEKIT_URL)).toBe("livekit");
    }
    expect(serviceEnvironment(services.mailer ?? {}).SMTP_HOST).toBe("mailpit");
    for (const name of ["redis", "minio", "livekit", "mailpit"]) expect(services[name], name).toBeDefined();
  });

  it("publishes the api on its PORT", () => {
    const port = serviceEnvironment(services.api ?? {}).PORT;
    expect(services.api?.ports).toEqual([`${port}:${port}`]);
  });

  it("start after the services they need, with conditions those services can meet", () => {
    for (const [name, service] of Object.entries(services)) {
      for (const [dependency, { condition }] of Object.entries(service.depends_on ?? {})) {
        const target = services[dependency];
        expect(target, `${name} → ${dependency}`).toBeDefined();
        if (condition === "service_healthy") expect(target?.healthcheck?.test, dependency).toBeDefined();
        if (condition === "service_completed_successfully")
          expect(target?.entrypoint, dependency).toBeDefined();
      }
    }
  });
});

describe("compose: third-party services", () => {
  it("set only the variables their images document", () => {
    for (const [name, allowed] of Object.entries(THIRD_PARTY_ENV)) {
      const env = Object.keys(serviceEnvironment(services[name] ?? {}));
      expect(
        env.filter((variable) => !allowed.includes(variable)),
        name,
      ).toEqual([]);
    }
  });

  it("Redis keeps an append-only file synced every second and never evicts keys", () => {
    const command = (services.redis?.command ?? []).join(" ");
    expect(command).toContain("--appendonly yes");
    expect(command).toContain("--appendfsync everysec");
    expect(command).toContain("--maxmemory-policy noeviction");
  });

  it("LiveKit server signs webhooks with the fleet's key and sends them to the api's webhook route", () => {
    const config = parse(serviceEnvironment(services.livekit ?? {}).LIVEKIT_CONFIG ?? "") as {
      keys: Record<string, string>;
      webhook: { api_key: string; urls: string[] };
      redis: { address: string };
    };
    expect(config.keys).toEqual({ [vars.LIVEKIT_API_KEY ?? ""]: vars.LIVEKIT_API_SECRET });
    expect(config.webhook.api_key).toBe(vars.LIVEKIT_API_KEY);
    const webhookPath = /WEBHOOK_PATH = "([^"]+)"/.exec(readRepoFile("apps/api/src/routes/webhooks.ts"))?.[1];
    const apiPort = serviceEnvironment(services.api ?? {}).PORT;
    expect(config.webhook.urls).toEqual([`http://api:${apiPort}${webhookPath}`]);
    expect(config.redis.address).toBe("redis:6379");
    // LiveKit refuses secrets shorter than 32 characters.
    expect((vars.LIVEKIT_API_SECRET ?? "").length).toBeGreaterThanOrEqual(32);
  });

  it("Egress shares LiveKit's Redis, can run Chrome, and uploads to STORAGE_BUCKET with its own user", () => {
    const egress = services.egress ?? {};
    const env = serviceEnvironment(egress);
    // Its config is written in the compose file, so that it takes the apps' STORAGE_BUCKET.
    expect(rawEgressConfig()).toContain("bucket: ${STORAGE_BUCKET:-recordings}");
    const config = parse(env.EGRESS_CONFIG_BODY ?? "") as {
      redis: { address: string };
      insecure: boolean;
      cpu_cost: Record<string, number>;
      s3: { endpoint: string; bucket: string; region: string; force_path_style: boolean };
    };
    expect(config.redis.address).toBe("redis:6379");
    expect(hostOf(env.LIVEKIT_WS_URL ?? "")).toBe("livekit");
    expect(config.s3.bucket).toBe(vars.STORAGE_BUCKET);
    expect(config.s3.endpoint).toBe("http://minio:9000");
    expect(config.s3.force_path_style).toBe(true);
    expect(env.AWS_ACCESS_KEY_ID).toBe(vars.MINIO_EGRESS_ACCESS_KEY);
    // Egress gets the files' storage from its own config only when the recorder sends none.
    expect(serviceEnvironment(services.recorder ?? {}).STORAGE_EGRESS_UPLOAD).toBe("false");
    expect(Object.keys(config.cpu_cost).sort()).toEqual(
      ["audio_room_composite_cpu_cost", "max_cpu_utilization", "room_composite_cpu_cost"].sort(),
    );
    expect(egress.cap_add).toContain("SYS_ADMIN");
    expect(bytesOfSize(egress.shm_size ?? "64m")).toBeGreaterThanOrEqual(512 * 1024 * 1024);
  });

  it("the MinIO setup job gets exactly the variables its scripts read", () => {
    const scripts = ["setup.sh", "policies.sh"]
      .map((file) => readRepoFile(`infra/compose/minio/${file}`))
      .join("\n");
    const read = new Set(
      [...scripts.matchAll(/\$\{([A-Z][A-Z0-9_]*)(?::?[-?][^}]*)?\}/g)].map((m) => m[1] ?? ""),
    );
    const given = new Set(Object.keys(serviceEnvironment(services["minio-setup"] ?? {})));
    expect([...given].sort()).toEqual([...read].sort());
    expect(services["minio-setup"]?.volumes).toEqual(["./minio:/setup:ro"]);
  });

  it("the MinIO users given to the apps are the ones the setup job creates", () => {
    const setup = serviceEnvironment(services["minio-setup"] ?? {});
    expect(serviceEnvironment(services.recorder ?? {}).STORAGE_ACCESS_KEY).toBe(
      setup.MINIO_RECORDER_ACCESS_KEY,
    );
    expect(serviceEnvironment(services["storage-listener"] ?? {}).STORAGE_ACCESS_KEY).toBe(
      setup.MINIO_LISTENER_ACCESS_KEY,
    );
    expect(serviceEnvironment(services.mailer ?? {}).STORAGE_ACCESS_KEY).toBe(setup.MINIO_MAILER_ACCESS_KEY);
    expect(serviceEnvironment(services.egress ?? {}).AWS_ACCESS_KEY_ID).toBe(setup.MINIO_EGRESS_ACCESS_KEY);
  });

  it("gives the API and the mailer the same tenants file, and its example is a valid one", () => {
    for (const app of ["api", "mailer"]) {
      expect(services[app]?.volumes).toEqual(["./tenants:/etc/recfleet/tenants:ro"]);
      expect(serviceEnvironment(services[app] ?? {})).toHaveProperty("TENANTS_FILE", "");
    }
    const registry = loadTenants({
      apiKeys: [],
      file: repoPath("infra/compose/tenants/tenants.example.yaml"),
    });
    expect(registry.tenants.map((tenant) => tenant.name)).toEqual(["acme", "ops"]);
    expect(registry.get("acme")?.callback?.events).toContain("recording.ready");
  });

  it("the raw file keeps the apps' shared settings in one place (YAML anchors)", () => {
    const raw = rawCompose();
    const redisUrls = APPS.map((app) => serviceEnvironment(raw.services[app] ?? {}).REDIS_URL);
    expect(new Set(redisUrls).size).toBe(1);
  });
});

function bytesOfSize(size: string): number {
  const match = /^(\d+)([kmg]?)b?$/i.exec(size);
  if (!match) throw new Error(`not a size: ${size}`);
  const unit = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(match[2] ?? "").toLowerCase()] ?? 1;
  return Number(match[1]) * unit;
}
