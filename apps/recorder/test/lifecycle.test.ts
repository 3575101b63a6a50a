import { appLifecycleSuite } from "@recfleet/testing";

appLifecycleSuite("recorder", new URL("../src/main.ts", import.meta.url), {
  HEALTH_PORT: "0",
  LIVEKIT_API_KEY: "APIkey",
  LIVEKIT_API_SECRET: "secret-0123456789",
  STORAGE_ACCESS_KEY: "minio",
  STORAGE_SECRET_KEY: "minio-secret",
});
