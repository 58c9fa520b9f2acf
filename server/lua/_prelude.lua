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

local function bump(meta)
  return redis.call('HINCRBY', meta, 'version', 1)
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
local function note_participant_seq(seqs, pid, seq)
  local last = tonumber(redis.call('HGET', seqs, pid) or '0')
  if seq > last then redis.call('HSET', seqs, pid, seq) end
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
