// Just enough of kustomize to check what each container gets: resources of a kustomization and
// its components (recursively), ConfigMap and Secret generators (literals; behavior merge), image
// overrides and JSON 6902 patches (add, replace, remove). Where `kubectl` is installed, a test
// also renders the overlay with the real kustomize.
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { parse, parseAllDocuments } from "yaml";
import { readRepoFile, repoPath } from "../../scripts/repo.ts";

export const K8S_BASE = "infra/k8s/base";
export const K8S_OVERLAY = "infra/k8s/overlays/example";

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  // biome-ignore lint/suspicious/noExplicitAny: manifests are free-form; each test narrows what it reads
  spec?: any;
  data?: Record<string, string>;
}

interface Generator {
  name: string;
  behavior?: "create" | "merge" | "replace";
  literals?: string[];
}

interface Kustomization {
  resources?: string[];
  components?: string[];
  configMapGenerator?: Generator[];
  secretGenerator?: Generator[];
  images?: { name: string; newName?: string; newTag?: string }[];
  patches?: { target: { kind: string; name?: string }; patch: string }[];
}

interface PatchOperation {
  op: "add" | "replace" | "remove";
  path: string;
  value?: unknown;
}

function applyPatch(object: Record<string, unknown>, operation: PatchOperation): void {
  const steps = operation.path
    .split("/")
    .slice(1)
    .map((step) => step.replace(/~1/g, "/").replace(/~0/g, "~"));
  const last = steps.pop();
  if (last === undefined) throw new Error(`patch path ${operation.path}`);
  let node: unknown = object;
  for (const step of steps) {
    node = (node as Record<string, unknown>)[step];
    if (node === undefined || node === null) throw new Error(`patch path ${operation.path}: no ${step}`);
  }
  const parent = node as Record<string, unknown>;
  if (operation.op === "remove") {
    if (!(last in parent)) throw new Error(`patch remove ${operation.path}: nothing there`);
    delete parent[last];
  } else {
    if (operation.op === "replace" && !(last in parent))
      throw new Error(`patch replace ${operation.path}: nothing there`);
    parent[last] = operation.value;
  }
}

export interface Rendered {
  objects: K8sObject[];
  configMaps: Map<string, Record<string, string>>;
  secrets: Map<string, Record<string, string>>;
  /** Every YAML file read, relative to the repository root. */
  files: string[];
}

export function parseDocuments(relative: string): unknown[] {
  return parseAllDocuments(readRepoFile(relative)).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`${relative}: ${doc.errors[0]?.message}`);
    return doc.toJS();
  });
}

function literalsOf(generator: Generator): Record<string, string> {
  return Object.fromEntries(
    (generator.literals ?? []).map((literal) => {
      const at = literal.indexOf("=");
      if (at < 0) throw new Error(`generator ${generator.name}: literal without "=": ${literal}`);
      return [literal.slice(0, at), literal.slice(at + 1)];
    }),
  );
}

function applyGenerators(target: Map<string, Record<string, string>>, generators: Generator[] = []) {
  for (const generator of generators) {
    const data = literalsOf(generator);
    const existing = target.get(generator.name);
    if (generator.behavior === "merge") {
      if (!existing) throw new Error(`generator ${generator.name}: merge without a base`);
      target.set(generator.name, { ...existing, ...data });
    } else {
      if (existing && generator.behavior !== "replace") throw new Error(`generator ${generator.name} twice`);
      target.set(generator.name, data);
    }
  }
}

/** Renders a kustomization directory (relative to the repository root). */
export function render(dir: string, into?: Rendered): Rendered {
  const out: Rendered = into ?? { objects: [], configMaps: new Map(), secrets: new Map(), files: [] };
  const file = `${dir}/kustomization.yaml`;
  out.files.push(file);
  const kustomization = parseDocuments(file)[0] as Kustomization;
  for (const entry of kustomization.resources ?? []) {
    const path = join(dir, entry);
    if (existsSync(repoPath(`${path}/kustomization.yaml`))) render(path, out);
    else {
      out.files.push(path);
      out.objects.push(...(parseDocuments(path) as K8sObject[]));
    }
  }
  for (const entry of kustomization.components ?? []) render(join(dir, entry), out);
  applyGenerators(out.configMaps, kustomization.configMapGenerator);
  applyGenerators(out.secrets, kustomization.secretGenerator);
  for (const { target, patch } of kustomization.patches ?? []) {
    const targets = out.objects.filter(
      (o) => o.kind === target.kind && (target.name === undefined || o.metadata.name === target.name),
    );
    if (targets.length === 0)
      throw new Error(`${file}: patch target ${target.kind}/${target.name} not found`);
    for (const object of targets) {
      for (const operation of parse(patch) as PatchOperation[]) {
        applyPatch(object as unknown as Record<string, unknown>, operation);
      }
    }
  }
  for (const image of kustomization.images ?? []) {
    for (const container of containers(out.objects)) {
      const [name] = splitImage(container.image);
      if (name !== image.name) continue;
      container.image = `${image.newName ?? name}:${image.newTag ?? splitImage(container.image)[1]}`;
    }
  }
  return out;
}

export function splitImage(image: string): [string, string] {
  const at = image.lastIndexOf(":");
  return at > image.lastIndexOf("/") ? [image.slice(0, at), image.slice(at + 1)] : [image, "latest"];
}

export interface Container {
  name: string;
  image: string;
  ports?: { name?: string; containerPort: number }[];
  env?: {
    name: string;
    value?: string;
    valueFrom?: {
      secretKeyRef?: { name: string; key: string };
      configMapKeyRef?: { name: string; key: string };
    };
  }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  volumeMounts?: { name: string; mountPath: string }[];
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  lifecycle?: { preStop?: { exec?: { command: string[] }; sleep?: { seconds: number } } };
}

export interface Probe {
  httpGet?: { path: string; port: string | number };
}

export function deployments(objects: K8sObject[]): K8sObject[] {
  return objects.filter((o) => o.kind === "Deployment");
}

export function deployment(objects: K8sObject[], name: string): K8sObject {
  const found = deployments(objects).find((o) => o.metadata.name === name);
  if (!found) throw new Error(`no Deployment ${name}`);
  return found;
}

export function containers(objects: K8sObject[]): Container[] {
  return deployments(objects).flatMap((d) => d.spec.template.spec.containers as Container[]);
}

/**
 * The environment a container starts with. Secret files of projected or secret volumes are
 * written under `fileRoot` and the *_FILE variables pointing at them are rewritten to match.
 */
export function containerEnvironment(
  rendered: Rendered,
  podSpec: { volumes?: unknown[] },
  container: Container,
  fileRoot: string,
): Record<string, string> {
  const env: Record<string, string> = {};
  const secretValue = (name: string, key: string) => {
    const value = rendered.secrets.get(name)?.[key];
    if (value === undefined) throw new Error(`container ${container.name}: no key ${key} in Secret ${name}`);
    return value;
  };
  for (const source of container.envFrom ?? []) {
    if (source.configMapRef) {
      const data = rendered.configMaps.get(source.configMapRef.name);
      if (!data) throw new Error(`container ${container.name}: no ConfigMap ${source.configMapRef.name}`);
      Object.assign(env, data);
    }
    if (source.secretRef) {
      const data = rendered.secrets.get(source.secretRef.name);
      if (!data) throw new Error(`container ${container.name}: no Secret ${source.secretRef.name}`);
      Object.assign(env, data);
    }
  }
  for (const entry of container.env ?? []) {
    if (entry.value !== undefined) env[entry.name] = entry.value;
    else if (entry.valueFrom?.secretKeyRef) {
      env[entry.name] = secretValue(entry.valueFrom.secretKeyRef.name, entry.valueFrom.secretKeyRef.key);
    } else if (entry.valueFrom?.configMapKeyRef) {
      const ref = entry.valueFrom.configMapKeyRef;
      const value = rendered.configMaps.get(ref.name)?.[ref.key];
      if (value === undefined)
        throw new Error(`container ${container.name}: no key ${ref.key} in ${ref.name}`);
      env[entry.name] = value;
    } else throw new Error(`container ${container.name}: env ${entry.name} has no value`);
  }
  const volumes = (podSpec.volumes ?? []) as {
    name: string;
    projected?: { sources: { secret?: { name: string; items?: { key: string; path: string }[] } }[] };
    secret?: { secretName: string; items?: { key: string; path: string }[] };
  }[];
  for (const mount of container.volumeMounts ?? []) {
    const volume = volumes.find((v) => v.name === mount.name);
    if (!volume) throw new Error(`container ${container.name}: no volume ${mount.name}`);
    const secretSources = volume.projected
      ? volume.projected.sources.flatMap((s) => (s.secret ? [s.secret] : []))
      : volume.secret
        ? [{ name: volume.secret.secretName, items: volume.secret.items }]
        : [];
    for (const source of secretSources) {
      const data = rendered.secrets.get(source.name);
      if (!data) throw new Error(`volume ${volume.name}: no Secret ${source.name}`);
      const items = source.items ?? Object.keys(data).map((key) => ({ key, path: key }));
      for (const item of items) {
        const target = join(fileRoot, mount.mountPath, item.path);
        mkdirSync(dirname(target), { recursive: true });
        writeFileSync(target, secretValue(source.name, item.key));
      }
    }
  }
  for (const [name, value] of Object.entries(env)) {
    if (!name.endsWith("_FILE")) continue;
    const mount = (container.volumeMounts ?? []).find((m) => value.startsWith(`${m.mountPath}/`));
    if (mount) env[name] = join(fileRoot, value);
  }
  return env;
}
