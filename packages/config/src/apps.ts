import type { Section } from "./schema.ts";

/**
 * The configuration sections each app reads (besides `log`, which every app reads): the one list
 * the apps load and the sandbox checks, before it starts anything, against the settings it will
 * give each of them.
 */
export const APP_SECTIONS = {
  api: [
    "redis",
    "livekit",
    "storage",
    "api",
    "profiles",
    "encoding",
    "streams",
    "recordings",
    "tenants",
    "autoRecord",
  ],
  recorder: [
    "redis",
    "livekit",
    "storage",
    "recorder",
    "profiles",
    "recordings",
    "tenants",
    "autoRecord",
    "health",
  ],
  "storage-listener": ["redis", "storage", "listener", "recordings", "health"],
  mailer: ["redis", "storage", "smtp", "mailer", "callbacks", "recordings", "tenants", "health"],
} as const satisfies Record<string, readonly Section[]>;

export type AppName = keyof typeof APP_SECTIONS;
