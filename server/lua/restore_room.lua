-- Restore a lost room from its control view's last snapshot (POST
-- /api/rooms/{code}/restore): meta as create_room.lua writes it, with the
-- snapshot's phase, round and settings, the agenda and the note groups.
-- Tallies, ballots and notes come back from the phones, which join again and
-- re-send their answers; until then the room counts the people it had
-- ('restored'), so that join.lua admits them again without a wait.
-- KEYS: meta, tally, ballots, agenda, groups, lost
-- ARGV: template, facilitator token hash, join token, display token, ttl,
--   epoch, heal window seconds, people the room had, phase, round, locked,
--   expected people, admission ('1'/'0'), moderation ('1'/'0'),
--   session name, region, date, dot voting state, dots, max per note,
--   version before the restore, agenda items (JSON object id -> blob),
--   note groups (JSON object id -> blob)
local meta, tally, ballots, agenda, groups, lost = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
if redis.call('EXISTS', meta) == 1 then return 'exists' end
-- Only the facilitator the lost marker names may restore, checked here, in
-- the same atomic step that deletes the marker: a restore that read "no
-- marker" (or another's) just before a process wrote it cannot win.
local marker = redis.call('GET', lost)
if not marker or cjson.decode(marker)['fac'] ~= ARGV[2] then return 'not_lost' end
local ttl = tonumber(ARGV[5])
local now = redis.call('TIME')
local heal_until = tonumber(now[1]) + tonumber(ARGV[7])
-- A version above every one the room's clients saw (with a new epoch besides).
redis.call('HSET', meta, 'template', ARGV[1], 'fac', ARGV[2], 'join', ARGV[3], 'disp', ARGV[4],
  'version', tonumber(ARGV[21]), 'epoch', ARGV[6], 'heal_until', heal_until,
  'restored', ARGV[8], 'round', ARGV[10], 'locked', ARGV[11],
  'expected', ARGV[12], 'admission', ARGV[13], 'moderation', ARGV[14],
  'session_name', ARGV[15], 'session_region', ARGV[16], 'session_date', ARGV[17],
  'voting', ARGV[18], 'dots', ARGV[19], 'maxnote', ARGV[20], 'dots_cast', 0, 'timer', '')
-- The markers create_room.lua writes: "missing" must stay detectable.
redis.call('HSET', tally, '_', 1)
redis.call('HSET', ballots, '_', 1)
for id, blob in pairs(cjson.decode(ARGV[22])) do redis.call('HSET', agenda, id, blob) end
for id, blob in pairs(cjson.decode(ARGV[23])) do redis.call('HSET', groups, id, blob) end
for i = 1, 5 do redis.call('EXPIRE', KEYS[i], ttl) end
redis.call('DEL', lost)
bump(meta, ARGV[6])
-- The stream's message carries the phase; a mirror at another epoch reads the room whole.
hset(meta, 'phase', ARGV[9])
return applied()
