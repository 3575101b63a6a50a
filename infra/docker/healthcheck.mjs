// The image's HEALTHCHECK: GET /healthz of this container's app and exit 0 on a 200, 1 otherwise.
// Slim images have no curl; Node's fetch does the job. The api serves /healthz on PORT, the
// workers on HEALTH_PORT (the same defaults as the config schema).
const DEFAULT_PORTS = { api: { env: "PORT", port: 8080 }, worker: { env: "HEALTH_PORT", port: 9464 } };

// biome-ignore lint/suspicious/noUndeclaredEnvVars: read by the image HEALTHCHECK at run time, no turbo task
const app = process.env.RECFLEET_APP ?? "";
const { env, port: fallback } = app === "api" ? DEFAULT_PORTS.api : DEFAULT_PORTS.worker;
const port = process.env[env] || String(fallback);
// biome-ignore lint/suspicious/noUndeclaredEnvVars: read by the image HEALTHCHECK at run time, no turbo task
const timeoutMs = Number(process.env.HEALTHCHECK_TIMEOUT_MS || 3000);
const url = `http://127.0.0.1:${port}/healthz`;

try {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  await response.body?.cancel();
  if (response.status !== 200) {
    process.stderr.write(`healthcheck: ${url} answered ${response.status}\n`);
    process.exit(1);
  }
  process.exit(0);
} catch (error) {
  const reason = error instanceof Error ? (error.cause?.code ?? error.name) : String(error);
  process.stderr.write(`healthcheck: ${url} failed (${reason})\n`);
  process.exit(1);
}
