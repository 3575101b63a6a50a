import type { SandboxInfo } from "./state.ts";

/** The one message a new user reads: where everything is and how to try it. */
export function renderBanner(info: SandboxInfo, stateDir: string): string {
  const startCurl = [
    `curl -sS -X POST ${info.apiUrl}/v1/recordings \\`,
    `  -H "Authorization: Bearer ${info.apiKey}" -H "Content-Type: application/json" \\`,
    `  -d '{"room":"demo-room","profile":"low-cpu","notify":{"email":"you@example.com"}}'`,
  ];
  const stopCurl = [
    `curl -sS -X POST ${info.apiUrl}/v1/recordings/<id>/stop \\`,
    `  -H "Authorization: Bearer ${info.apiKey}"`,
  ];
  const lines = [
    "recfleet sandbox is ready",
    "",
    `  API            ${info.apiUrl}   (OpenAPI: ${info.apiUrl}/openapi.json)`,
    `  API key        ${info.apiKey}`,
    `  Dashboard      ${info.dashboardUrl}   user ${info.dashboardUser}, password ${info.dashboardPassword}`,
    `  Mail           ${info.mailUrl}   (.eml files in ${info.mailDir})`,
    `  LiveKit        ${info.livekit.url}   key ${info.livekit.apiKey} (secret in sandbox.json)`,
    `  Logs           ${info.logs}`,
    `  State          ${stateDir}   (npm start -- --fresh wipes it)`,
    "",
    "  Start a recording:",
    ...startCurl.map((line) => `    ${line}`),
    "  Stop it (use the id from the answer):",
    ...stopCurl.map((line) => `    ${line}`),
    ...(info.livekit.autoRoom
      ? [
          "  (The room opens by itself with one participant, sandbox-speaker, publishing; SANDBOX_AUTO_ROOM=false turns that off.)",
        ]
      : []),
    "  People in a room (as a LiveKit client would be): join and publish, mute, leave:",
    `    curl -sS -X POST ${info.livekit.url}/_admin/rooms/demo-room/participants -d '{"identity":"ann","publish":["microphone","camera"]}'`,
    `    curl -sS -X PATCH ${info.livekit.url}/_admin/rooms/demo-room/participants/ann/tracks/microphone -d '{"muted":true}'`,
    `    curl -sS -X DELETE ${info.livekit.url}/_admin/rooms/demo-room/participants/ann`,
    "  Or run the scripted demo in another shell:  npm run demo",
    "",
    "  Ctrl-C stops everything.",
  ];
  // No box around the lines: the curl commands must copy-paste cleanly.
  const rule = "━".repeat(Math.max(...lines.map((line) => line.length)));
  return [rule, ...lines, rule].join("\n");
}
