//! The Lua scripts that move job ids between the queue's Redis structures, each one atomic.
//! The layout and the invariants they keep are described in `docs/queue.md`.
//!
//! Keys (always in this order, `KEYS[1..5]`): `known` (SET), `pending` (LIST), `lease` (ZSET,
//! score = lease expiry in ms), `holder` (HASH id → lease token), `scheduled` (ZSET, score = due
//! time in ms). Invariant: an id is in `known` exactly when it is in one of `pending`, `lease`
//! or `scheduled`, and in only one of them. Times come from the Redis server (`TIME`), so
//! instances with skewed clocks agree on due times and lease expiry.

use std::sync::LazyLock;

use fred::types::scripts::Script;

/// `now_ms` from the Redis server clock; prepended to every script.
const NOW: &str = r#"
local t = redis.call('TIME')
local now_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"#;

/// ARGV: mode (`add` | `now`), then pairs (id, due_ms; 0 = now). `add` adds ids the queue does
/// not hold; `now` also makes a scheduled id due at once (a requeue). Ids being worked on (in
/// `lease`) or already pending are left alone. Returns how many ids were added or moved.
const ENQUEUE: &str = r#"
local added = 0
for i = 2, #ARGV, 2 do
  local id = ARGV[i]
  local due = tonumber(ARGV[i + 1])
  if redis.call('SADD', KEYS[1], id) == 1 then
    if due > now_ms then
      redis.call('ZADD', KEYS[5], due, id)
    else
      redis.call('LPUSH', KEYS[2], id)
    end
    added = added + 1
  elseif ARGV[1] == 'now' and redis.call('ZREM', KEYS[5], id) == 1 then
    redis.call('LPUSH', KEYS[2], id)
    added = added + 1
  end
end
return added
"#;

/// ARGV: lease_ms, token prefix, max count. Pops up to `max` pending ids (oldest first), leases
/// each until now + lease_ms under token `prefix:n`. Returns a flat list id, token, id, token…
const LEASE: &str = r#"
local out = {}
local lease_ms = tonumber(ARGV[1])
for n = 1, tonumber(ARGV[3]) do
  local id = redis.call('RPOP', KEYS[2])
  if not id then break end
  local token = ARGV[2] .. ':' .. n
  redis.call('ZADD', KEYS[3], now_ms + lease_ms, id)
  redis.call('HSET', KEYS[4], id, token)
  out[#out + 1] = id
  out[#out + 1] = token
end
return out
"#;

/// ARGV: lease_ms, then pairs (id, token). Extends the leases still held under those tokens;
/// returns the ids whose lease was lost (expired and taken back, or the data was flushed).
const RENEW: &str = r#"
local lost = {}
local lease_ms = tonumber(ARGV[1])
for i = 2, #ARGV, 2 do
  local id = ARGV[i]
  if redis.call('HGET', KEYS[4], id) == ARGV[i + 1] then
    redis.call('ZADD', KEYS[3], now_ms + lease_ms, id)
  else
    lost[#lost + 1] = id
  end
end
return lost
"#;

/// ARGV: groups of four (id, token, action, due_ms): action `ack` | `retry` | `release`, due_ms
/// for `retry`. Only the lease holder may settle a job: `ack` forgets it, `retry` schedules it at
/// due_ms, `release` puts it back at the head of `pending`. Returns, per group, 1 when settled and
/// 0 when the lease was no longer ours.
const SETTLE: &str = r#"
local out = {}
for i = 1, #ARGV, 4 do
  local id = ARGV[i]
  if redis.call('HGET', KEYS[4], id) ~= ARGV[i + 1] then
    out[#out + 1] = 0
  else
    redis.call('ZREM', KEYS[3], id)
    redis.call('HDEL', KEYS[4], id)
    local action = ARGV[i + 2]
    if action == 'ack' then
      redis.call('SREM', KEYS[1], id)
    elseif action == 'retry' then
      redis.call('ZADD', KEYS[5], tonumber(ARGV[i + 3]), id)
    else
      redis.call('RPUSH', KEYS[2], id)
    end
    out[#out + 1] = 1
  end
end
return out
"#;

/// ARGV: limit. Moves due scheduled ids to `pending`, and ids whose lease expired (their worker
/// died or lost Redis) to the head of `pending`. Returns {moved_due, recovered}.
const MAINTAIN: &str = r#"
local limit = tonumber(ARGV[1])
local due = redis.call('ZRANGEBYSCORE', KEYS[5], '-inf', now_ms, 'LIMIT', 0, limit)
for _, id in ipairs(due) do
  redis.call('ZREM', KEYS[5], id)
  redis.call('LPUSH', KEYS[2], id)
end
local expired = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now_ms, 'LIMIT', 0, limit)
for _, id in ipairs(expired) do
  redis.call('ZREM', KEYS[3], id)
  redis.call('HDEL', KEYS[4], id)
  redis.call('RPUSH', KEYS[2], id)
end
return {#due, #expired}
"#;

fn script(body: &str) -> Script {
    Script::from_lua(format!("{NOW}{body}"))
}

pub static ENQUEUE_SCRIPT: LazyLock<Script> = LazyLock::new(|| script(ENQUEUE));
pub static LEASE_SCRIPT: LazyLock<Script> = LazyLock::new(|| script(LEASE));
pub static RENEW_SCRIPT: LazyLock<Script> = LazyLock::new(|| script(RENEW));
pub static SETTLE_SCRIPT: LazyLock<Script> = LazyLock::new(|| script(SETTLE));
pub static MAINTAIN_SCRIPT: LazyLock<Script> = LazyLock::new(|| script(MAINTAIN));
