import { loadConfig, schema } from "@recfleet/config";
import { isFinal, isInProgress } from "@recfleet/recordings";
import { ApiClient } from "../api-client.ts";
import { createRecording, runLifecycle, runPool, sleep, stopRecording } from "../driver.ts";
import type { ChaosFleet } from "../fleet.ts";
import { acceptedRecordingProblems, tenantFileProblems } from "../fuzz/acceptance.ts";
import { type FuzzTarget, nextRequest } from "../fuzz/generator.ts";
import { type RawAnswer, sendRaw } from "../fuzz/raw-http.ts";
import { hostileTenantFiles } from "../fuzz/tenant-files.ts";
import type { Expectation } from "../invariants.ts";
import type { Profile } from "../profile.ts";
import { driverProblems, type Scenario, ScenarioRun } from "../scenario.ts";

/** A complete request the API has not answered after this long is hanging. */
const ANSWER_TIMEOUT_MS = 15_000;
/** A request left incomplete on purpose is given this long before the fuzzer hangs up. */
const INCOMPLETE_TIMEOUT_MS = 2_000;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Thousands of malformed and hostile requests, reproducible from the seed: broken JSON, wrong
 * types, huge and deeply nested bodies, control characters and surrogates, path and query
 * tricks, wrong credentials, methods and content types, abused headers and raw protocol junk.
 * The API must answer each with a 4xx (or, for the few valid ones, a 2xx), never a 5xx, never
 * crash, and still record normally afterwards.
 */
export const apiFuzz: Scenario = {
  name: "api-fuzz",
  title: "malformed and hostile requests against the API",
  behaviour:
    "hostile and malformed requests get no 5xx, do not crash the API, and a normal recording still completes",
  async run(fleet: ChaosFleet, profile: Profile) {
    const settings = profile.apiFuzz;
    const run = new ScenarioRun(fleet, profile, this.name, this.title);
    await run.begin();
    const { api } = fleet;
    const { watch } = run;
    const { info } = fleet.test;
    const [victimSpec, normalSpec] = await run.specs(2);
    if (!victimSpec || !normalSpec) throw new Error("no specs");
    // A real recording, so that the id routes (GET, stop) have something to aim at.
    const victimId = (await createRecording(api, victimSpec, profile.settleMs)).id;
    await watch.waitFor(
      victimId,
      (r) => r.status === "active" || isFinal(r.status),
      profile.settleMs,
      "active",
    );
    const pidBefore = fleet.pidOf("api");

    const url = new URL(info.apiUrl);
    const target: FuzzTarget = {
      host: url.host,
      apiKey: info.apiKey,
      dashboard: { user: info.dashboardUser, password: info.dashboardPassword },
      victimId,
    };
    const random = run.random.fork("requests");
    run.log(
      `${settings.requests} requests from seed ${profile.seed} (stream "requests" of scenario ${this.name})`,
    );
    const byCategory: Record<string, Record<string, number>> = {};
    const serverErrors: string[] = [];
    const hangs: string[] = [];
    const refused: string[] = [];
    const created = new Set<string>();
    let notProblemJson = 0;
    let guesses = 0;
    const guessAnswers: Record<string, number> = {};
    const started = Date.now();
    await runPool(
      Array.from({ length: settings.requests }, (_, i) => i),
      settings.concurrency,
      async (index) => {
        // Drawn in index order (the pool hands indices out in order), so the seed fixes every byte.
        const request = nextRequest(random, target);
        const answer: RawAnswer = await sendRaw(
          url.hostname,
          Number(url.port),
          request,
          request.incomplete ? INCOMPLETE_TIMEOUT_MS : ANSWER_TIMEOUT_MS,
        );
        const key = answer.status === null ? `no answer (${answer.error})` : String(answer.status);
        const counts = byCategory[request.category] ?? {};
        counts[key] = (counts[key] ?? 0) + 1;
        byCategory[request.category] = counts;
        const what = `#${index} [${request.category}] ${request.label}`;
        if (request.guess) {
          guesses += 1;
          guessAnswers[key] = (guessAnswers[key] ?? 0) + 1;
        }
        if (answer.status !== null && answer.status >= 500) {
          serverErrors.push(`${what} → ${answer.status} ${answer.body.slice(0, 200)}`);
        }
        if (answer.error === "ECONNREFUSED") refused.push(what);
        if (answer.error === "timeout" && !request.incomplete)
          hangs.push(`${what}: no answer in ${answer.ms} ms`);
        if (answer.status !== null && answer.status >= 400 && answer.headers["content-type"]) {
          if (!answer.headers["content-type"].startsWith("application/problem+json")) notProblemJson += 1;
        }
        if (answer.status === 202 && request.label.startsWith("POST /v1/recordings")) {
          try {
            const id = (JSON.parse(answer.body) as { id?: string }).id;
            if (id && id !== victimId) created.add(id);
          } catch {
            // a 202 from the stop route carries the victim, already known
          }
        }
        if ((index + 1) % 500 === 0) run.log(`${index + 1} requests sent`);
      },
    );
    const fuzzMs = Date.now() - started;
    run.log(
      `${settings.requests} requests in ${fuzzMs} ms; ${created.size} were valid and created a recording`,
    );

    const pidAfter = fleet.pidOf("api");
    const health = await fetch(`${info.apiUrl}/healthz`, { signal: AbortSignal.timeout(5000) })
      .then((response) => response.status)
      .catch((error: Error) => error.message);
    run.addCheck(
      "the API answers no 5xx to hostile requests",
      serverErrors,
      `no 5xx among ${settings.requests} requests`,
    );
    // Every guess comes from the guessers' address: at most API_AUTH_FAILURE_LIMIT of them are
    // answered 401, every later one 429 (counted atomically in Redis, whatever the concurrency).
    const guessLimit = (schema.api.authFailureLimit as { default: number }).default;
    run.addCheck(
      "key guessing is throttled (429 past the limit) and never let in",
      [
        ...((guessAnswers["401"] ?? 0) > guessLimit
          ? [`${guessAnswers["401"]} guesses answered 401, more than ${guessLimit}`]
          : []),
        ...(guesses > guessLimit && (guessAnswers["429"] ?? 0) === 0
          ? [`${guesses} guesses, none answered 429`]
          : []),
        ...Object.entries(guessAnswers)
          .filter(([status]) => status !== "401" && status !== "429")
          .map(([status, count]) => `${count} guesses answered ${status}`),
      ],
      `${guesses} guesses: ${JSON.stringify(guessAnswers)}`,
    );
    run.addCheck(
      "the API stays up in the same process, and never hangs",
      [
        ...(pidBefore !== undefined && pidBefore === pidAfter && isAlive(pidBefore)
          ? []
          : [
              `api pid before ${pidBefore}, after ${pidAfter} (alive: ${pidAfter ? isAlive(pidAfter) : "?"})`,
            ]),
        ...(health === 200 ? [] : [`GET /healthz answered ${health}`]),
        ...refused.map((what) => `connection refused: ${what}`),
        ...hangs,
      ],
      `pid ${pidAfter} throughout, /healthz 200`,
    );

    // Every recording of a fuzzed room, seen in its answer or not (a replayed or odd request may
    // have created one whose 202 was not parsed), must end like any other.
    for (const status of ["queued", "starting", "active", "stopping"] as const) {
      for (const id of await fleet.store.idsInStatus(status)) {
        if ((await fleet.store.get(id))?.room.startsWith("fuzz-")) created.add(id);
      }
    }
    // The fuzzer's rooms do not exist in LiveKit: those wait for their room until stopped.
    const fuzzed = [victimId, ...created];
    await runPool(fuzzed, 8, async (id) => {
      const current = await fleet.store.get(id);
      if (current && isInProgress(current.status) && !current.stopRequested) {
        await stopRecording(api, id, profile.settleMs).catch(() => undefined);
      }
      await watch.waitFor(id, (r) => isFinal(r.status), profile.settleMs, "final").catch(() => undefined);
    });
    // Nothing the docs refuse was accepted: overrides within the rules and bounds, no template.
    const bounds = loadConfig(["encoding"], profile.fleetEnv).encoding;
    const acceptance: string[] = [];
    let withEncoding = 0;
    for (const id of created) {
      const recording = await fleet.store.get(id);
      if (!recording) continue;
      if (recording.encoding !== null) withEncoding += 1;
      acceptance.push(...acceptedRecordingProblems(recording, bounds));
    }
    run.addCheck(
      "nothing accepted that the docs refuse (encoding overrides, layouts, templates)",
      acceptance,
      `${created.size} created, ${withEncoding} with encoding overrides, all within the rules`,
    );

    // Hostile tenant files, loaded as the API and the mailer load them at start.
    const files = tenantFileProblems(
      hostileTenantFiles(run.random.fork("tenant-files"), settings.tenantFiles),
    );
    run.addCheck(
      "hostile tenant files are refused naming TENANTS_FILE, never crash, never echo a secret",
      files.problems,
      `${settings.tenantFiles} files: ${files.refused} refusals, ${files.accepted} accepted within the rules, slowest ${files.slowestMs} ms`,
    );
    run.metrics.tenantFiles = settings.tenantFiles;

    // Tenants whose callbacks aim at the fleet's own machine, metadata and private ranges: each
    // event's delivery is refused, and nothing connects to the canary on loopback.
    const ssrfIds: string[] = [];
    const ssrfProblems: string[] = [];
    await runPool(fleet.ssrf.tenants, 4, async (tenant, index) => {
      const client = new ApiClient(info.apiUrl, tenant.key);
      const { id } = await createRecording(
        client,
        { ...normalSpec, room: `chaos-ssrf-${index}-${profile.seed}` },
        profile.settleMs,
      );
      ssrfIds.push(id);
      await stopRecording(client, id, profile.settleMs);
      await watch.waitFor(id, (r) => isFinal(r.status), profile.settleMs, "final").catch(() => undefined);
      const deadline = Date.now() + profile.settleMs;
      for (;;) {
        const answer = await client.request<{
          items: { event: string; state: string; attempts: { outcome: string; error: string | null }[] }[];
        }>("GET", `/v1/recordings/${id}/deliveries`);
        const items = answer.body?.items ?? [];
        if (items.length > 0 && items.every((item) => item.state !== "pending")) {
          for (const item of items) {
            const attempts = item.attempts.map((attempt) => attempt.outcome);
            if (item.state !== "failed" || attempts.some((outcome) => outcome !== "refused")) {
              ssrfProblems.push(`${tenant.url} ${item.event}: ${item.state}, attempts ${attempts.join(",")}`);
            }
          }
          break;
        }
        if (Date.now() > deadline) {
          ssrfProblems.push(
            `${tenant.url}: deliveries ${JSON.stringify(items).slice(0, 200)} after ${profile.settleMs} ms`,
          );
          break;
        }
        await sleep(250);
      }
    });
    if (fleet.ssrf.connections() > 0)
      ssrfProblems.push(`the canary on loopback got ${fleet.ssrf.connections()} connections`);
    run.addCheck(
      "callbacks to loopback, metadata and private addresses are refused without connecting",
      ssrfProblems,
      `${fleet.ssrf.tenants.length} hostile callback URLs refused; the canary got no connection`,
    );

    // And the service still records normally.
    const normal = await runLifecycle(normalSpec, {
      api,
      watch,
      random: run.random.fork("normal"),
      holdMs: [500, 1000],
      activeTimeoutMs: profile.settleMs,
      settleMs: profile.settleMs,
    });
    run.addCheck("a normal recording completes after the fuzzing", driverProblems([normal]), "completed");

    run.faults.requests = settings.requests;
    run.metrics.requests = settings.requests;
    run.metrics.fuzzMs = fuzzMs;
    run.metrics.validCreates = created.size;
    run.metrics.errorsNotProblemJson = notProblemJson;
    const statuses: Record<string, number> = {};
    for (const counts of Object.values(byCategory)) {
      for (const [status, count] of Object.entries(counts))
        statuses[status] = (statuses[status] ?? 0) + count;
    }
    run.metrics.answers = Object.entries(statuses)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([status, count]) => `${status}:${count}`)
      .join(",");
    run.faults.byCategory = byCategory;
    const expectations: Expectation[] = [
      // A fuzzed DELETE of the victim is a valid request: deleted is as right as notified.
      { id: victimId, room: victimSpec.room, accept: [{ status: "notified" }, { status: "deleted" }] },
      ...[...created].map(
        (id): Expectation => ({
          id,
          room: "(created by a fuzzed request)",
          accept: [{ status: "notified" }, { status: "cancelled" }, { status: "deleted" }],
        }),
      ),
      ...(normal.id
        ? [{ id: normal.id, room: normalSpec.room, accept: [{ status: "notified" as const }] }]
        : []),
      ...ssrfIds.map(
        (id): Expectation => ({
          id,
          room: "(a tenant with a hostile callback URL)",
          accept: [{ status: "notified" }, { status: "cancelled" }],
        }),
      ),
    ];
    const ssrfRecordings = new Set(ssrfIds);
    return run.finish(expectations, (job) =>
      job.name === "callback" &&
      job.recordingId !== null &&
      ssrfRecordings.has(job.recordingId) &&
      job.failedReason?.startsWith("callback refused:")
        ? "a callback to a hostile target, refused by the SSRF checks as it must be"
        : undefined,
    );
  },
};
