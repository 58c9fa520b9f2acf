-- Mark a room lost: it is gone from Redis, and a process that served it kept
-- its secrets (docs/protocol.md section 14).  Only while the room is absent
-- (a restore may have come first), and never over an existing marker.
-- KEYS: meta, lost   ARGV: the marker (JSON), its ttl
if redis.call('EXISTS', KEYS[1]) == 1 then return 'exists' end
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'EX', tonumber(ARGV[2])) then return 'ok' end
return 'dup'
