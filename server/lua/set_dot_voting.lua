-- KEYS: meta   ARGV: state, dots per participant, max per note, seq, allowed, device
local meta = KEYS[1]
local err = phase_error(meta, ARGV[5])
if err then return err end
if facilitator_dup(meta, ARGV[#ARGV], tonumber(ARGV[4])) then return 'dup' end
hset(meta, 'voting', ARGV[1])
hset(meta, 'dots', ARGV[2])
hset(meta, 'maxnote', ARGV[3])
bump(meta)
return applied()
