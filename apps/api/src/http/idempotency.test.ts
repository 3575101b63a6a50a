import { describe, expect, it } from "vitest";
import { canonicalJson, idempotencyClaim } from "./idempotency.ts";

describe("canonicalJson", () => {
  it("sorts keys at every level and keeps array order", () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}',
    );
  });

  it("gives the same text for the same document written differently", () => {
    expect(canonicalJson(JSON.parse('{ "room": "r", "kind": "video" }'))).toBe(
      canonicalJson(JSON.parse('{"kind":"video","room":"r"}')),
    );
  });
});

describe("idempotencyClaim", () => {
  it("scopes the key by API key and hashes the body, keeping neither in clear", () => {
    const mine = idempotencyClaim("key-a", "order-1", { room: "r" });
    const theirs = idempotencyClaim("key-b", "order-1", { room: "r" });
    expect(mine.scope).not.toBe(theirs.scope);
    expect(mine.bodyHash).toBe(theirs.bodyHash);
    expect(mine.scope).toMatch(/^[0-9a-f]{64}$/);
    expect(mine.ttlMs).toBe(24 * 60 * 60 * 1000);
    expect(idempotencyClaim("key-a", "order-1", { room: "s" }).bodyHash).not.toBe(mine.bodyHash);
  });
});
