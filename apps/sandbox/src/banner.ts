import { isAbsolute, relative } from "node:path";
import type { SandboxInfo } from "./state.ts";

/** The banner's widest line: it must fit an 80-column terminal, copy-paste included. */
export const BANNER_WIDTH = 80;

/** The one message a new user reads: where everything is and how to try it. */
export function renderBanner(info: SandboxInfo, stateDir: string, cwd = process.cwd()): string {
  // A path relative to where the user is when it lies below, else absolute.
  const shown = (path: string) => {
    const near = relative(cwd, path);
    return near !== "" && !near.startsWith("..") && !isAbsolute(near) ? near : path;
  };
  const lines = [
    "recfleet sandbox is ready",
    "",
    `  API        ${info.apiUrl}   (OpenAPI: /openapi.json)`,
    `  API key    ${info.apiKey}`,
    `  Dashboard  ${info.dashboardUrl}`,
    `             user ${info.dashboardUser}, password ${info.dashboardPassword}`,
    `  Mail       ${info.mailUrl}`,
    `             .eml files in ${shown(info.mailDir)}`,
    `  S3         http://${info.s3.endpoint}:${info.s3.port}   bucket ${info.s3.bucket}`,
    `             access key ${info.s3.accessKey}, secret key in sandbox.json`,
    `             browse it: http://${info.s3.endpoint}:${info.s3.port}/_browse`,
    `  LiveKit    ${info.livekit.url}   API key ${info.livekit.apiKey}`,
    "             API secret in sandbox.json",
    `  RTMP       ${info.rtmpIngestUrl}/<key>   (any stream key is taken)`,
    `  Logs       ${shown(info.logs)}`,
    `  State      ${shown(stateDir)}   (npm start -- --fresh wipes it)`,
    "",
    "  In another shell:",
    `    API=${info.apiUrl} KEY=${info.apiKey}`,
    "  Start a recording:",
    `    curl -sS -X POST "$API/v1/recordings" -H "Authorization: Bearer $KEY" \\`,
    `      -H "Content-Type: application/json" \\`,
    `      -d '{"room":"demo-room","notify":{"email":"you@example.com"}}'`,
    "  Stop it (the id is in the answer):",
    `    curl -sS -X POST "$API/v1/recordings/<id>/stop" \\`,
    `      -H "Authorization: Bearer $KEY"`,
    ...(info.livekit.autoRoom
      ? [
          "  The room opens by itself, with sandbox-speaker publishing",
          "  (SANDBOX_AUTO_ROOM=false turns that off).",
        ]
      : []),
    "  People in a room, as LiveKit clients: join and publish, mute, leave:",
    `    LK=${info.livekit.url}/_admin/rooms/demo-room/participants`,
    `    curl -sS -X POST "$LK" -d '{"identity":"ann","publish":["camera"]}'`,
    `    curl -sS -X PATCH "$LK/ann/tracks/camera" -d '{"muted":true}'`,
    `    curl -sS -X DELETE "$LK/ann"`,
    "  Or the scripted demo:  npm run demo",
    "",
    "  Ctrl-C stops everything.",
  ];
  // No box around the lines: the curl commands must copy-paste cleanly.
  const rule = "━".repeat(Math.min(BANNER_WIDTH, Math.max(...lines.map((line) => line.length))));
  return [rule, ...lines, rule].join("\n");
}
