-- Upsert one rating and move the tally with it, atomically.
-- KEYS: meta, ballots, tally, seqs, people
-- ARGV: pid, norm, value ('dk' = don't know), seq, ttl, round, allowed phases
-- The hot path of a session: one HMGET for everything it needs of meta, and an
-- EXPIRE only where this write may have created a key (a new field).
local meta, ballots, tally, seqs = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local m = redis.call('HMGET', meta, 'phase', 'round', 'epoch')
if not m[1] then return 'room_not_found' end
if not string.find(ARGV[7], ',' .. m[1] .. ',', 1, true) then return 'wrong_phase' end
local round = m[2]
if round ~= ARGV[6] then return 'wrong_phase' end
if not admitted(KEYS[5], ARGV[1]) then return 'not_admitted' end
local field = round .. '|' .. ARGV[1] .. '|' .. ARGV[2]
local seq = tonumber(ARGV[4])
local ttl = tonumber(ARGV[5])
local old = redis.call('HGET', ballots, field)
local stored = ARGV[4] .. '|' .. ARGV[3]
if old then
  local old_seq, old_value = split_seq(old)
  if old_seq >= seq then return 'dup' end
  note_participant_seq(seqs, ARGV[1], seq, ttl)
  redis.call('HSET', ballots, field, stored)
  if old_value == ARGV[3] then return 'ok' end
  hincr(tally, round .. '|' .. ARGV[2] .. '|' .. old_value, -1)
else
  note_participant_seq(seqs, ARGV[1], seq, ttl)
  redis.call('HSET', ballots, field, stored)
  expire_new(ballots, ttl)
end
if hincr(tally, round .. '|' .. ARGV[2] .. '|' .. ARGV[3], 1) == 1 then expire_new(tally, ttl) end
bump(meta, m[3] or '')
return applied()
