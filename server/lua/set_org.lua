-- KEYS: meta, people, orgs, seqs   ARGV: pid, org ('' = none), seq, allowed phases, ttl
local meta, people, orgs, seqs = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local err = phase_error(meta, ARGV[4])
if err then return err end
local person = redis.call('HGET', people, ARGV[1])
if not person then return 'not_joined' end
local old_seq, old_org = split_seq(person)
if old_seq >= tonumber(ARGV[3]) then return 'dup' end
local ttl = tonumber(ARGV[5])
note_participant_seq(seqs, ARGV[1], tonumber(ARGV[3]), ttl)
redis.call('HSET', people, ARGV[1], ARGV[3] .. '|' .. ARGV[2])
if old_org == ARGV[2] then return 'ok' end
if old_org ~= '' then hincr(orgs, old_org, -1) end
if ARGV[2] ~= '' then hincr(orgs, ARGV[2], 1) end
bump(meta)
expire_new(orgs, ttl)
return applied()
