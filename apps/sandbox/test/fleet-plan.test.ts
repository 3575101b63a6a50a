// The plan of `npm start`: the emulators on the ports people know (fixed, so that links survive
// a restart), or on free ports where the harness asks for them.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DEFAULT_PORTS, planFleet } from "../src/fleet.ts";
import { prepareState } from "../src/state.ts";

function options(ports?: typeof DEFAULT_PORTS) {
  const state = prepareState({ SANDBOX_DIR: mkdtempSync(join(tmpdir(), "sandbox-plan-")) }, false);
  return {
    state,
    apiPort: 8080,
    apiKeys: "k".repeat(32),
    apiKey: "k".repeat(32),
    secrets: { livekit: "l".repeat(32), s3: "s".repeat(32), dashboard: "d".repeat(12) },
    logLevel: "info",
    autoRoom: false,
    ...(ports ? { ports } : {}),
  };
}

describe("the sandbox's ports", () => {
  it("puts the emulators on LiveKit's 7880, MinIO's 9000, a mail catcher's 1025 and 8025 and RTMP's 1935", async () => {
    const { info, specs } = await planFleet(options(DEFAULT_PORTS));
    expect(info.livekit.url).toBe("http://127.0.0.1:7880");
    expect(info.s3.port).toBe(9000);
    expect(info.mailUrl).toBe("http://127.0.0.1:8025/");
    const smtp = specs.find((spec) => spec.name === "smtp");
    expect(smtp?.args.join(" ")).toContain("--smtp-port=1025");
    expect(specs.find((spec) => spec.name === "mailer")?.env?.SMTP_PORT).toBe("1025");
    expect(info.rtmpIngestUrl).toBe("rtmp://127.0.0.1:1935/live");
    expect(specs.find((spec) => spec.name === "livekit")?.args.join(" ")).toContain(
      "--rtmp-ingest-port=1935",
    );
  });

  it("draws free ports when none are fixed (tests, parallel suites)", async () => {
    const { info } = await planFleet(options());
    const used = [
      info.s3.port,
      Number(new URL(info.livekit.url).port),
      Number(new URL(info.mailUrl).port),
      Number(new URL(info.rtmpIngestUrl).port),
    ];
    for (const port of used) expect(Object.values(DEFAULT_PORTS)).not.toContain(port);
  });
});
