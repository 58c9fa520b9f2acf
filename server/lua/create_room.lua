-- KEYS: meta   ARGV: template, facilitator token hash, join token, ttl, default dots
if redis.call('EXISTS', KEYS[1]) == 1 then return 'exists' end
redis.call('HSET', KEYS[1], 'template', ARGV[1], 'phase', 'lobby', 'round', 1, 'locked', 0,
  'version', 1, 'fseq', 0, 'fac', ARGV[2], 'join', ARGV[3],
  'voting', 'closed', 'dots', ARGV[5], 'maxnote', ARGV[5], 'dots_cast', 0, 'timer', '')
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[4]))
return 'ok'
