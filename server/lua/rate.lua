-- Upsert one rating and move the tally with it, atomically.
-- KEYS: meta, ballots, tally, seqs, people
-- ARGV: pid, norm, value ('dk' = don't know), seq, ttl, round, allowed phases,
--   reassert ('1' or '0'), the epoch the participant's connection joined at ('' = any),
--   the room's version the server's mirror has seen at that epoch ('' = none)
-- The hot path of a session: one HMGET for everything it needs of meta, and an
-- EXPIRE only where this write may have created a key (a new field).
local meta, ballots, tally, seqs = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local m = redis.call('HMGET', meta, 'phase', 'round', 'epoch', 'heal_until', 'version')
if not m[1] then return 'room_not_found' end
-- A connection of an older epoch (the room was rebuilt since it joined) may
-- not add to the new state: its welcome's max_seq would hide what it must re-send.
if ARGV[9] ~= '' and ARGV[9] ~= (m[3] or '') then return 'stale_epoch' end
-- Older than the server has seen it at this epoch: Redis came back without its
-- last writes (appendfsync everysec).  Nothing is written (a new seq here would
-- hide the lost answers below the phone's max_seq); the room gets a new epoch.
if ARGV[10] ~= '' and ARGV[9] ~= '' and tonumber(m[5]) < tonumber(ARGV[10]) then
  return 'went_back'
end
local round = m[2]
if not string.find(ARGV[7], ',' .. m[1] .. ',', 1, true) then
  -- While the room heals, a re-asserted rating of this round counts in a later
  -- phase too (never in a closed room: its ballots are gone by design).
  local healing = ARGV[8] == '1' and m[1] ~= 'closed' and m[4]
    and tonumber(m[4]) > tonumber(redis.call('TIME')[1])
  if not healing then return 'wrong_phase' end
end
if round ~= ARGV[6] then return 'wrong_phase' end
if not admitted(KEYS[5], ARGV[1]) then return 'not_admitted' end
if lost_hash(ballots, tally) then return 'room_lost' end
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
end
hincr(tally, round .. '|' .. ARGV[2] .. '|' .. ARGV[3], 1)
bump(meta, m[3] or '')
return applied()
