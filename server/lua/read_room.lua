-- Everything the views need of a room, in one atomic read (no writes).
-- A script rather than MULTI/EXEC so that the refreshes of many rooms share
-- the batched pipelines of server/batching.py.
-- KEYS: meta, people, orgs, tally, notes, agenda, groups, votes, previous, followup, waiting
local meta = redis.call('HGETALL', KEYS[1])
if #meta == 0 then return {} end
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
}
