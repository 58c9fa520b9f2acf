-- KEYS: meta, agenda   ARGV: item id, seq, item json, allowed, max items, ttl, device
local meta, agenda = KEYS[1], KEYS[2]
local err = phase_error(meta, ARGV[4])
if err then return err end
local existing = redis.call('HGET', agenda, ARGV[1])
if not existing or cjson.decode(existing).removed then
  local live = 0
  for _, raw in ipairs(redis.call('HVALS', agenda)) do
    if not cjson.decode(raw).removed then live = live + 1 end
  end
  if live >= tonumber(ARGV[5]) then return 'too_many' end
end
if facilitator_dup(meta, ARGV[#ARGV], tonumber(ARGV[2])) then return 'dup' end
local item = ARGV[3]
if existing then
  -- The distribution snapshot is taken when an item is first promoted: edits
  -- keep it, unless the item now addresses another norm.
  local before = cjson.decode(existing)
  local updated = cjson.decode(item)
  if before.snapshot and before.snapshot ~= cjson.null and before.norm == updated.norm then
    updated.snapshot = before.snapshot
    item = cjson.encode(updated)
  end
end
redis.call('HSET', agenda, ARGV[1], item)
bump(meta)
expire_new(agenda, tonumber(ARGV[6]))
return 'ok'
