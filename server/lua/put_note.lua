-- Create or edit a participant's own note.  The author lives only in `owners`
-- and `mine`, which no view (and no stream message) ever reads.
-- KEYS: meta, notes, owners, mine, seqs, people
-- ARGV: pid, note id, seq, text, norm ('' none), allowed, max notes, ttl, max notes in the room
local meta, notes, owners, mine, seqs = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local err = phase_error(meta, ARGV[6])
if err then return err end
if not admitted(KEYS[6], ARGV[1]) then return 'not_admitted' end
-- Adding notes closes when dot voting opens: the wall people vote on stays put.
local m = redis.call('HMGET', meta, 'voting', 'version', 'moderation')
if m[1] == 'open' then return 'voting_open' end
local owner = redis.call('HGET', owners, ARGV[2])
if owner and owner ~= ARGV[1] then return 'unknown_item' end
local seq = tonumber(ARGV[3])
local hidden = false
-- The room's version when the note was first put: the order notes were added
-- in (exports list ideas with equal dots that way).
local created = tonumber(m[2])
-- With moderation on, a new note, and an edit that changes the text, wait for
-- the facilitator's approval: an approved note cannot be rewritten unseen.
local moderated = m[3] == '1'
local pending = moderated
local raw = redis.call('HGET', notes, ARGV[2])
if raw then
  local note = cjson.decode(raw)
  if tonumber(note.seq) >= seq then return 'dup' end
  hidden = note.hidden
  -- A withdrawn note put again is a new note on the wall: it comes last
  -- (`created` now; its tombstone keeps no place) and waits for approval
  -- again; a note the facilitator hid stays hidden.
  if not note.withdrawn then
    created = note.created or 0
    if note.text == ARGV[4] or not moderated then pending = note.pending or false end
  end
  if hidden then pending = false end
end
if redis.call('SISMEMBER', mine, ARGV[2]) == 0
    and redis.call('SCARD', mine) >= tonumber(ARGV[7]) then
  return 'too_many'
end
-- A new note id: the room holds at most so many (withdrawn ones included).
if not raw and redis.call('HLEN', notes) >= tonumber(ARGV[9]) then return 'too_many' end
local ttl = tonumber(ARGV[8])
hset(notes, ARGV[2], cjson.encode({
  text = ARGV[4], norm = ARGV[5], hidden = hidden, pending = pending, seq = ARGV[3],
  withdrawn = false, created = created }))
-- A key this write may create gets the room's TTL: `notes` and `owners` only
-- grow (a new note id), but `mine` empties when a participant withdraws its
-- last note, so a note put again (or any new member) may re-create it.
if redis.call('HSET', owners, ARGV[2], ARGV[1]) == 1 then expire_new(owners, ttl) end
note_participant_seq(seqs, ARGV[1], seq, ttl)
if redis.call('SADD', mine, ARGV[2]) == 1 then expire_new(mine, ttl) end
bump(meta)
if not raw then expire_new(notes, ttl) end
return applied()
