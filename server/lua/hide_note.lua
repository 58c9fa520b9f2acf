-- Hide a note, or show it; either way it leaves the moderation queue (showing
-- a pending note is how the facilitator approves it).
-- KEYS: meta, notes   ARGV: note id, hidden ('1'/'0'), seq, allowed, device
local meta, notes = KEYS[1], KEYS[2]
local err = phase_error(meta, ARGV[4])
if err then return err end
local raw = redis.call('HGET', notes, ARGV[1])
if not raw then return 'unknown_item' end
local note = cjson.decode(raw)
if note.withdrawn then return 'unknown_item' end
if facilitator_dup(meta, ARGV[#ARGV], tonumber(ARGV[3])) then return 'dup' end
note.hidden = (ARGV[2] == '1')
note.pending = false
hset(notes, ARGV[1], cjson.encode(note))
bump(meta)
return applied()
