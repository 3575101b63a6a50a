// /openapi.json, generated from the same zod schemas the handlers validate with (schemas.ts).
import { CALLBACK_EVENTS } from "@recfleet/config";
import { z } from "zod";
import { DASHBOARD_PATH } from "./dashboard.ts";
import { PROBLEM_BASE, PROBLEM_TYPES, type ProblemType } from "./http/problem.ts";
import { WEBHOOK_PATH } from "./routes/webhooks.ts";
import { listRecordingsQuerySchema, REQUEST_COMPONENTS, RESPONSE_COMPONENTS } from "./schemas.ts";

type JsonObject = Record<string, unknown>;

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

// JSON Schema 2020-12 is OpenAPI 3.1's dialect; only the per-document keywords are dropped.
function clean(schema: JsonObject): JsonObject {
  const { $schema: _schema, $id: _id, ...rest } = schema;
  return rest;
}

const override: NonNullable<Parameters<typeof z.toJSONSchema>[1]>["override"] = ({ jsonSchema }) => {
  // zod spells out date-time as a long regex as well; the format says it.
  if (jsonSchema.format === "date-time") delete jsonSchema.pattern;
};

function componentSchemas(): Record<string, JsonObject> {
  const convert = (components: Record<string, z.ZodType>, io: "input" | "output") => {
    const registry = z.registry<{ id: string }>();
    for (const [id, schema] of Object.entries(components)) registry.add(schema, { id });
    const { schemas } = z.toJSONSchema(registry, {
      io,
      override,
      uri: (id) => `#/components/schemas/${id}`,
    });
    return Object.fromEntries(
      Object.entries(schemas).map(([id, schema]) => [id, clean(schema as JsonObject)]),
    );
  };
  return { ...convert(REQUEST_COMPONENTS, "input"), ...convert(RESPONSE_COMPONENTS, "output") };
}

function queryParameters(schema: z.ZodObject): JsonObject[] {
  return Object.entries(schema.shape).map(([name, field]) => {
    const json = clean(z.toJSONSchema(field as z.ZodType, { io: "input", override }) as JsonObject);
    const { description, ...rest } = json;
    return { name, in: "query", required: false, description, schema: rest };
  });
}

/** A response carrying an RFC 9457 problem, naming the problem types it can be. */
function problem(types: ProblemType[]): JsonObject {
  const status = PROBLEM_TYPES[types[0] as ProblemType].status;
  return {
    description: types.map((type) => `\`${type}\`: ${PROBLEM_TYPES[type].title}`).join("; "),
    headers: {
      "X-Request-Id": { $ref: "#/components/headers/X-Request-Id" },
      ...(status === 503 ? { "Retry-After": { $ref: "#/components/headers/Retry-After" } } : {}),
      ...(status === 401 ? { "WWW-Authenticate": { $ref: "#/components/headers/WWW-Authenticate" } } : {}),
      ...(status === 405 ? { Allow: { schema: { type: "string" } } } : {}),
    },
    content: { "application/problem+json": { schema: ref("Problem") } },
  };
}

const json = (name: string, description: string, headers: JsonObject = {}) => ({
  description,
  headers: { "X-Request-Id": { $ref: "#/components/headers/X-Request-Id" }, ...headers },
  content: { "application/json": { schema: ref(name) } },
});

const authErrors = {
  "401": problem(["unauthorized"]),
  "403": problem(["forbidden"]),
  "429": problem(["too-many-failed-authentications", "rate-limited"]),
  "500": problem(["internal-error"]),
};
const unavailable = { "503": problem(["service-unavailable"]) };
const recordingId = {
  name: "id",
  in: "path",
  required: true,
  description: "Recording id (UUIDv7). A malformed id is answered 404 like an unknown one.",
  schema: { type: "string" },
};
const recordingWritten = {
  Location: { description: "URL of the recording.", schema: { type: "string" } },
};

let cached: JsonObject | undefined;

/** The OpenAPI 3.1 document of the API. */
export function openApiDocument(): JsonObject {
  cached ??= {
    openapi: "3.1.0",
    info: {
      title: "recfleet API",
      version: "1.0.0",
      description: `Start and stop LiveKit room recordings. Errors are RFC 9457 problems whose types are listed at ${PROBLEM_BASE}<type> (see docs/api.md).`,
    },
    security: [{ bearerAuth: [] }],
    tags: [
      { name: "recordings" },
      { name: "callbacks" },
      { name: "profiles" },
      { name: "webhooks" },
      { name: "operations" },
    ],
    webhooks: Object.fromEntries(
      CALLBACK_EVENTS.map((event) => [
        event,
        {
          post: {
            operationId: `callback-${event}`,
            tags: ["callbacks"],
            summary: `${event}, POSTed to the tenant's callback endpoint (Standard Webhooks)`,
            description:
              "Signed per Standard Webhooks: webhook-id (one per event, kept across retries), webhook-timestamp and webhook-signature (v1, HMAC-SHA256 with the tenant's secret). Answer 2xx; network errors, timeouts (10 s), 408, 429 and 5xx are retried with exponential backoff (Retry-After honoured) for CALLBACKS_RETRY_WINDOW_MS; other answers, redirects included, are given up.",
            security: [],
            requestBody: {
              required: true,
              content: { "application/json": { schema: ref("CallbackPayload") } },
            },
            responses: { "2XX": { description: "Received." } },
          },
        },
      ]),
    ),
    paths: {
      "/v1/recordings": {
        post: {
          operationId: "createRecording",
          tags: ["recordings"],
          summary: "Start recording a room",
          description:
            "Creates a queued recording and queues its start job. If the start job cannot be queued the recording is not created (rolled back) and the answer is 503.",
          parameters: [
            {
              name: "Idempotency-Key",
              in: "header",
              required: false,
              description:
                "1–255 printable ASCII characters. The same key and body within 24 h return the same recording (Idempotent-Replayed: true); the same key with another body is answered 422.",
              schema: { type: "string", minLength: 1, maxLength: 255, pattern: "^[\\x20-\\x7e]+$" },
            },
          ],
          requestBody: {
            required: true,
            content: { "application/json": { schema: ref("CreateRecordingRequest") } },
          },
          responses: {
            "202": json("Recording", "Accepted: the recording is queued.", {
              ...recordingWritten,
              "Idempotent-Replayed": {
                description: "true when this answers a repeated Idempotency-Key.",
                schema: { type: "string", enum: ["true"] },
              },
            }),
            "400": problem(["validation-error", "malformed-json"]),
            ...authErrors,
            "409": problem(["recording-in-progress"]),
            "413": problem(["payload-too-large"]),
            "415": problem(["unsupported-media-type"]),
            "422": problem(["unknown-profile", "recipient-not-allowed", "idempotency-key-reused"]),
            ...unavailable,
          },
        },
        get: {
          operationId: "listRecordings",
          tags: ["recordings"],
          summary: "List recordings, newest first",
          parameters: queryParameters(listRecordingsQuerySchema),
          responses: {
            "200": json("RecordingList", "A page of recordings."),
            "400": problem(["validation-error"]),
            ...authErrors,
            ...unavailable,
          },
        },
      },
      "/v1/recordings/{id}": {
        get: {
          operationId: "getRecording",
          tags: ["recordings"],
          summary: "A recording with its timeline",
          parameters: [recordingId],
          responses: {
            "200": json("Recording", "The recording.", recordingWritten),
            ...authErrors,
            "404": problem(["not-found"]),
            ...unavailable,
          },
        },
        patch: {
          operationId: "updateRecording",
          tags: ["recordings"],
          summary: "Change the layout of a room composite while it records",
          parameters: [recordingId],
          requestBody: {
            required: true,
            content: { "application/json": { schema: ref("UpdateRecordingRequest") } },
          },
          responses: {
            "202": json(
              "Recording",
              "Accepted: the layout is stored and an update-layout job sends it to egress (a recording not started yet starts with it).",
            ),
            "400": problem(["validation-error", "malformed-json"]),
            ...authErrors,
            "404": problem(["not-found"]),
            "409": problem(["recording-not-in-progress"]),
            "413": problem(["payload-too-large"]),
            "415": problem(["unsupported-media-type"]),
            ...unavailable,
          },
        },
        delete: {
          operationId: "deleteRecording",
          tags: ["recordings"],
          summary:
            "Delete a recording: stop it if it runs, remove its files from storage, keep a tombstone (idempotent)",
          parameters: [recordingId],
          responses: {
            "200": json("Recording", "Already deleted: the tombstone."),
            "202": json(
              "Recording",
              "Accepted: deleteRequested is set; the files are removed once egress is done with them, then the status is deleted.",
            ),
            ...authErrors,
            "404": problem(["not-found"]),
            ...unavailable,
          },
        },
      },
      "/v1/recordings/{id}/stop": {
        post: {
          operationId: "stopRecording",
          tags: ["recordings"],
          summary: "Stop a recording (cancel it while it is still queued)",
          parameters: [recordingId],
          requestBody: {
            required: false,
            content: { "application/json": { schema: ref("StopRecordingRequest") } },
          },
          responses: {
            "202": json("Recording", "Accepted: cancelled, or a stop job is queued.", recordingWritten),
            "400": problem(["validation-error", "malformed-json"]),
            ...authErrors,
            "404": problem(["not-found"]),
            "409": problem(["recording-not-in-progress", "stop-already-requested"]),
            "413": problem(["payload-too-large"]),
            "415": problem(["unsupported-media-type"]),
            ...unavailable,
          },
        },
      },
      "/v1/recordings/{id}/shares": {
        post: {
          operationId: "createShare",
          tags: ["recordings"],
          summary: "Make a share link: a URL of the recording's watch page, shown once",
          parameters: [recordingId],
          requestBody: {
            required: false,
            content: { "application/json": { schema: ref("CreateShareRequest") } },
          },
          responses: {
            "201": json("CreatedShare", "The link, with its URL (token included) shown this once.", {
              Location: { description: "URL of the share link.", schema: { type: "string" } },
            }),
            "400": problem(["validation-error", "malformed-json"]),
            ...authErrors,
            "404": problem(["not-found"]),
            "409": problem(["recording-not-saved"]),
            ...unavailable,
          },
        },
        get: {
          operationId: "listShares",
          tags: ["recordings"],
          summary: "The recording's share links (never their tokens)",
          parameters: [recordingId],
          responses: {
            "200": json("ShareList", "Every link of the recording, oldest first."),
            ...authErrors,
            "404": problem(["not-found"]),
            ...unavailable,
          },
        },
      },
      "/v1/recordings/{id}/shares/{shareId}": {
        delete: {
          operationId: "revokeShare",
          tags: ["recordings"],
          summary: "Revoke a share link: its watch page and media stop working",
          parameters: [
            recordingId,
            {
              name: "shareId",
              in: "path",
              required: true,
              description: "The link's id (sh_…).",
              schema: { type: "string" },
            },
          ],
          responses: {
            "204": { description: "Revoked (again, for a link revoked before)." },
            ...authErrors,
            "404": problem(["not-found"]),
            ...unavailable,
          },
        },
      },
      "/v1/recordings/{id}/deliveries": {
        get: {
          operationId: "listDeliveries",
          tags: ["callbacks"],
          summary: "The recording's callback deliveries: one per event, with its attempts",
          parameters: [recordingId],
          responses: {
            "200": json(
              "DeliveryList",
              "Every event of the recording sent (or being sent) to its tenant's endpoint.",
            ),
            ...authErrors,
            "404": problem(["not-found"]),
            ...unavailable,
          },
        },
      },
      "/v1/recordings/{id}/deliveries/{deliveryId}/retry": {
        post: {
          operationId: "retryDelivery",
          tags: ["callbacks"],
          summary: "Send an event again (same webhook-id), with a fresh retry window",
          parameters: [
            recordingId,
            {
              name: "deliveryId",
              in: "path",
              required: true,
              description: "The delivery's id: the webhook-id of its event.",
              schema: { type: "string" },
            },
          ],
          responses: {
            "202": json("Delivery", "Accepted: the delivery is pending again and its job queued."),
            ...authErrors,
            "404": problem(["not-found"]),
            "409": problem(["delivery-in-progress", "no-callback"]),
            ...unavailable,
          },
        },
      },
      "/v1/profiles": {
        get: {
          operationId: "listProfiles",
          tags: ["profiles"],
          summary: "Encoding profiles with their effective settings and size estimates",
          responses: { "200": json("ProfileList", "Every profile."), ...authErrors },
        },
      },
      [WEBHOOK_PATH]: {
        post: {
          operationId: "livekitWebhook",
          tags: ["webhooks"],
          summary: "LiveKit egress webhooks",
          description:
            "Signed by LiveKit: Authorization holds a JWT (no Bearer prefix) signed with the LiveKit API secret whose sha256 claim is the base64 SHA-256 of the body.",
          security: [{ livekitWebhook: [] }],
          requestBody: {
            required: true,
            content: {
              "application/webhook+json": { schema: ref("LivekitWebhookEvent") },
              "application/json": { schema: ref("LivekitWebhookEvent") },
            },
          },
          responses: {
            "200": json("WebhookAck", "Received: applied, or ignored (unknown egress, stale event)."),
            "400": problem(["malformed-json"]),
            "401": problem(["invalid-webhook-signature"]),
            "413": problem(["payload-too-large"]),
            "415": problem(["unsupported-media-type"]),
            "500": problem(["internal-error"]),
            ...unavailable,
          },
        },
      },
      "/healthz": {
        get: {
          operationId: "health",
          tags: ["operations"],
          summary: "The process is up",
          security: [],
          responses: { "200": json("Health", "Up.") },
        },
      },
      "/readyz": {
        get: {
          operationId: "readiness",
          tags: ["operations"],
          summary: "Redis answers (each check with a timeout)",
          security: [],
          responses: {
            "200": json("Readiness", "Ready."),
            "503": problem(["service-unavailable"]),
          },
        },
      },
      "/metrics": {
        get: {
          operationId: "metrics",
          tags: ["operations"],
          summary: "Prometheus metrics",
          security: [],
          responses: {
            "200": {
              description: "Prometheus text exposition format.",
              content: { "text/plain": { schema: { type: "string" } } },
            },
          },
        },
      },
      "/openapi.json": {
        get: {
          operationId: "openapi",
          tags: ["operations"],
          summary: "This document",
          security: [],
          responses: {
            "200": {
              description: "OpenAPI 3.1.",
              content: { "application/json": { schema: { type: "object" } } },
            },
          },
        },
      },
      [DASHBOARD_PATH]: {
        get: {
          operationId: "queueDashboard",
          tags: ["operations"],
          summary: "bull-board queue dashboard (404 unless DASHBOARD_USER and DASHBOARD_PASSWORD are set)",
          security: [{ dashboardBasic: [] }],
          responses: {
            "200": {
              description: "The dashboard.",
              content: { "text/html": { schema: { type: "string" } } },
            },
            "401": problem(["unauthorized"]),
            "404": problem(["not-found"]),
          },
        },
      },
    },
    components: {
      securitySchemes: {
        bearerAuth: {
          type: "http",
          scheme: "bearer",
          description: "One of the API_KEYS, as 'Authorization: Bearer <key>'.",
        },
        dashboardBasic: {
          type: "http",
          scheme: "basic",
          description: "DASHBOARD_USER / DASHBOARD_PASSWORD.",
        },
        livekitWebhook: {
          type: "apiKey",
          in: "header",
          name: "Authorization",
          description: "A JWT signed by LiveKit with the API secret (LIVEKIT_API_KEY / LIVEKIT_API_SECRET).",
        },
      },
      headers: {
        "X-Request-Id": {
          description:
            "The request's id: the one sent (up to 128 of A-Z a-z 0-9 . _ : -) or a generated one.",
          schema: { type: "string" },
        },
        "Retry-After": { description: "Seconds to wait before retrying.", schema: { type: "integer" } },
        "WWW-Authenticate": { description: "The authentication challenge.", schema: { type: "string" } },
      },
      schemas: componentSchemas(),
    },
  };
  return cached;
}
