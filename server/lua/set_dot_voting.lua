-- KEYS: meta   ARGV: state, dots per participant, max per note, seq, allowed, device
local meta = KEYS[1]
local err = phase_error(meta, ARGV[5])
if err then return err end
if facilitator_dup(meta, ARGV[#ARGV], tonumber(ARGV[4])) then return 'dup' end
redis.call('HSET', meta, 'voting', ARGV[1], 'dots', ARGV[2], 'maxnote', ARGV[3])
bump(meta)
return 'ok'
