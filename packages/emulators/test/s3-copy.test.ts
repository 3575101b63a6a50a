// Server-side copies whose source goes away under them.
import { readdirSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestS3, type TestS3 } from "./s3-support.ts";

let s3: TestS3;

beforeAll(async () => {
  s3 = await startTestS3({ buckets: ["copies"] });
});
afterAll(async () => {
  await s3?.close();
});

describe("CopyObject", () => {
  it("answers NoSuchKey, not a 500, when the source's bytes are gone between lookup and read", async () => {
    await s3.client.putObject("copies", "source.bin", Buffer.from("bytes"), 5);
    // The bytes vanish behind the emulator's back (as when a delete races the copy).
    const objects = join(s3.dataDir, "buckets", "copies", "objects");
    for (const file of readdirSync(objects).filter((name) => name.endsWith(".data")))
      unlinkSync(join(objects, file));
    const copied = await fetch(await s3.client.presignedUrl("PUT", "copies", "copy.bin", 60), {
      method: "PUT",
      headers: { "x-amz-copy-source": "/copies/source.bin" },
    });
    expect(copied.status).toBe(404);
    expect(await copied.text()).toContain("<Code>NoSuchKey</Code>");
  });
});
