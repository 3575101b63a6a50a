// The egress request builder has its own entry point (@recfleet/config/egress): it loads
// @livekit/protocol, which only the recorder needs; every other app stays lighter without it.
export * from "./profiles/egress.ts";
