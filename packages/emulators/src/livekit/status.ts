import { EgressStatus } from "@livekit/protocol";

const NAMES: Record<number, string> = {
  [EgressStatus.EGRESS_STARTING]: "EGRESS_STARTING",
  [EgressStatus.EGRESS_ACTIVE]: "EGRESS_ACTIVE",
  [EgressStatus.EGRESS_ENDING]: "EGRESS_ENDING",
  [EgressStatus.EGRESS_COMPLETE]: "EGRESS_COMPLETE",
  [EgressStatus.EGRESS_FAILED]: "EGRESS_FAILED",
  [EgressStatus.EGRESS_ABORTED]: "EGRESS_ABORTED",
  [EgressStatus.EGRESS_LIMIT_REACHED]: "EGRESS_LIMIT_REACHED",
};

/** The enum name, as egress writes it in JSON and in "egress with status X cannot be stopped". */
export function statusName(status: EgressStatus): string {
  return NAMES[status] ?? `EGRESS_STATUS_${status}`;
}

/** ListEgress' `active`: anything before COMPLETE. */
export function isActiveStatus(status: EgressStatus): boolean {
  return status < EgressStatus.EGRESS_COMPLETE;
}
