-- Admission on or off; off admits every waiting device at once.
-- KEYS: meta, people, waiting   ARGV: enabled ('1'/'0'), seq, allowed, ttl, device
local meta, people, waiting = KEYS[1], KEYS[2], KEYS[3]
local err = phase_error(meta, ARGV[3])
if err then return err end
if facilitator_dup(meta, ARGV[#ARGV], tonumber(ARGV[2])) then return 'dup' end
hset(meta, 'admission', ARGV[1])
if ARGV[1] == '0' then
  local queued = redis.call('HGETALL', waiting)
  if #queued > 0 then
    for i = 1, #queued, 2 do
      redis.call('HSET', people, queued[i], '0|')
      record_waiting(queued[i + 1], false)
    end
    redis.call('DEL', waiting)
    record_people(people)
    expire_new(people, tonumber(ARGV[4]))
  end
end
bump(meta)
return applied()
