-- KEYS: meta, groups   ARGV: group id, seq, group json, allowed, max groups, ttl, device
local meta, groups = KEYS[1], KEYS[2]
local err = phase_error(meta, ARGV[4])
if err then return err end
if redis.call('HEXISTS', groups, ARGV[1]) == 0
    and redis.call('HLEN', groups) >= tonumber(ARGV[5]) then
  return 'too_many'
end
if facilitator_dup(meta, ARGV[#ARGV], tonumber(ARGV[2])) then return 'dup' end
redis.call('HSET', groups, ARGV[1], ARGV[3])
bump(meta)
expire_new(groups, tonumber(ARGV[6]))
return 'ok'
