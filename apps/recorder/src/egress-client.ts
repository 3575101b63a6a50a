import type { LivekitConfig } from "@recfleet/config";
import { EgressClient, RoomServiceClient } from "livekit-server-sdk";

/**
 * The SDK's Egress client with our timeout, and with region failover off: failover replays a
 * Start against another region after a 5xx or transport error, and Start is not idempotent.
 */
export function createEgressClient(config: LivekitConfig): EgressClient {
  return new EgressClient(config.url, config.apiKey, config.apiSecret, {
    requestTimeout: config.requestTimeoutMs / 1000,
    failover: false,
  });
}

/** The SDK's RoomService client with our timeout. */
export function createRoomClient(config: LivekitConfig): RoomServiceClient {
  return new RoomServiceClient(config.url, config.apiKey, config.apiSecret, {
    requestTimeout: config.requestTimeoutMs / 1000,
  });
}
