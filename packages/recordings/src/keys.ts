import type { RecordingStatus } from "./states.ts";

/** Redis keys of the recording store, all under `<REDIS_PREFIX>:rec:`. */
export function recordingKeys(prefix: string) {
  const base = `${prefix}:rec`;
  const tenantStatusPrefix = (tenant: string) => `${base}:tenant:${tenant}:status:`;
  return {
    /** hash: v (version), status, doc (JSON) */
    recording: (id: string) => `${base}:id:${id}`,
    /** string: id of the recording holding this slot of the room (activeSlotOf: its kind, participant or tracks) */
    active: (room: string, slot: string) => `${base}:active:${slot}:${room}`,
    /** string: recording id of an egress */
    egress: (egressId: string) => `${base}:egress:${egressId}`,
    /** sorted sets of ids (score 0, ordered by id, which is time-ordered) */
    byRoom: (room: string) => `${base}:room:${room}`,
    byStatus: (status: RecordingStatus) => `${base}:status:${status}`,
    all: `${base}:all`,
    /** the same, per tenant: what a tenant's keys list */
    byTenant: (tenant: string) => `${base}:tenant:${tenant}:all`,
    byTenantStatus: (tenant: string, status: RecordingStatus) => `${tenantStatusPrefix(tenant)}${status}`,
    tenantStatusPrefix,
    /** sorted set of ids by expiresAt (ms): what the expiry sweep deletes when its time comes */
    expiry: `${base}:expiry`,
    /** sorted set of ids whose deletion was asked for and is not done: what the reconciler finishes */
    deleting: `${base}:deleting`,
    /** stream of {id, tenant, event, at}: status changes to announce, written with the change */
    events: `${base}:events`,
    /** hash: callback event → its delivery (attempts, outcome), for GET …/deliveries */
    deliveries: (id: string) => `${base}:deliveries:${id}`,
    /** string: set once every recording made before tenants is in its tenant's indexes */
    tenantIndexBackfilled: `${base}:migrated:tenant-index`,
    /** string: a share link's record (JSON), by the SHA-256 of its token: the token itself is never stored */
    share: (tokenHash: string) => `${base}:share:${tokenHash}`,
    /** hash: share id → its token's hash, per recording (listing and revoking) */
    shares: (id: string) => `${base}:shares:${id}`,
    /** string: {bodyHash, recordingId} of an Idempotency-Key */
    idempotency: (scope: string) => `${base}:idem:${scope}`,
    recordingPrefix: `${base}:id:`,
  };
}

export type RecordingKeys = ReturnType<typeof recordingKeys>;
