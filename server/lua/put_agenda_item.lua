-- KEYS: meta, agenda   ARGV: item id, seq, item json, allowed, max items, ttl
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
if facilitator_dup(meta, tonumber(ARGV[2])) then return 'dup' end
redis.call('HSET', agenda, ARGV[1], ARGV[3])
bump(meta)
expire_new(agenda, tonumber(ARGV[6]))
return 'ok'
