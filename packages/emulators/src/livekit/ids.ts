import { randomInt } from "node:crypto";

// LiveKit's guid.New: a prefix and 12 characters of the shortuuid alphabet (no 0/1/I/O/l).
const ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
const LENGTH = 12;

export type IdPrefix = "EG_" | "RM_" | "EV_" | "PA_" | "TR_";

export function newId(prefix: IdPrefix): string {
  let id = prefix;
  for (let i = 0; i < LENGTH; i += 1) id += ALPHABET[randomInt(ALPHABET.length)];
  return id;
}

/** Unix nanoseconds, the unit of every timestamp in EgressInfo. */
export function nowNanos(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}
