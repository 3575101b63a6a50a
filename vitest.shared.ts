// The one vitest setup every package uses: tests import workspace packages from their TypeScript
// sources (the "@recfleet/source" export condition), exactly like `tsc` does for typechecking.
import { defineConfig, mergeConfig, type ViteUserConfig } from "vitest/config";
import { scaled } from "./packages/testing/src/time.ts";

const sourceCondition = ["@recfleet/source"];

export function packageConfig(overrides: ViteUserConfig = {}): ViteUserConfig {
  return mergeConfig(
    defineConfig({
      resolve: { conditions: sourceCondition },
      ssr: { resolve: { conditions: sourceCondition, externalConditions: sourceCondition } },
      test: {
        include: ["src/**/*.test.ts", "test/**/*.test.ts"],
        // TEST_TIME_SCALE stretches these on slow machines, like every wait in the tests.
        testTimeout: scaled(30_000),
        hookTimeout: scaled(60_000),
        // Two cores: integration tests start servers and child processes of their own.
        maxWorkers: 2,
      },
    }),
    overrides,
  );
}
