-- KEYS: meta   ARGV: timer end (server ms since the epoch, '' for none), seq, allowed, device
local meta = KEYS[1]
local err = phase_error(meta, ARGV[3])
if err then return err end
if facilitator_dup(meta, ARGV[#ARGV], tonumber(ARGV[2])) then return 'dup' end
hset(meta, 'timer', ARGV[1])
bump(meta)
return applied()
