-- KEYS: meta   ARGV: locked ('1'/'0'), seq, allowed, device
local meta = KEYS[1]
local err = phase_error(meta, ARGV[3])
if err then return err end
if facilitator_dup(meta, ARGV[#ARGV], tonumber(ARGV[2])) then return 'dup' end
hset(meta, 'locked', ARGV[1])
bump(meta)
return applied()
