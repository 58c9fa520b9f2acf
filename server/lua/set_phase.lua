-- Compare-and-set of the phase: the server computed the move from `expected`
-- with the pure transition table; if another process moved first, 'conflict'.
-- KEYS: meta, people, ballots, ..., analysis, waiting (RoomKeys.fixed), then on closing
--   every participant's mine and dots keys
-- ARGV: expected, new phase, new round, seq, ttl, analysis (JSON, on closing),
--   the room's version the analysis was computed at ('' unless closing), device
local meta = KEYS[1]
local phase = redis.call('HGET', meta, 'phase')
if not phase then return 'room_not_found' end
-- Conflict first: a command that did not act must not use up its seq (the
-- server retries it with the phase it reads anew).
if phase ~= ARGV[1] then return 'conflict' end
-- A reveal shows the tally and closing keeps it (and the analysis of the
-- ballots): neither from a lost hash.  A closed room has no ballots by design.
if phase ~= 'closed' and lost_hash(KEYS[4], KEYS[5]) then return 'room_lost' end
local closing = ARGV[2] == 'closed'
-- Closing deletes the ballots the analysis was computed from: a rating (or a
-- join, whose mine and dots keys the server did not name) since then, and the
-- server computes it anew.
if closing and ARGV[7] ~= '' and redis.call('HGET', meta, 'version') ~= ARGV[7] then
  return 'conflict'
end
if facilitator_dup(meta, ARGV[#ARGV], tonumber(ARGV[4])) then return 'dup' end
hset(meta, 'phase', ARGV[2])
hset(meta, 'round', ARGV[3])
local ttl = tonumber(ARGV[5])
if closing then
  -- A closed room has no countdown: phones would keep counting a timer nobody runs.
  hset(meta, 'timer', '')
  -- Finalize, then anonymise: keep the aggregates (tallies, organisation
  -- counts, dots per item, notes without authors, groups, agenda, the
  -- analysis), delete every link from a participant to an answer.
  local people, ballots, notes, owners, seqs = KEYS[2], KEYS[4], KEYS[6], KEYS[7], KEYS[11]
  hset(meta, 'participants', redis.call('HLEN', people))
  -- Every participant's own keys, also of one the server did not name: whoever
  -- joined (people) or had a command applied (seqs).
  for _, hash in ipairs({ people, seqs }) do
    for _, pid in ipairs(redis.call('HKEYS', hash)) do
      redis.call('DEL', (string.gsub(meta, ':meta$', ':mine:' .. pid)),
        (string.gsub(meta, ':meta$', ':dots:' .. pid)))
    end
  end
  for i = 16, #KEYS do redis.call('DEL', KEYS[i]) end
  -- The waiting list too: a device code is derived from a pseudonym.
  redis.call('DEL', people, ballots, owners, seqs, KEYS[15])
  -- A note keeps its text, norm, flags and place on the wall; its seq (the
  -- author device's counter) goes, and a withdrawn note's tombstone with it.
  local all = redis.call('HGETALL', notes)
  for i = 1, #all, 2 do
    local note = cjson.decode(all[i + 1])
    if note.withdrawn then
      hdel(notes, all[i])
    else
      note.seq = '0'
      hset(notes, all[i], cjson.encode(note))
    end
  end
  if ARGV[6] ~= '' then redis.call('SET', KEYS[14], ARGV[6]) end
end
bump(meta)
for i = 1, #KEYS do redis.call('EXPIRE', KEYS[i], ttl) end
return applied()
