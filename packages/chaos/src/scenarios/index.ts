import type { Scenario } from "../scenario.ts";
import { recorderKills } from "./1-recorder-kills.ts";
import { redisRestart } from "./2-redis-restart.ts";
import { s3Restart } from "./3-s3-restart.ts";
import { smtpOutage } from "./4-smtp-outage.ts";
import { egressCapacity } from "./5-egress-capacity.ts";
import { lateRooms } from "./6-late-rooms.ts";
import { roomsClose } from "./7-rooms-close.ts";
import { slowRefusal } from "./8-slow-refusal.ts";
import { livekitForgets } from "./9-livekit-forgets.ts";
import { apiFuzz } from "./10-api-fuzz.ts";

/** Every scenario, in the order they run. */
export const SCENARIOS: Scenario[] = [
  recorderKills,
  redisRestart,
  s3Restart,
  smtpOutage,
  egressCapacity,
  lateRooms,
  roomsClose,
  slowRefusal,
  livekitForgets,
  apiFuzz,
];
