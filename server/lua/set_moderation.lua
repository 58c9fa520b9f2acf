-- Switch the moderation queue on or off.  Off lets the notes still waiting
-- through: the facilitator chose to stop checking, so nothing stays stuck.
-- KEYS: meta, notes   ARGV: '1'/'0', seq, allowed, device
local meta, notes = KEYS[1], KEYS[2]
local err = phase_error(meta, ARGV[3])
if err then return err end
if facilitator_dup(meta, ARGV[#ARGV], tonumber(ARGV[2])) then return 'dup' end
hset(meta, 'moderation', ARGV[1])
if ARGV[1] == '0' then
  local all = redis.call('HGETALL', notes)
  for i = 1, #all, 2 do
    local note = cjson.decode(all[i + 1])
    if note.pending then
      note.pending = false
      hset(notes, all[i], cjson.encode(note))
    end
  end
end
bump(meta)
return applied()
