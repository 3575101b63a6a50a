import type { Redis } from "ioredis";

// Lua keeps each write atomic. It never parses the JSON document: JavaScript computes the new
// document and Lua applies it only if the version it was computed from is still current
// (compare-and-set), so concurrent workers can never move a recording backwards or twice.

const CREATE = `
-- KEYS: recording, active, idempotency (or ''), byRoom, byStatus, all, tenantAll, tenantStatus,
--       then the tenant's in-progress status indexes (counted against the concurrency limit)
-- ARGV: id, doc, status, idempotencyValue (or ''), idempotencyTtlMs, recordingKeyPrefix,
--       concurrencyLimit (0: none), streamUrls (JSON, or '')
if ARGV[4] ~= '' then
  local existing = redis.call('GET', KEYS[3])
  if existing then return {'idempotent', existing} end
end
local holder = redis.call('GET', KEYS[2])
if holder and redis.call('EXISTS', ARGV[6] .. holder) == 1 then
  return {'conflict', holder}
end
local limit = tonumber(ARGV[7])
if limit > 0 then
  local running = 0
  for i = 9, #KEYS do running = running + redis.call('ZCARD', KEYS[i]) end
  if running >= limit then return {'limit', tostring(running)} end
end
redis.call('SET', KEYS[2], ARGV[1])
redis.call('HSET', KEYS[1], 'v', 1, 'status', ARGV[3], 'doc', ARGV[2])
if ARGV[8] ~= '' then redis.call('HSET', KEYS[1], 'streamUrls', ARGV[8]) end
redis.call('ZADD', KEYS[4], 0, ARGV[1])
-- A recording in progress keeps its room's index: the last one to finish gives it a TTL.
redis.call('PERSIST', KEYS[4])
redis.call('ZADD', KEYS[5], 0, ARGV[1])
redis.call('ZADD', KEYS[6], 0, ARGV[1])
redis.call('ZADD', KEYS[7], 0, ARGV[1])
redis.call('ZADD', KEYS[8], 0, ARGV[1])
if ARGV[4] ~= '' then
  redis.call('SET', KEYS[3], ARGV[4], 'PX', ARGV[5])
end
return {'created', ARGV[1]}
`;

const UPDATE = `
-- KEYS: recording, fromStatusIndex, toStatusIndex, active, egress (or ''), tenantFrom, tenantTo,
--       expiry, deleting, events, byRoom
-- ARGV: expectedVersion, status, doc, releaseActive, id, expireMs, egressId,
--       expiry ('add' with ARGV[9] the time in ms, 'remove', or ''), deleting ('add', 'remove' or ''),
--       tenant, at, recordingKeyPrefix, streamUrls (JSON, or '' to keep them), then the events
--       this change announces
local version = redis.call('HGET', KEYS[1], 'v')
if not version then return {'missing'} end
if version ~= ARGV[1] then return {'conflict'} end
redis.call('HSET', KEYS[1], 'v', tonumber(version) + 1, 'status', ARGV[2], 'doc', ARGV[3])
if ARGV[14] ~= '' then redis.call('HSET', KEYS[1], 'streamUrls', ARGV[14]) end
if KEYS[2] ~= KEYS[3] then
  redis.call('ZREM', KEYS[2], ARGV[5])
  redis.call('ZADD', KEYS[3], 0, ARGV[5])
  redis.call('ZREM', KEYS[6], ARGV[5])
  redis.call('ZADD', KEYS[7], 0, ARGV[5])
end
if ARGV[4] == '1' and redis.call('GET', KEYS[4]) == ARGV[5] then
  redis.call('DEL', KEYS[4])
end
if ARGV[7] ~= '' then
  redis.call('SET', KEYS[5], ARGV[5])
end
if ARGV[8] == 'add' then
  redis.call('ZADD', KEYS[8], tonumber(ARGV[9]), ARGV[5])
elseif ARGV[8] == 'remove' then
  redis.call('ZREM', KEYS[8], ARGV[5])
end
if ARGV[10] == 'add' then
  redis.call('ZADD', KEYS[9], 0, ARGV[5])
elseif ARGV[10] == 'remove' then
  redis.call('ZREM', KEYS[9], ARGV[5])
end
local expireMs = tonumber(ARGV[6])
if expireMs > 0 then
  redis.call('PEXPIRE', KEYS[1], expireMs)
  -- A final recording needs its stream keys no more.
  redis.call('HDEL', KEYS[1], 'streamUrls')
  if ARGV[7] ~= '' then redis.call('PEXPIRE', KEYS[5], expireMs) end
  -- The room's index lives as long as its longest-lived record, once none of its recent ones
  -- is still unfinished (the same 100 newest that inProgressIn reads). A record gets its TTL
  -- exactly when it becomes final: one without (PTTL -1) is unfinished.
  local unfinished = false
  for _, other in ipairs(redis.call('ZRANGE', KEYS[11], '+', '-', 'BYLEX', 'REV', 'LIMIT', 0, 100)) do
    if other ~= ARGV[5] and redis.call('PTTL', ARGV[13] .. other) == -1 then
      unfinished = true
      break
    end
  end
  if not unfinished then
    local ttl = redis.call('PTTL', KEYS[11])
    if ttl == -1 or (ttl >= 0 and ttl < expireMs) then redis.call('PEXPIRE', KEYS[11], expireMs) end
  end
end
for i = 15, #ARGV do
  redis.call('XADD', KEYS[10], '*', 'id', ARGV[5], 'tenant', ARGV[11], 'event', ARGV[i], 'at', ARGV[12])
end
return {'ok'}
`;

const DELETE = `
-- KEYS: recording, active, byRoom, byStatus, all, egress (or ''), tenantAll, tenantStatus
-- ARGV: id
redis.call('DEL', KEYS[1])
if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[1])
redis.call('ZREM', KEYS[5], ARGV[1])
if KEYS[6] ~= '' then redis.call('DEL', KEYS[6]) end
redis.call('ZREM', KEYS[7], ARGV[1])
redis.call('ZREM', KEYS[8], ARGV[1])
return 1
`;

// Recordings written before tenants carry no tenant and sit in no tenant index: each is put in
// the default tenant's, reading its status in the same step so that a concurrent update (which
// moves it between the tenant's status indexes) cannot leave it in a stale one.
const BACKFILL_TENANT = `
-- KEYS: defaultTenantAll
-- ARGV: recordingKeyPrefix, defaultTenantStatusPrefix, id…
local added = 0
for i = 3, #ARGV do
  local key = ARGV[1] .. ARGV[i]
  local status = redis.call('HGET', key, 'status')
  local doc = redis.call('HGET', key, 'doc')
  if status and doc and not string.find(doc, '"tenant":', 1, true) then
    redis.call('ZADD', KEYS[1], 0, ARGV[i])
    redis.call('ZADD', ARGV[2] .. status, 0, ARGV[i])
    added = added + 1
  end
end
return added
`;

export interface StoreScripts {
  create(keys: string[], args: string[]): Promise<[string, string?]>;
  update(keys: string[], args: string[]): Promise<[string]>;
  remove(keys: string[], args: string[]): Promise<number>;
  backfillTenant(keys: string[], args: string[]): Promise<number>;
}

type Evaluate = (keys: string[], args: string[]) => Promise<unknown>;

function script(redis: Redis, lua: string): Evaluate {
  let sha: string | undefined;
  return async (keys, args) => {
    if (sha) {
      try {
        return await redis.evalsha(sha, keys.length, ...keys, ...args);
      } catch (error) {
        // After a Redis restart or SCRIPT FLUSH the cached script is gone: load it again.
        if (!(error instanceof Error) || !error.message.startsWith("NOSCRIPT")) throw error;
      }
    }
    sha = (await redis.script("LOAD", lua)) as string;
    return redis.evalsha(sha, keys.length, ...keys, ...args);
  };
}

export function storeScripts(redis: Redis): StoreScripts {
  const create = script(redis, CREATE);
  const update = script(redis, UPDATE);
  const remove = script(redis, DELETE);
  const backfillTenant = script(redis, BACKFILL_TENANT);
  return {
    create: (keys, args) => create(keys, args) as Promise<[string, string?]>,
    update: (keys, args) => update(keys, args) as Promise<[string]>,
    remove: (keys, args) => remove(keys, args) as Promise<number>,
    backfillTenant: (keys, args) => backfillTenant(keys, args) as Promise<number>,
  };
}
