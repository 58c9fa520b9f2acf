-- Rebuild a room whose tally or ballots hash was lost (a script answered
-- 'room_lost'), atomically: a tally alone is recounted from the ballots;
-- without ballots, ballots, tally and the participants' highest seqs are
-- emptied (their phones re-send every answer above welcome's max_seq).  The
-- room gets a new epoch (every mirror reads it anew, every process closes its
-- phones' connections with 4503) and a heal window, in which re-asserted
-- ratings count in a later phase of the same round too.
-- KEYS: meta, ballots, tally, seqs
-- ARGV: new epoch, heal window (seconds), ttl
local meta, ballots, tally, seqs = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local phase = redis.call('HGET', meta, 'phase')
if not phase then return 'room_not_found' end
-- Nothing lost (another process rebuilt it first), or a closed room, which has
-- no ballots by design: nothing to do.
if phase == 'closed' or not lost_hash(ballots, tally) then return 'ok' end
local ttl = tonumber(ARGV[3])
redis.call('DEL', tally)
if redis.call('EXISTS', ballots) == 1 then
  local all = redis.call('HGETALL', ballots)
  for i = 1, #all, 2 do
    if all[i] ~= MARKER then
      -- "round|pid|norm" -> "seq|value": one count in "round|norm|value".
      local round, _, norm = string.match(all[i], '^([^|]*)|([^|]*)|(.*)$')
      local _, value = split_seq(all[i + 1])
      redis.call('HINCRBY', tally, round .. '|' .. norm .. '|' .. value, 1)
    end
  end
else
  -- Each participant's highest seq back to 0 (the key stays, with its TTL:
  -- not every script that notes a seq gives it one).
  for _, pid in ipairs(redis.call('HKEYS', seqs)) do redis.call('HSET', seqs, pid, 0) end
end
for _, key in ipairs({ ballots, tally }) do
  redis.call('HSET', key, MARKER, '1')
  redis.call('EXPIRE', key, ttl)
end
local now = tonumber(redis.call('TIME')[1])
hset(meta, 'epoch', ARGV[1])
hset(meta, 'heal_until', now + tonumber(ARGV[2]))
bump(meta, ARGV[1])
return applied()
