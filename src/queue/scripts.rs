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

/// `now_ms` from the Redis server clock, and `bulk`; prepended to every script.
///
/// `bulk` sends one command for a whole list of arguments instead of one per job (the hot
/// scripts handle batches of hundreds of jobs, and each `redis.call` costs about as much as the
/// work it does). It goes in chunks of 1000 arguments, within Lua's limit on `unpack`, and
/// returns the concatenated replies of commands that answer a list.
const PRELUDE: &str = r#"
local t = redis.call('TIME')
local now_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function bulk(cmd, key, args)
  local replies = {}
  for i = 1, #args, 1000 do
    local r = redis.call(cmd, key, unpack(args, i, math.min(i + 999, #args)))
    if type(r) == 'table' then
      for _, v in ipairs(r) do replies[#replies + 1] = v end
    end
  end
  return replies
end
"#;

/// ARGV: mode (`add` | `now`), then pairs (id, due_ms; 0 = now). `add` adds ids the queue does
/// not hold; `now` also makes a scheduled id due at once (a requeue). Ids being worked on (in
/// `lease`) or already pending are left alone. Returns how many ids were added or moved.
const ENQUEUE: &str = r#"
local ids, dues, seen = {}, {}, {}
for i = 2, #ARGV, 2 do
  local id = ARGV[i]
  if not seen[id] then
    seen[id] = true
    ids[#ids + 1] = id
    dues[#dues + 1] = tonumber(ARGV[i + 1])
  end
end
if #ids == 0 then return 0 end
local known = bulk('SMISMEMBER', KEYS[1], ids)
local new, push, later, held = {}, {}, {}, {}
for n, id in ipairs(ids) do
  if known[n] == 0 then
    new[#new + 1] = id
    if dues[n] > now_ms then
      later[#later + 1] = dues[n]
      later[#later + 1] = id
    else
      push[#push + 1] = id
    end
  elseif ARGV[1] == 'now' then
    held[#held + 1] = id
  end
end
local added = #new
if #new > 0 then bulk('SADD', KEYS[1], new) end
if #later > 0 then bulk('ZADD', KEYS[5], later) end
for _, id in ipairs(held) do
  if redis.call('ZREM', KEYS[5], id) == 1 then
    push[#push + 1] = id
    added = added + 1
  end
end
if #push > 0 then bulk('LPUSH', KEYS[2], push) end
return added
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

/// ARGV: lease_ms, token prefix, max count, then groups of four (id, token, action, due_ms).
///
/// First settles the given jobs — action `ack` | `retry` | `release`, due_ms for `retry`. Only
/// the lease holder may settle a job: `ack` forgets it, `retry` schedules it at due_ms, `release`
/// puts it back at the head of `pending`. Then pops up to `max` pending ids (oldest first) and
/// leases each until now + lease_ms under token `prefix:n`. One call does both because a worker
/// pool's finished jobs free the places it leases new ones into: one round trip instead of two.
///
/// Returns, per settled group, '1' when settled and '0' when the lease was no longer ours (or
/// the same job came twice: only the first settles); then the leased jobs as id, token, id,
/// token…
const SETTLE_AND_LEASE: &str = r#"
local out = {}
local ids = {}
for i = 4, #ARGV, 4 do ids[#ids + 1] = ARGV[i] end
if #ids > 0 then
  local holders = bulk('HMGET', KEYS[4], ids)
  local settled, acked, later, back, seen = {}, {}, {}, {}, {}
  for n, id in ipairs(ids) do
    local i = n * 4
    if seen[id] or holders[n] ~= ARGV[i + 1] then
      out[n] = '0'
    else
      seen[id] = true
      settled[#settled + 1] = id
      local action = ARGV[i + 2]
      if action == 'ack' then
        acked[#acked + 1] = id
      elseif action == 'retry' then
        later[#later + 1] = tonumber(ARGV[i + 3])
        later[#later + 1] = id
      else
        back[#back + 1] = id
      end
      out[n] = '1'
    end
  end
  if #settled > 0 then
    bulk('ZREM', KEYS[3], settled)
    bulk('HDEL', KEYS[4], settled)
  end
  if #acked > 0 then bulk('SREM', KEYS[1], acked) end
  if #later > 0 then bulk('ZADD', KEYS[5], later) end
  if #back > 0 then bulk('RPUSH', KEYS[2], back) end
end
local max = tonumber(ARGV[3])
if max > 0 then
  local popped = redis.call('RPOP', KEYS[2], max)
  if popped then
    local expiry, holders = {}, {}
    local until_ms = now_ms + tonumber(ARGV[1])
    for n, id in ipairs(popped) do
      local token = ARGV[2] .. ':' .. n
      expiry[#expiry + 1] = until_ms
      expiry[#expiry + 1] = id
      holders[#holders + 1] = id
      holders[#holders + 1] = token
      out[#out + 1] = id
      out[#out + 1] = token
    end
    bulk('ZADD', KEYS[3], expiry)
    bulk('HSET', KEYS[4], holders)
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
    Script::from_lua(format!("{PRELUDE}{body}"))
}

pub static ENQUEUE_SCRIPT: LazyLock<Script> = LazyLock::new(|| script(ENQUEUE));
pub static RENEW_SCRIPT: LazyLock<Script> = LazyLock::new(|| script(RENEW));
pub static SETTLE_AND_LEASE_SCRIPT: LazyLock<Script> = LazyLock::new(|| script(SETTLE_AND_LEASE));
pub static MAINTAIN_SCRIPT: LazyLock<Script> = LazyLock::new(|| script(MAINTAIN));
