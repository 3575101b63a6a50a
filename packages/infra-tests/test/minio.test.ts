// The MinIO users of the compose stack: each policy grants one role what it needs and nothing else.
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { readRepoFile, repoPath } from "../scripts/repo.ts";

interface Statement {
  Effect: string;
  Action: string[];
  Resource: string[];
}

const env = { PATH: process.env.PATH ?? "", STORAGE_BUCKET: "recordings", STORAGE_PREFIX: "recordings" };

function policy(role: string): Statement[] {
  const result = spawnSync("sh", [repoPath("infra/compose/minio/policies.sh"), role], {
    env,
    encoding: "utf8",
  });
  if (result.status !== 0) throw new Error(`policies.sh ${role}: ${result.stderr}`);
  return (JSON.parse(result.stdout) as { Statement: Statement[] }).Statement;
}

function allowed(statements: Statement[]): Map<string, string[]> {
  const byAction = new Map<string, string[]>();
  for (const statement of statements) {
    expect(statement.Effect).toBe("Allow");
    for (const action of statement.Action)
      byAction.set(action, [...(byAction.get(action) ?? []), ...statement.Resource]);
  }
  return byAction;
}

const BUCKET = "arn:aws:s3:::recordings";
const FILES = "arn:aws:s3:::recordings/recordings/*";

describe("MinIO policies", () => {
  it("the listener may listen, list and read recording files — not write", () => {
    const actions = allowed(policy("listener"));
    expect([...actions.keys()].sort()).toEqual([
      "s3:GetObject",
      "s3:ListBucket",
      "s3:ListenBucketNotification",
    ]);
    expect(actions.get("s3:ListenBucketNotification")).toEqual([BUCKET]);
    expect(actions.get("s3:GetObject")).toEqual([FILES]);
  });

  it("egress may upload recording files (single or multipart) — not read or list them", () => {
    const actions = allowed(policy("egress-upload"));
    expect([...actions.keys()].sort()).toEqual([
      "s3:AbortMultipartUpload",
      "s3:ListBucketMultipartUploads",
      "s3:ListMultipartUploadParts",
      "s3:PutObject",
    ]);
    expect(actions.get("s3:PutObject")).toEqual([FILES]);
  });

  it("the recorder may read recording files and delete them (deleted and expired recordings) — not write", () => {
    const actions = allowed(policy("recorder"));
    expect([...actions.keys()].sort()).toEqual(["s3:DeleteObject", "s3:GetObject", "s3:ListBucket"]);
    expect(actions.get("s3:DeleteObject")).toEqual([FILES]);
  });

  it("the mailer's reader may read recording files — not write or delete", () => {
    const actions = allowed(policy("reader"));
    expect([...actions.keys()].sort()).toEqual(["s3:GetObject", "s3:ListBucket"]);
    expect(actions.get("s3:GetObject")).toEqual([FILES]);
  });

  it("an unknown role and a missing bucket are refused", () => {
    const unknown = spawnSync("sh", [repoPath("infra/compose/minio/policies.sh"), "admin"], {
      env,
      encoding: "utf8",
    });
    expect(unknown.status).toBe(2);
    const noBucket = spawnSync("sh", [repoPath("infra/compose/minio/policies.sh"), "reader"], {
      env: { PATH: env.PATH, STORAGE_PREFIX: "recordings" },
      encoding: "utf8",
    });
    expect(noBucket.status).not.toBe(0);
    expect(noBucket.stderr).toContain("STORAGE_BUCKET");
  });

  it("setup.sh is valid shell, creates every policy and no lifecycle rule (recfleet expires files itself), one policy per user", () => {
    expect(spawnSync("sh", ["-n", repoPath("infra/compose/minio/setup.sh")]).status).toBe(0);
    const setup = readRepoFile("infra/compose/minio/setup.sh");
    expect(setup).toContain("for policy in listener egress-upload reader recorder; do");
    expect(setup).not.toContain("mc ilm");
    const users = [
      ...setup.matchAll(
        /^add_user "\$\{(\w+)_ACCESS_KEY:\?\}" "\$\{(\w+)_SECRET_KEY:\?\}" (recfleet-[\w-]+)$/gm,
      ),
    ];
    expect(users.map((m) => [m[1], m[3]])).toEqual([
      ["MINIO_LISTENER", "recfleet-listener"],
      ["MINIO_EGRESS", "recfleet-egress-upload"],
      ["MINIO_RECORDER", "recfleet-recorder"],
      ["MINIO_MAILER", "recfleet-reader"],
      ["MINIO_API", "recfleet-reader"],
    ]);
  });
});
