-- Set how many of its dots a participant puts on one item: a note, or a note
-- group (a group is one item, so near-duplicates do not split the votes; a
-- note inside a group takes no dots of its own).  The item's total moves with
-- it atomically, and the participant never spends more than it has.  Dots on a
-- note the facilitator hid (or its author withdrew), or on a group since
-- removed, no longer count against the participant, and can always be taken back.
-- KEYS: meta, notes, votes, dots(pid), seqs, groups, people   ARGV: item id, dots, seq, allowed, ttl, pid
local meta, notes, votes, mydots, seqs, groups = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local err = phase_error(meta, ARGV[4])
if err then return err end
if not admitted(KEYS[7], ARGV[6]) then return 'not_admitted' end
local m = redis.call('HMGET', meta, 'voting', 'dots', 'maxnote')
if m[1] ~= 'open' then return 'wrong_phase' end

-- Whether dots on `id` count: a live, visible note, or an existing group.
local function counts_for(id)
  local raw_note = redis.call('HGET', notes, id)
  if raw_note then
    local decoded = cjson.decode(raw_note)
    return not (decoded.withdrawn or decoded.hidden)
  end
  return redis.call('HEXISTS', groups, id) == 1
end

local note = { withdrawn = false, hidden = false }
local raw = redis.call('HGET', notes, ARGV[1])
if raw then
  note = cjson.decode(raw)
elseif redis.call('HEXISTS', groups, ARGV[1]) == 0 then
  return 'unknown_item'
end
local dots, seq = tonumber(ARGV[2]), tonumber(ARGV[3])
-- A note waiting for approval is on nobody's screen but the facilitator's.
if (note.withdrawn or note.hidden or note.pending) and dots > 0 then return 'unknown_item' end
if dots > tonumber(m[3]) then return 'too_many' end
local old_dots = 0
local old = redis.call('HGET', mydots, ARGV[1])
if old then
  local old_seq, value = split_seq(old)
  if old_seq >= seq then return 'dup' end
  old_dots = tonumber(value)
end
-- A note merged into a group since: its dots may be taken back, not added to.
if raw and dots > old_dots and group_of(groups, ARGV[1]) then return 'in_group' end
local spent = 0
local mine = redis.call('HGETALL', mydots)
for i = 1, #mine, 2 do
  local _, n = split_seq(mine[i + 1])
  if counts_for(mine[i]) then spent = spent + tonumber(n) end
end
local old_counted = old_dots
if not counts_for(ARGV[1]) then old_counted = 0 end
if spent - old_counted + dots > tonumber(m[2]) then return 'too_many' end
local ttl = tonumber(ARGV[5])
note_participant_seq(seqs, ARGV[6], seq, ttl)
redis.call('HSET', mydots, ARGV[1], ARGV[3] .. '|' .. ARGV[2])
if dots ~= old_dots then
  hincr(votes, ARGV[1], dots - old_dots)
  -- Whenever votes moves: a first vote of 0 dots created nothing here, so the
  -- hash may be created by a later vote of the same participant (EXPIRE NX
  -- leaves a TTL it already has).
  expire_new(votes, ttl)
  hincr(meta, 'dots_cast', dots - old_dots)
  bump(meta)
end
-- The participant's first vote on this item: it may have created `mydots`.
if not old then expire_new(mydots, ttl) end
return applied()
