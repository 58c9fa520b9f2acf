-- Compare-and-set of the phase: the server computed the move from `expected`
-- with the pure transition table; if another process moved first, 'conflict'.
-- KEYS: meta, then every other room key (for the TTL)   ARGV: expected, new phase, new round, seq, ttl, device
local meta = KEYS[1]
local phase = redis.call('HGET', meta, 'phase')
if not phase then return 'room_not_found' end
-- Conflict first: a command that did not act must not use up its seq (the
-- server retries it with the phase it reads anew).
if phase ~= ARGV[1] then return 'conflict' end
if facilitator_dup(meta, ARGV[#ARGV], tonumber(ARGV[4])) then return 'dup' end
hset(meta, 'phase', ARGV[2])
hset(meta, 'round', ARGV[3])
-- A closed room has no countdown: phones would keep counting a timer nobody runs.
if ARGV[2] == 'closed' then hset(meta, 'timer', '') end
bump(meta)
local ttl = tonumber(ARGV[5])
for i = 1, #KEYS do redis.call('EXPIRE', KEYS[i], ttl) end
return applied()
