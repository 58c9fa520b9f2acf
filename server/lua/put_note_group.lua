-- A group may only name notes that are on the wall, so that it never points
-- at a note nobody can see (a typo'd id, a withdrawn note).
-- KEYS: meta, groups, notes   ARGV: group id, seq, group json, allowed, max groups, ttl, device
local meta, groups, notes = KEYS[1], KEYS[2], KEYS[3]
local err = phase_error(meta, ARGV[4])
if err then return err end
if redis.call('HEXISTS', groups, ARGV[1]) == 0
    and redis.call('HLEN', groups) >= tonumber(ARGV[5]) then
  return 'too_many'
end
for _, note_id in ipairs(cjson.decode(ARGV[3]).notes) do
  if not live_note(notes, note_id) then return 'unknown_item' end
end
if facilitator_dup(meta, ARGV[#ARGV], tonumber(ARGV[2])) then return 'dup' end
hset(groups, ARGV[1], ARGV[3])
bump(meta)
expire_new(groups, tonumber(ARGV[6]))
return applied()
