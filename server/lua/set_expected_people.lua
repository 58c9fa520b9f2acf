-- The number of people the facilitator expects: it decides who waits from now
-- on, and admits or sends back nobody (admitting stays one click per device).
-- KEYS: meta   ARGV: expected, seq, allowed, device
local meta = KEYS[1]
local err = phase_error(meta, ARGV[3])
if err then return err end
if facilitator_dup(meta, ARGV[#ARGV], tonumber(ARGV[2])) then return 'dup' end
hset(meta, 'expected', ARGV[1])
bump(meta)
return applied()
