-- Shared helpers, prepended to every script by server/store.py.
-- Status replies: 'ok' (applied), 'dup' (already applied: acknowledge, change
-- nothing), or an error code from protocol/errors.py.

-- The room's phase if it is one of `allowed` (",a,b,"), else an error code.
local function phase_error(meta, allowed)
  local phase = redis.call('HGET', meta, 'phase')
  if not phase then return 'room_not_found' end
  if not string.find(allowed, ',' .. phase .. ',', 1, true) then return 'wrong_phase' end
  return nil
end

-- A facilitator device's commands are applied in its sequence order: a replay
-- of an older command (e.g. an old set_phase after a reconnect) must not act.
-- Each device (browser tab, client) has its own counter, so two facilitator
-- windows never swallow each other's commands.  The device is the script's
-- last argument.
local function facilitator_dup(meta, device, seq)
  local field = 'fseq:' .. device
  local last = tonumber(redis.call('HGET', meta, field) or '0')
  if seq <= last then return true end
  redis.call('HSET', meta, field, seq)
  return false
end

-- The room stream.  Every write to the room's public state goes through
-- hset / hincr / hdel below, which record it; `bump` gives the change the
-- room's next version, and `applied` (the script's last step) publishes
-- "version|epoch|[[hash, field, value or false], ...]" on the room's channel, in the same atomic step,
-- so that versions on the stream are gapless and in order.
-- agenda/room_record.py applies the same delta to a process's in-memory
-- mirror of the room.  A script that changes the room bumps exactly once.
local delta = {}
-- Fields of meta no mirror may hold: tokens' hashes and per-device seqs.
local function private_meta(field)
  return field == 'fac' or field == 'join' or field == 'disp' or field == 'version'
    or string.sub(field, 1, 5) == 'fseq:'
end
-- The key's name within the room: 'kleur:{CODE}:tally' -> 'tally'.
local function key_name(key)
  return string.match(key, ':([%w_]+)$')
end
local MIRRORED = { meta = true, orgs = true, tally = true, notes = true, agenda = true,
  groups = true, votes = true, followup = true }
local function record(key, field, value)
  local name = key_name(key)
  if not MIRRORED[name] or (name == 'meta' and private_meta(field)) then return end
  delta[#delta + 1] = { name, field, value }
end
local function hset(key, field, value)
  value = tostring(value)
  redis.call('HSET', key, field, value)
  record(key, field, value)
end
local function hincr(key, field, by)
  local value = redis.call('HINCRBY', key, field, by)
  record(key, field, tostring(value))
  return value
end
local function hdel(key, field)
  redis.call('HDEL', key, field)
  record(key, field, false)
end
-- The number of participants changed (the count is public, who is not).
local function record_people(people)
  delta[#delta + 1] = { 'people', '', tostring(redis.call('HLEN', people)) }
end

-- A device came on or left the waiting list: the stream and the mirrors know
-- it by its device code only (the pseudonym stays in Redis).
local function record_waiting(code, waiting)
  delta[#delta + 1] = { 'waiting', code, waiting and '1' or false }
end

-- Whether a participant is one of the room's people (admitted); a device
-- that waits for the facilitator may not rate, write notes or put dots.
local function admitted(people, pid)
  return redis.call('HEXISTS', people, pid) == 1
end

-- The change's version: once per script that changed the room.  `epoch` may
-- be given when the script already read it (one command fewer).
local bumped = nil
local function bump(meta, epoch)
  local version = redis.call('HINCRBY', meta, 'version', 1)
  bumped = { meta = meta, version = version, epoch = epoch }
  return version
end

-- Publish the change on the room's stream (after all its writes, which the
-- message carries); the message, or nil when nothing changed.
local function publish()
  if not bumped then return nil end
  local epoch = bumped.epoch or redis.call('HGET', bumped.meta, 'epoch') or ''
  -- "version|epoch|[writes]": a subscriber reads the version without parsing
  -- the JSON, and drops what it already has (its own changes, heard again).
  local message = bumped.version .. '|' .. epoch .. '|' .. cjson.encode(delta)
  redis.call(PUBLISH_COMMAND, (string.gsub(bumped.meta, ':meta$', ':stream')), message)
  return message
end

-- The reply of a write script that applied its command: with the stream
-- message when it changed the room, so the process that ran it updates its
-- own mirror at once.
local function applied()
  local message = publish()
  if message then return { 'ok', message } end
  return 'ok'
end

-- The marker field create_room.lua (and rebuild.lua) puts in the tally and
-- ballots hashes: Redis deletes an empty hash, so without it a hash that was
-- lost (an evicted key) looks like one that is merely empty.  A script that
-- reads or moves the tally or ballots refuses with 'room_lost' when one is
-- missing, and the server rebuilds the room (rebuild.lua) instead of guessing.
local MARKER = '_'
local function lost_hash(ballots, tally)
  return redis.call('HEXISTS', ballots, MARKER) == 0 or redis.call('HEXISTS', tally, MARKER) == 0
end

-- Keys created after the room may not have an expiry yet: give them the room's.
local function expire_new(key, ttl)
  redis.call('EXPIRE', key, ttl, 'NX')
end

-- "seq|rest" -> seq, rest
local function split_seq(value)
  local sep = string.find(value, '|', 1, true)
  return tonumber(string.sub(value, 1, sep - 1)), string.sub(value, sep + 1)
end

-- The highest seq applied for a participant, returned on every join so that a
-- client that lost its counter (but kept its token) never reuses a seq.
-- `ttl` is given where the write may create the hash (the first seq of the room).
local function note_participant_seq(seqs, pid, seq, ttl)
  local last = redis.call('HGET', seqs, pid)
  if not last then
    redis.call('HSET', seqs, pid, seq)
    if ttl then expire_new(seqs, ttl) end
  elseif seq > tonumber(last) then
    redis.call('HSET', seqs, pid, seq)
  end
end

-- Whether a note is on the wall: it exists and was not withdrawn (a hidden
-- note still counts; hiding is moderation and can be undone).
local function live_note(notes, note_id)
  local raw = redis.call('HGET', notes, note_id)
  return raw ~= false and not cjson.decode(raw).withdrawn
end

-- The id of the note group that holds `note_id`, or nil.  Groups are few (at
-- most MAX_NOTE_GROUPS), so a scan is cheap.
local function group_of(groups, note_id)
  local all = redis.call('HGETALL', groups)
  for i = 1, #all, 2 do
    for _, member in ipairs(cjson.decode(all[i + 1]).notes) do
      if member == note_id then return all[i] end
    end
  end
  return nil
end
