-- A withdrawn note keeps a tombstone (its seq, no text), so that a late replay
-- of the put_note that created it cannot bring it back.
-- KEYS: meta, notes, owners, mine, seqs   ARGV: pid, note id, seq, allowed
local meta, notes, owners, mine, seqs = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local err = phase_error(meta, ARGV[4])
if err then return err end
if redis.call('HGET', owners, ARGV[2]) ~= ARGV[1] then return 'unknown_item' end
local note = cjson.decode(redis.call('HGET', notes, ARGV[2]))
if tonumber(note.seq) >= tonumber(ARGV[3]) then return 'dup' end
hset(notes, ARGV[2], cjson.encode({
  text = '', norm = '', hidden = note.hidden, seq = ARGV[3], withdrawn = true }))
redis.call('SREM', mine, ARGV[2])
note_participant_seq(seqs, ARGV[1], tonumber(ARGV[3]))
bump(meta)
return applied()
