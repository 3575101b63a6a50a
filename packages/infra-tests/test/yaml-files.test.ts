// Every YAML file of infra/ parses, every document of it.
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { readRepoFile, repoPath, repoRoot } from "../scripts/repo.ts";

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return yamlFiles(path);
    return /\.ya?ml$/.test(entry) ? [relative(repoRoot, path)] : [];
  });
}

const files = yamlFiles(repoPath("infra"));

describe("YAML files of infra/", () => {
  it("finds the compose, Kubernetes and Prometheus files", () => {
    for (const expected of [
      "infra/compose/docker-compose.yml",
      "infra/k8s/base/kustomization.yaml",
      "infra/k8s/overlays/example/kustomization.yaml",
      "infra/prometheus/alerts.yml",
    ]) {
      expect(files).toContain(expected);
    }
  });

  for (const file of files) {
    it(`${file} parses`, () => {
      const documents = parseAllDocuments(readRepoFile(file), { merge: true });
      expect(documents.length).toBeGreaterThan(0);
      for (const document of documents) {
        expect(document.errors.map((e) => e.message)).toEqual([]);
        expect(document.warnings.map((w) => w.message)).toEqual([]);
        expect(document.toJS()).toBeTypeOf("object");
      }
    });
  }

  it("every Kubernetes object names its apiVersion, kind and metadata.name", () => {
    for (const file of files.filter(
      (f) =>
        f.startsWith("infra/k8s/") &&
        !f.endsWith("kustomization.yaml") &&
        !f.endsWith("kustomizeconfig.yaml"),
    )) {
      for (const document of parseAllDocuments(readRepoFile(file))) {
        const object = document.toJS() as {
          apiVersion?: string;
          kind?: string;
          metadata?: { name?: string };
        };
        expect(object.apiVersion, file).toBeTruthy();
        expect(object.kind, file).toBeTruthy();
        expect(object.metadata?.name, file).toBeTruthy();
      }
    }
  });
});
