-- KEYS: meta, agenda, notes, groups   ARGV: item id, seq, item json, allowed, max items, ttl, device
local meta, agenda, notes, groups = KEYS[1], KEYS[2], KEYS[3], KEYS[4]

local function linked(value)
  return value ~= nil and value ~= cjson.null
end

-- The note or group an item is promoted from must be in the room when the
-- link is made.  An edit that keeps the link is not checked again: the group
-- may have been removed since, and the item must stay editable.
local function source_error(before, item)
  local keeps = function(field) return before and before[field] == item[field] end
  if linked(item.note) and not keeps('note') and not live_note(notes, item.note) then
    return 'unknown_item'
  end
  if linked(item.group) and not keeps('group')
      and redis.call('HEXISTS', groups, item.group) == 0 then
    return 'unknown_item'
  end
  return nil
end

local err = phase_error(meta, ARGV[4])
if err then return err end
local existing = redis.call('HGET', agenda, ARGV[1])
local before = existing and cjson.decode(existing) or nil
local fresh = not before or before.removed
if fresh then
  local live = 0
  for _, raw in ipairs(redis.call('HVALS', agenda)) do
    if not cjson.decode(raw).removed then live = live + 1 end
  end
  if live >= tonumber(ARGV[5]) then return 'too_many' end
end
local item = cjson.decode(ARGV[3])
-- The live item this put edits (nil when it adds one, or brings back a removed one).
local current = (not fresh) and before or nil
err = source_error(current, item)
if err then return err end
if facilitator_dup(meta, ARGV[#ARGV], tonumber(ARGV[2])) then return 'dup' end
-- The distribution snapshot is taken when an item is first promoted: edits
-- keep it, unless the item now addresses another norm.
if before and linked(before.snapshot) and before.norm == item.norm then
  item.snapshot = before.snapshot
end
local version = bump(meta)
-- Items with the same position are listed in the order they were added: the
-- room's version at creation is a per-room counter that only grows and lives
-- as long as the room, unlike the random item id.  Edits keep it.
if current then
  item.created = current.created
else
  item.created = version
end
hset(agenda, ARGV[1], cjson.encode(item))
expire_new(agenda, tonumber(ARGV[6]))
return applied()
