// Lua scripts for the Redis grant store: each check-then-write runs atomically inside Redis, so two
// replicas can never both create one id, both revoke, or both win a grant's first use.

// KEYS: grant hash, by-key index, by-user index, all index.
// ARGV: 1 grant JSON, 2 createdAtMs (index score), 3 id, 4 keep-until ms (expiry + retention),
//       5 prune-before ms, 6 grant key prefix, 7 revoked JSON or '', 8 firstUsedAtMs or ''.
// Index members created before "now - retention" may point at hashes that have expired: up to 100 per
// index are checked and dropped on each create, so the sets stay bounded without a sweeper. Each index
// lives until its newest grant's keep-until, so an idle user's keys vanish on their own.
const create = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'grant', ARGV[1])
if ARGV[7] ~= '' then redis.call('HSET', KEYS[1], 'revoked', ARGV[7]) end
if ARGV[8] ~= '' then redis.call('HSET', KEYS[1], 'firstUsedAtMs', ARGV[8]) end
redis.call('PEXPIREAT', KEYS[1], ARGV[4])
local keepUntil = tonumber(ARGV[4])
-- TTLs run on Redis's clock, so the index expiry is compared against Redis's own time.
local time = redis.call('TIME')
local redisNowMs = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
for i = 2, 4 do
  local index = KEYS[i]
  local old = redis.call('ZRANGEBYSCORE', index, '-inf', '(' .. ARGV[5], 'LIMIT', 0, 100)
  for _, member in ipairs(old) do
    if redis.call('EXISTS', ARGV[6] .. member) == 0 then redis.call('ZREM', index, member) end
  end
  redis.call('ZADD', index, ARGV[2], ARGV[3])
  local pttl = redis.call('PTTL', index)
  if pttl < 0 or redisNowMs + pttl < keepUntil then redis.call('PEXPIREAT', index, ARGV[4]) end
end
return 1
`;

// KEYS: grant hash. ARGV: revoked JSON ({atMs, by}). HSETNX keeps the first revocation. Returns the
// hash as a flat list, or nil for an unknown id (checked first, so no TTL-less stray hash is created).
const revoke = `
if redis.call('EXISTS', KEYS[1]) == 0 then return nil end
redis.call('HSETNX', KEYS[1], 'revoked', ARGV[1])
return redis.call('HGETALL', KEYS[1])
`;

// KEYS: grant hash. ARGV: now ms. 1 for the single caller that set firstUsedAtMs, 0 for everyone else.
const markFirstUse = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
return redis.call('HSETNX', KEYS[1], 'firstUsedAtMs', ARGV[1])
`;

export const REDIS_SCRIPTS = { create, revoke, markFirstUse } as const;
