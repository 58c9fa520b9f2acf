-- Admit the waiting device with this code: it becomes one of the room's people.
-- KEYS: meta, people, waiting   ARGV: code, seq, allowed, ttl, device
local meta, people, waiting = KEYS[1], KEYS[2], KEYS[3]
local err = phase_error(meta, ARGV[3])
if err then return err end
-- The seq first (read, not yet noted): a resent admit of a device admitted
-- since is a duplicate, not an unknown code.
local field = 'fseq:' .. ARGV[#ARGV]
local seq = tonumber(ARGV[2])
if seq <= tonumber(redis.call('HGET', meta, field) or '0') then return 'dup' end
local queued = redis.call('HGETALL', waiting)
local pid = nil
for i = 1, #queued, 2 do
  if queued[i + 1] == ARGV[1] then pid = queued[i]; break end
end
if not pid then return 'unknown_item' end
redis.call('HSET', meta, field, seq)
redis.call('HDEL', waiting, pid)
redis.call('HSET', people, pid, '0|')
record_waiting(ARGV[1], false)
record_people(people)
expire_new(people, tonumber(ARGV[4]))
bump(meta)
return applied()
