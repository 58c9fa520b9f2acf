-- KEYS: meta, people, orgs, seqs, waiting   ARGV: pid, org ('' = none), seq, allowed phases, ttl
-- Organisation types are fixed once the first rating round opened (a change
-- would then show which norms a person rated); one who has none may pick one once.
local meta, people, orgs, seqs = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local err = phase_error(meta, ARGV[4])
if err then return err end
local person = redis.call('HGET', people, ARGV[1])
if not person then
  if redis.call('HEXISTS', KEYS[5], ARGV[1]) == 1 then return 'not_admitted' end
  return 'not_joined'
end
local old_seq, old_org = split_seq(person)
if old_seq >= tonumber(ARGV[3]) then return 'dup' end
if redis.call('HGET', meta, 'phase') ~= 'lobby' and ARGV[2] ~= old_org
    and (old_org ~= '' or ARGV[2] == '') then
  return 'org_type_fixed'
end
local ttl = tonumber(ARGV[5])
note_participant_seq(seqs, ARGV[1], tonumber(ARGV[3]), ttl)
redis.call('HSET', people, ARGV[1], ARGV[3] .. '|' .. ARGV[2])
if old_org == ARGV[2] then return 'ok' end
if old_org ~= '' then hincr(orgs, old_org, -1) end
if ARGV[2] ~= '' then hincr(orgs, ARGV[2], 1) end
bump(meta)
expire_new(orgs, ttl)
return applied()
