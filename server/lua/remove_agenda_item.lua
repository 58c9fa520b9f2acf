-- KEYS: meta, agenda   ARGV: item id, seq, allowed, device
local meta, agenda = KEYS[1], KEYS[2]
local err = phase_error(meta, ARGV[3])
if err then return err end
local raw = redis.call('HGET', agenda, ARGV[1])
if not raw then return 'unknown_item' end
if facilitator_dup(meta, ARGV[#ARGV], tonumber(ARGV[2])) then return 'dup' end
local item = cjson.decode(raw)
if item.removed then return 'ok' end
item.removed = true
hset(agenda, ARGV[1], cjson.encode(item))
bump(meta)
return applied()
