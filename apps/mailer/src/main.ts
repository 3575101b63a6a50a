import { APP_SECTIONS, loadTenants } from "@recfleet/config";
import { checkEvictionPolicy, createRedisConnection, JobProducer } from "@recfleet/queues";
import { DeliveryLog, RecordingStore, recordingKeys, ShareStore } from "@recfleet/recordings";
import { createMetricsRegistry, runApp, startHealthServer } from "@recfleet/runtime";
import { CallbackDispatcher } from "./callbacks/dispatcher.ts";
import type { MailerContext } from "./context.ts";
import { createDownloadLinks } from "./links.ts";
import { createMailerMetrics } from "./metrics.ts";
import type { Language } from "./render/index.ts";
import { DEFAULT_BACKOFF } from "./retry.ts";
import { markerTtlSeconds, SentMarkers } from "./sent-marker.ts";
import { createMailTransport, smtpReadiness } from "./transport.ts";
import { closeWorker, createMailerWorker } from "./worker.ts";

// In-flight sends get this long at shutdown before they are aborted (and retried later); it
// stays under the lifecycle's 30 s per step.
const graceOf = (smtpTimeoutMs: number) => Math.min(smtpTimeoutMs, 20_000);

await runApp({
  name: "mailer",
  sections: APP_SECTIONS.mailer,
  shutdownDeadlineMs: (config) => graceOf(config.smtp.timeoutMs) + 15_000,
  start: async ({ config, logger, lifecycle }) => {
    const { prefix } = config.redis;
    // Checked first: a bad template or public URL exits 78 before anything is opened. Watch-page
    // links are kept in Redis, opened below, before any email is sent.
    const links = createDownloadLinks(config.storage, config.mailer, () => shares);
    // Only callbacks are read here; the API checks the keys.
    const tenants = loadTenants({ apiKeys: [], file: config.tenants.file, requireKeys: false });
    const withCallback = tenants.tenants.filter((tenant) => tenant.callback !== null);
    // Events of a tenant the mailer does not know are dropped: say at start which ones it serves.
    logger.info(
      { tenantsWithCallbacks: withCallback.map((tenant) => tenant.name) },
      config.tenants.file === ""
        ? "no TENANTS_FILE: tenant callbacks are off"
        : `callbacks on for ${withCallback.length} tenant(s)`,
    );
    if (withCallback.length > 0 && config.callbacks.allowPrivateTargets) {
      logger.warn(
        "CALLBACKS_ALLOW_PRIVATE_TARGETS is on: tenant callbacks may reach loopback and private addresses",
      );
    }

    const client = createRedisConnection("client", config.redis, logger);
    lifecycle.add("redis (store)", () => client.quit());
    const workerConnection = createRedisConnection("worker", config.redis, logger);
    lifecycle.add("redis (worker)", () => workerConnection.quit());
    await checkEvictionPolicy(client, logger);
    const shares = new ShareStore({ redis: client, prefix });

    const transport = createMailTransport(config.smtp, logger);
    lifecycle.add("smtp pool", () => transport.close());
    const registry = createMetricsRegistry("mailer");
    const shutdown = new AbortController();
    const context: MailerContext = {
      store: new RecordingStore({ redis: client, prefix, retentionDays: config.recordings.retentionDays }),
      transport,
      links,
      markers: new SentMarkers(client, prefix, markerTtlSeconds(config.recordings.retentionDays)),
      metrics: createMailerMetrics(registry),
      logger,
      from: config.smtp.from,
      render: { defaultLanguage: config.mailer.locale as Language, timeZone: config.mailer.timeZone },
      retry: { windowMs: config.mailer.retryWindowMs, backoff: DEFAULT_BACKOFF },
      // Connecting, greeting and each read have SMTP_TIMEOUT_MS; the whole send gets three of them.
      sendTimeoutMs: config.smtp.timeoutMs * 3,
      shutdownSignal: shutdown.signal,
      now: Date.now,
      callbacks: {
        tenants,
        deliveries: new DeliveryLog(client, prefix, config.recordings.retentionDays * 24 * 60 * 60 * 1000),
        config: config.callbacks,
      },
    };

    const checkTimeoutMs = Math.min(config.smtp.timeoutMs, 5000);
    const health = await startHealthServer({
      ...config.health,
      logger,
      registry,
      checkTimeoutMs: checkTimeoutMs + 500,
      checks: {
        redis: () => client.ping(),
        smtp: smtpReadiness(transport, checkTimeoutMs),
      },
      status: () => ({
        linkMode: links.mode,
        pendingEmails: transport.pending(),
        tenantsWithCallbacks: withCallback.length,
      }),
    });
    lifecycle.add("health endpoint", () => health.close());

    const producerConnection = createRedisConnection("producer", config.redis, logger);
    lifecycle.add("redis (producer)", () => producerConnection.quit());
    const producer = new JobProducer(producerConnection, prefix);
    lifecycle.add("job producer", () => producer.close());
    const streamConnection = createRedisConnection("worker", config.redis, logger);
    // A blocked read would hold QUIT back: the dispatcher has stopped reading by then.
    lifecycle.add("redis (event stream)", () => streamConnection.disconnect());
    const dispatcher = new CallbackDispatcher({
      connection: streamConnection,
      stream: recordingKeys(prefix).events,
      producer,
      tenants,
      logger,
    });
    dispatcher.start();
    lifecycle.add("callback dispatcher", () => dispatcher.stop());

    const worker = createMailerWorker(context, {
      connection: workerConnection,
      prefix,
      concurrency: config.mailer.concurrency,
      logger,
    });
    lifecycle.add("worker", () =>
      closeWorker(worker, graceOf(config.smtp.timeoutMs), () => shutdown.abort(), logger),
    );
  },
});
