-- KEYS: meta, previous, ballots, tally   ARGV: template, facilitator token hash, join token, ttl, default dots,
--   the earlier scan this room follows up ('' if none),
--   the session's name, region and date (ARGV[7..9]; name and region may be ''),
--   the presenter view's display token (ARGV[10]), the room's epoch (ARGV[11]),
--   the number of people expected (ARGV[12]), admission of devices on or off ('1'/'0', ARGV[13])
if redis.call('EXISTS', KEYS[1]) == 1 then return 'exists' end
redis.call('HSET', KEYS[1], 'template', ARGV[1], 'phase', 'lobby', 'round', 1, 'locked', 0,
  'version', 1, 'fac', ARGV[2], 'join', ARGV[3],
  'voting', 'closed', 'dots', ARGV[5], 'maxnote', ARGV[5], 'dots_cast', 0, 'timer', '')
redis.call('HSET', KEYS[1], 'session_name', ARGV[7], 'session_region', ARGV[8],
  'session_date', ARGV[9])
-- The presenter view's read-only token; moderation of notes is on by default.
redis.call('HSET', KEYS[1], 'disp', ARGV[10], 'moderation', 1)
-- The room's epoch: new whenever its state in Redis is (re)built, so that a
-- mirror of an older state knows it must read the room anew.
redis.call('HSET', KEYS[1], 'epoch', ARGV[11])
redis.call('HSET', KEYS[1], 'expected', ARGV[12], 'admission', ARGV[13])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[4]))
-- The markers that tell a lost tally or ballots hash from an empty one.
for i = 3, 4 do
  redis.call('HSET', KEYS[i], MARKER, '1')
  redis.call('EXPIRE', KEYS[i], tonumber(ARGV[4]))
end
if ARGV[6] ~= '' then
  redis.call('SET', KEYS[2], ARGV[6], 'EX', tonumber(ARGV[4]))
end
return 'ok'
