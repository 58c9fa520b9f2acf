-- KEYS: meta, groups   ARGV: group id, seq, allowed, device
local meta, groups = KEYS[1], KEYS[2]
local err = phase_error(meta, ARGV[3])
if err then return err end
if redis.call('HEXISTS', groups, ARGV[1]) == 0 then return 'unknown_item' end
if facilitator_dup(meta, ARGV[#ARGV], tonumber(ARGV[2])) then return 'dup' end
hdel(groups, ARGV[1])
bump(meta)
return applied()
