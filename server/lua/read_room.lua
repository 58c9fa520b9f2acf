-- Everything the views need of a room, in one atomic read (no writes).
-- A script rather than MULTI/EXEC so that the refreshes of many rooms share
-- the batched pipelines of server/batching.py.
-- KEYS: meta, people, orgs, tally, notes, agenda, groups, votes, previous, followup, waiting,
--   ballots
local meta = redis.call('HGETALL', KEYS[1])
if #meta == 0 then return {} end
-- Whether the tally or ballots hash was lost (a closed room has no ballots by
-- design): a mirror must not show a lost tally as empty (the hub rebuilds it).
local lost = redis.call('HGET', KEYS[1], 'phase') ~= 'closed' and lost_hash(KEYS[12], KEYS[4])
-- A closed room keeps the number of its participants, not who they were.
local people = redis.call('HGET', KEYS[1], 'participants') or redis.call('HLEN', KEYS[2])
return {
  meta,
  people,
  redis.call('HGETALL', KEYS[3]),
  redis.call('HGETALL', KEYS[4]),
  redis.call('HGETALL', KEYS[5]),
  redis.call('HGETALL', KEYS[6]),
  redis.call('HGETALL', KEYS[7]),
  redis.call('HGETALL', KEYS[8]),
  redis.call('GET', KEYS[9]),
  redis.call('HGETALL', KEYS[10]),
  -- The waiting devices' codes only: no pseudonym leaves Redis in a record.
  redis.call('HVALS', KEYS[11]),
  lost and '1' or '0',
}
