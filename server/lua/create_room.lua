-- KEYS: meta, previous   ARGV: template, facilitator token hash, join token, ttl, default dots,
--   the earlier scan this room follows up ('' if none), display token
if redis.call('EXISTS', KEYS[1]) == 1 then return 'exists' end
redis.call('HSET', KEYS[1], 'template', ARGV[1], 'phase', 'lobby', 'round', 1, 'locked', 0,
  'version', 1, 'fac', ARGV[2], 'join', ARGV[3],
  'voting', 'closed', 'dots', ARGV[5], 'maxnote', ARGV[5], 'dots_cast', 0, 'timer', '')
-- The presenter view's read-only token; moderation of notes is on by default.
redis.call('HSET', KEYS[1], 'disp', ARGV[7], 'moderation', 1)
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[4]))
if ARGV[6] ~= '' then
  redis.call('SET', KEYS[2], ARGV[6], 'EX', tonumber(ARGV[4]))
end
return 'ok'
