-- KEYS: meta, followup, previous   ARGV: item index, status, seq, allowed, ttl, device
local meta, followup = KEYS[1], KEYS[2]
local err = phase_error(meta, ARGV[4])
if err then return err end
-- Only an item the earlier scan had (none without an earlier scan).
local previous = redis.call('GET', KEYS[3])
if not previous then return 'unknown_item' end
local items = cjson.decode(previous).items
if type(items) ~= 'table' or tonumber(ARGV[1]) >= #items then return 'unknown_item' end
if facilitator_dup(meta, ARGV[#ARGV], tonumber(ARGV[3])) then return 'dup' end
hset(followup, ARGV[1], ARGV[2])
bump(meta)
expire_new(followup, tonumber(ARGV[5]))
return applied()
