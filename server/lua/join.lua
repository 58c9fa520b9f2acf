-- Register a participant (if new) and return its own answers.
-- KEYS: meta, people, ballots, notes, mine(pid), dots(pid), seqs, then every other room key (for the TTL)
-- ARGV: pid, join token given ('' if none), max participants, ttl, norm ids...
local meta, people, ballots, notes, mine, mydots = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
if redis.call('EXISTS', meta) == 0 then return {'room_not_found'} end
local m = redis.call('HMGET', meta, 'phase', 'round', 'locked', 'join', 'version')
local pid = ARGV[1]
-- A closed room keeps no participants (set_phase.lua deleted them): whoever
-- comes back, or comes anew, sees the closed state and nothing is recorded.
if m[1] == 'closed' then
  if m[3] == '1' and ARGV[2] ~= m[4] then return {'room_locked'} end
  local none = {}
  for i = 5, #ARGV do none[#none + 1] = false end
  return {'ok', m[1], m[2], m[3], tostring(m[5]), '0|', none, {}, {}, {}, '0', false}
end
local person = redis.call('HGET', people, pid)
if not person then
  if m[3] == '1' and ARGV[2] ~= m[4] then return {'room_locked'} end
  if redis.call('HLEN', people) >= tonumber(ARGV[3]) then return {'room_full'} end
  person = '0|'
  redis.call('HSET', people, pid, person)
  record_people(people)
  m[5] = bump(meta)
end
local ttl = tonumber(ARGV[4])
for i = 1, #KEYS do redis.call('EXPIRE', KEYS[i], ttl) end
local fields = {}
for i = 5, #ARGV do fields[#fields + 1] = m[2] .. '|' .. pid .. '|' .. ARGV[i] end
local ballot = {}
if #fields > 0 then ballot = redis.call('HMGET', ballots, unpack(fields)) end
local ids = redis.call('SMEMBERS', mine)
local own = {}
if #ids > 0 then own = redis.call('HMGET', notes, unpack(ids)) end
return {'ok', m[1], m[2], m[3], tostring(m[5]), person, ballot, ids, own,
  redis.call('HGETALL', mydots), redis.call('HGET', KEYS[7], pid) or '0',
  publish() or false}
