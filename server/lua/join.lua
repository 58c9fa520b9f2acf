-- Register a participant device (if new) and return its own answers.
-- A new device is admitted (one of the room's people), or waits for the
-- facilitator when admission is on and either the expected number of people
-- came in already or the first rating round opened (agenda/room_model/admission.py).
-- In a restored room a device whose participant token the room issued
-- (server.keys.issued_here) is one of the people it had: it is admitted at
-- once, lock or not, while fewer than that many are back (meta 'restored').
-- KEYS: meta, people, ballots, notes, mine(pid), dots(pid), seqs, waiting,
--   then every other room key (for the TTL)
-- ARGV: pid, join token given ('' if none), max participants, ttl, max waiting,
--   whether the room issued the device's token ('1'/'0'),
--   the number of device codes that follow, the device's codes (first free one wins),
--   norm ids...
local meta, people, ballots, notes, mine, mydots = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local waiting = KEYS[8]
if redis.call('EXISTS', meta) == 0 then return {'room_not_found'} end
local m = redis.call('HMGET', meta, 'phase', 'round', 'locked', 'join', 'version', 'admission',
  'expected', 'restored')
local pid = ARGV[1]
local ncodes = tonumber(ARGV[7])
-- A closed room keeps no participants (set_phase.lua deleted them): whoever
-- comes back, or comes anew, sees the closed state and nothing is recorded.
if m[1] == 'closed' then
  if m[3] == '1' and ARGV[2] ~= m[4] then return {'room_locked'} end
  local none = {}
  for i = 8 + ncodes, #ARGV do none[#none + 1] = false end
  return {'ok', m[1], m[2], m[3], tostring(m[5]), '0|', none, {}, {}, {}, '0', false, false}
end
local person = redis.call('HGET', people, pid)
local code = redis.call('HGET', waiting, pid)
if not person and not code then
  local count = redis.call('HLEN', people)
  local back = ARGV[6] == '1' and count < tonumber(m[8] or '0')
  if not back and m[3] == '1' and ARGV[2] ~= m[4] then return {'room_locked'} end
  local queued = redis.call('HLEN', waiting)
  if count + queued >= tonumber(ARGV[3]) then return {'room_full'} end
  local must_wait = not back and m[6] == '1' and (count >= tonumber(m[7]) or m[1] ~= 'lobby')
  if not must_wait then
    person = '0|'
    redis.call('HSET', people, pid, person)
    record_people(people)
  else
    if queued >= tonumber(ARGV[5]) then return {'room_full'} end
    local taken = {}
    for _, c in ipairs(redis.call('HVALS', waiting)) do taken[c] = true end
    for i = 8, 7 + ncodes do
      if not taken[ARGV[i]] then code = ARGV[i]; break end
    end
    if not code then return {'room_full'} end
    redis.call('HSET', waiting, pid, code)
    record_waiting(code, true)
  end
  m[5] = bump(meta)
end
local ttl = tonumber(ARGV[4])
for i = 1, #KEYS do redis.call('EXPIRE', KEYS[i], ttl) end
local fields = {}
for i = 8 + ncodes, #ARGV do fields[#fields + 1] = m[2] .. '|' .. pid .. '|' .. ARGV[i] end
local ballot = {}
if #fields > 0 then ballot = redis.call('HMGET', ballots, unpack(fields)) end
local ids = redis.call('SMEMBERS', mine)
local own = {}
if #ids > 0 then own = redis.call('HMGET', notes, unpack(ids)) end
return {'ok', m[1], m[2], m[3], tostring(m[5]), person or '0|', ballot, ids, own,
  redis.call('HGETALL', mydots), redis.call('HGET', KEYS[7], pid) or '0',
  publish() or false, code or false}
