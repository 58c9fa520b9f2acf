-- Upsert one rating and move the tally with it, atomically.
-- KEYS: meta, ballots, tally, seqs   ARGV: pid, norm, value ('dk' = don't know), seq, ttl, round
local meta, ballots, tally, seqs = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local err = phase_error(meta, ',rating,')
if err then return err end
local round = redis.call('HGET', meta, 'round')
if round ~= ARGV[6] then return 'wrong_phase' end
local field = round .. '|' .. ARGV[1] .. '|' .. ARGV[2]
local seq = tonumber(ARGV[4])
local old = redis.call('HGET', ballots, field)
local stored = ARGV[4] .. '|' .. ARGV[3]
if old then
  local old_seq, old_value = split_seq(old)
  if old_seq >= seq then return 'dup' end
  note_participant_seq(seqs, ARGV[1], seq)
  redis.call('HSET', ballots, field, stored)
  if old_value == ARGV[3] then return 'ok' end
  redis.call('HINCRBY', tally, round .. '|' .. ARGV[2] .. '|' .. old_value, -1)
else
  note_participant_seq(seqs, ARGV[1], seq)
  redis.call('HSET', ballots, field, stored)
end
redis.call('HINCRBY', tally, round .. '|' .. ARGV[2] .. '|' .. ARGV[3], 1)
bump(meta)
local ttl = tonumber(ARGV[5])
expire_new(ballots, ttl)
expire_new(tally, ttl)
expire_new(seqs, ttl)
return 'ok'
