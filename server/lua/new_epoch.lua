-- Give a room a new epoch because a mirror read it at a lower version than it
-- had seen at the same epoch: Redis came back older than what it acknowledged
-- (an appendfsync everysec crash).  Every process then closes its phones'
-- connections with 4503; they join again and re-send what the room lost.  A
-- heal window opens, as after a rebuild.
-- KEYS: meta   ARGV: the epoch the mirror saw, the new epoch, heal window (seconds)
local meta = KEYS[1]
local m = redis.call('HMGET', meta, 'phase', 'epoch')
if not m[1] then return 'room_not_found' end
-- Another process moved it on already: one new epoch is enough.
if (m[2] or '') ~= ARGV[1] then return 'ok' end
local now = tonumber(redis.call('TIME')[1])
hset(meta, 'epoch', ARGV[2])
hset(meta, 'heal_until', now + tonumber(ARGV[3]))
bump(meta, ARGV[2])
return applied()
