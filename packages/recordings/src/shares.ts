import { createHash, randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import { z } from "zod";
import { recordingKeys } from "./keys.ts";
import type { Recording } from "./model.ts";

/**
 * Share links: a random token (256 bits, base64url) that opens a recording's watch page. Only
 * the token's SHA-256 is stored, so Redis (a dump, a replica, a MONITOR) never holds a working
 * link; the token is shown once, when the link is made. A link stops at its expiry, when revoked,
 * and with its recording (deleted, expired): the watch page checks all three on every request.
 */

export const shareSchema = z.object({
  id: z.string(),
  recordingId: z.string(),
  tenant: z.string(),
  note: z.string().nullable(),
  /** Who made it: through the API, or the mailer for the recording's email. */
  by: z.enum(["api", "email"]),
  createdAt: z.iso.datetime(),
  expiresAt: z.iso.datetime(),
  revokedAt: z.iso.datetime().nullable(),
});
export type Share = z.infer<typeof shareSchema>;

/** What a token opens, or why it opens nothing. */
export type ShareLookup =
  | { state: "open"; share: Share }
  | { state: "revoked" | "expired"; share: Share }
  | { state: "unknown" };

/** When a link valid for `validForMs` from `now` stops: then, or when the recording's files go, if sooner. */
export function shareExpiry(recording: Pick<Recording, "expiresAt">, validForMs: number, now: Date): Date {
  const wanted = now.getTime() + validForMs;
  return new Date(recording.expiresAt ? Math.min(wanted, Date.parse(recording.expiresAt)) : wanted);
}

// An expired or revoked link answers "gone" (410) for this long before it is forgotten (404).
const KEPT_AFTER_EXPIRY_MS = 30 * 86_400_000;

const hashOf = (token: string) => createHash("sha256").update(token).digest("hex");

/** A token as the API hands them out: 32 bytes, base64url, no padding. */
const SHARE_TOKEN = /^[A-Za-z0-9_-]{43}$/;

export class ShareStore {
  private readonly redis: Redis;
  private readonly keys: ReturnType<typeof recordingKeys>;
  private readonly now: () => Date;

  constructor(options: { redis: Redis; prefix: string; now?: () => Date }) {
    this.redis = options.redis;
    this.keys = recordingKeys(options.prefix);
    this.now = options.now ?? (() => new Date());
  }

  /** Makes a link, the recording owner's; answers it with its token, which is nowhere else. */
  async create(input: {
    recording: Pick<Recording, "id" | "tenant">;
    expiresAt: Date;
    note: string | null;
    by: Share["by"];
  }): Promise<{ share: Share; token: string }> {
    const token = randomBytes(32).toString("base64url");
    const share: Share = {
      id: `sh_${randomBytes(9).toString("base64url")}`,
      recordingId: input.recording.id,
      tenant: input.recording.tenant,
      note: input.note,
      by: input.by,
      createdAt: this.now().toISOString(),
      expiresAt: input.expiresAt.toISOString(),
      revokedAt: null,
    };
    const keepMs = Math.max(1, input.expiresAt.getTime() - this.now().getTime()) + KEPT_AFTER_EXPIRY_MS;
    const hash = hashOf(token);
    const index = this.keys.shares(input.recording.id);
    await this.redis
      .multi()
      .set(this.keys.share(hash), JSON.stringify(share), "PX", keepMs)
      .hset(index, share.id, hash)
      // The index lives as long as its longest-lived link.
      .pexpire(index, keepMs, "GT")
      .pexpire(index, keepMs, "NX")
      .exec();
    return { share, token };
  }

  /** What a token opens; any string is looked up only by its hash. */
  async lookup(token: string): Promise<ShareLookup> {
    if (!SHARE_TOKEN.test(token)) return { state: "unknown" };
    const raw = await this.redis.get(this.keys.share(hashOf(token)));
    if (raw === null) return { state: "unknown" };
    const share = shareSchema.parse(JSON.parse(raw));
    if (share.revokedAt !== null) return { state: "revoked", share };
    if (Date.parse(share.expiresAt) <= this.now().getTime()) return { state: "expired", share };
    return { state: "open", share };
  }

  /**
   * A recording's links, oldest first (two made in the same millisecond in either order), expired
   * and revoked ones included while they are kept.
   */
  async list(recordingId: string): Promise<Share[]> {
    const hashes = Object.values(await this.redis.hgetall(this.keys.shares(recordingId)));
    if (hashes.length === 0) return [];
    const raws = await this.redis.mget(hashes.map((hash) => this.keys.share(hash)));
    return raws
      .filter((raw): raw is string => raw !== null)
      .map((raw) => shareSchema.parse(JSON.parse(raw)))
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  /** Revokes a link of a recording (once: a second revoke answers it as it is); undefined when unknown. */
  async revoke(recordingId: string, shareId: string): Promise<Share | undefined> {
    const hash = await this.redis.hget(this.keys.shares(recordingId), shareId);
    if (hash === null) return undefined;
    const key = this.keys.share(hash);
    const raw = await this.redis.get(key);
    if (raw === null) return undefined;
    const share = shareSchema.parse(JSON.parse(raw));
    if (share.revokedAt !== null) return share;
    const revoked = { ...share, revokedAt: this.now().toISOString() };
    // KEEPTTL: a revoked link is forgotten when it would have been anyway.
    await this.redis.set(key, JSON.stringify(revoked), "KEEPTTL", "XX");
    return revoked;
  }
}
