import { appLifecycleSuite } from "@recfleet/testing";

appLifecycleSuite("mailer", new URL("../src/main.ts", import.meta.url), {
  HEALTH_PORT: "0",
  STORAGE_ACCESS_KEY: "minio",
  STORAGE_SECRET_KEY: "minio-secret",
});
