import type { ReadResult, StoredMessage } from './broker.js';

/**
 * Lua shared by the publish and read scripts. Keys per channel (all with the channel in a `{hash tag}`):
 * a hash `meta` holding `epoch` and `seq`, and a stream whose entry ids are `<seq>-0`, so
 * "everything after seq N" is one XRANGE from `N+1-0`. Each entry holds `t` (publish time,
 * ms, from the broker's clock), `d` (the JSON data) and `n` (a random nonce naming this one
 * publish, so a node can tell when Redis rolled back and reused a seq for other data).
 *
 * The epoch is created once, when the hash has none. When it is created while an old stream still exists
 * (the meta hash was evicted or deleted on its own) that stream belongs to a dead history and
 * its ids would collide with the new seqs, so it goes too.
 */
const prelude = `
local function ensureEpoch(meta, stream, candidate)
  local epoch = redis.call('HGET', meta, 'epoch')
  if epoch then return epoch end
  redis.call('HSET', meta, 'epoch', candidate)
  redis.call('DEL', stream)
  return candidate
end

-- A Redis that restarted (or failed over) may have forgotten its last writes: seqs already
-- acknowledged would be handed out again, and a node that later noticed would reset the epoch,
-- deleting publishes acknowledged in between. So a channel remembers which Redis process
-- wrote it ('run', from INFO); one written by another process is a history that may have
-- been rolled back, and is dropped for a new epoch before anything is read or appended,
-- unless the node vouches that this Redis loses nothing across restarts (trusted = '1').
-- Returns the epoch.
local function certifiedEpoch(meta, stream, candidate, trusted)
  local run = string.match(redis.call('INFO', 'server'), 'run_id:(%x+)')
  local writer = redis.call('HGET', meta, 'run')
  if writer and writer ~= run and trusted ~= '1' then redis.call('DEL', meta, stream) end
  local epoch = ensureEpoch(meta, stream, candidate)
  if writer ~= run then redis.call('HSET', meta, 'run', run) end
  return epoch
end

-- Drops entries older than cutoff. Entries are in publish order, so scan from the oldest
-- and stop at the first one still young enough; each entry is looked at about once. Most
-- calls find nothing expired, and pay for one entry: reading 64 (with their data) on every
-- publish cost several times the rest of the script.
local function trimAge(stream, cutoff)
  local first = redis.call('XRANGE', stream, '-', '+', 'COUNT', 1)
  if #first == 0 or tonumber(first[1][2][2]) >= cutoff then return end
  local newest = redis.call('XREVRANGE', stream, '+', '-', 'COUNT', 1)
  if tonumber(newest[1][2][2]) < cutoff then redis.call('DEL', stream) return end
  while true do
    local oldest = redis.call('XRANGE', stream, '-', '+', 'COUNT', 64)
    if #oldest == 0 then return end
    for _, entry in ipairs(oldest) do
      if tonumber(entry[2][2]) >= cutoff then
        redis.call('XTRIM', stream, 'MINID', entry[1])
        return
      end
    end
    local last = oldest[#oldest][1]
    redis.call('XTRIM', stream, 'MINID', (tonumber(string.match(last, '^(%d+)')) + 1) .. '-0')
  end
end
`;

/**
 * Publish, atomically: dedup check, seq increment, append, trim, fan-out.
 * KEYS: meta, stream, [dedup key]. ARGV: candidate epoch, now, historySize, historyTtl,
 * dedupTtl, data JSON, pub/sub channel, stream expiry (ms), dedup key expiry (ms), nonce, and
 * the publish command (`PUBLISH`, or `SPUBLISH` in a cluster: the channel shares the keys' slot),
 * and `1` when this Redis keeps every write across restarts (else `0`, see certifiedEpoch). The
 * two expiries only collect garbage: trimming and the dedup window follow the broker's clock.
 * Returns `{ epoch, seq, duplicate (0|1) }`. The pub/sub payload is `<epoch> <seq> <nonce> <json>`.
 */
export const publishScript = `${prelude}
local meta, stream, seen = KEYS[1], KEYS[2], KEYS[3]
local now = tonumber(ARGV[2])
local epoch = certifiedEpoch(meta, stream, ARGV[1], ARGV[12])
if seen then
  local known = redis.call('GET', seen)
  if known then
    local e, s, t = string.match(known, '^(%S+) (%d+) (%d+)$')
    -- A publish of a dropped epoch is gone with it: publish it again.
    if e == epoch and now - tonumber(t) <= tonumber(ARGV[5]) then return { e, tonumber(s), 1 } end
  end
end
local seq = redis.call('HINCRBY', meta, 'seq', 1)
-- A channel with messages keeps its epoch and head for good (see readScript).
if seq == 1 then redis.call('PERSIST', meta) end
redis.call('XADD', stream, 'MAXLEN', ARGV[3], seq .. '-0', 't', ARGV[2], 'd', ARGV[6], 'n', ARGV[10])
trimAge(stream, now - tonumber(ARGV[4]))
-- PEXPIRE does nothing to a stream the trim deleted.
redis.call('PEXPIRE', stream, ARGV[8])
if seen then redis.call('SET', seen, epoch .. ' ' .. seq .. ' ' .. ARGV[2], 'PX', ARGV[9]) end
redis.call(ARGV[11], ARGV[7], epoch .. ' ' .. seq .. ' ' .. ARGV[10] .. ' ' .. ARGV[6])
return { epoch, seq, 0 }
`;

/**
 * Read after a seq: trims by age first so expired messages are never replayed.
 * KEYS: meta, stream. ARGV: candidate epoch, now, historyTtl, start id (`''`: head only),
 * id of an entry whose nonce to return (`''`: none), `1` when this Redis keeps every write
 * across restarts (else `0`).
 * Returns `{ epoch, head, first id or false, entries, that entry's nonce or false }`.
 */
export const readScript = `${prelude}
local meta, stream = KEYS[1], KEYS[2]
local epoch = certifiedEpoch(meta, stream, ARGV[1], ARGV[6])
local head = tonumber(redis.call('HGET', meta, 'seq') or '0')
-- Reading a channel nobody ever published to must not leave a key behind for good: clients
-- choose channel names. A day later such a channel starts a new epoch, which costs at most a
-- gap event with nothing lost.
if head == 0 then redis.call('PEXPIRE', meta, 86400000) end
trimAge(stream, tonumber(ARGV[2]) - tonumber(ARGV[3]))
local first = redis.call('XRANGE', stream, '-', '+', 'COUNT', 1)
local firstId = false
if #first > 0 then firstId = first[1][1] end
local entries = {}
if ARGV[4] ~= '' then entries = redis.call('XRANGE', stream, ARGV[4], '+') end
local checked = false
if ARGV[5] ~= '' then
  local found = redis.call('XRANGE', stream, ARGV[5], ARGV[5])
  if #found > 0 then checked = found[1][2][6] or false end
end
return { epoch, head, firstId, entries, checked }
`;

/**
 * Forgets a channel whose history Redis lost part of, so that the next call starts a new epoch.
 * KEYS: meta, stream. ARGV: the epoch found broken (a node that already reset it does nothing).
 */
export const resetScript = `
if redis.call('HGET', KEYS[1], 'epoch') == ARGV[1] then redis.call('DEL', KEYS[1], KEYS[2]) end
return 1
`;

/** One stream entry as Redis returns it: id and flat field list `t, ms, d, json, n, nonce`. */
type RawEntry = [string, string[]];

/** Seq of a stream entry id `<seq>-0`. */
const seqOfId = (id: string) => Number.parseInt(id, 10);

/** A message with the nonce of the publish that made it. */
export interface NoncedMessage extends StoredMessage {
  nonce: string;
}

/** What the read script found: the public result plus the nonces the fan-out checks. */
export interface TrackedRead extends ReadResult {
  messages: NoncedMessage[];
  /** Nonce of the entry asked to be checked; undefined when it is not retained. */
  checked: string | undefined;
}

/** Turns the read script's reply into a {@link TrackedRead}. */
export function parseRead(channel: string, reply: unknown): TrackedRead {
  const [epoch, head, firstId, entries, checked] = reply as [string, number, string | null, RawEntry[], string | null];
  const messages = entries.map(([id, fields]) => ({
    channel,
    epoch,
    seq: seqOfId(id),
    data: JSON.parse(fields[3] ?? 'null') as unknown,
    nonce: fields[5] ?? '',
  }));
  return { epoch, head, first: firstId ? seqOfId(firstId) : head + 1, messages, checked: checked ?? undefined };
}

/** Parses a pub/sub payload `<epoch> <seq> <nonce> <json>`; undefined when it is not one. */
export function parseLive(channel: string, payload: string): NoncedMessage | undefined {
  const [epoch, seqText, nonce] = payload.split(' ', 3);
  const seq = Number(seqText);
  if (!epoch || !nonce || !Number.isSafeInteger(seq) || seq < 1) return undefined;
  try {
    const data = JSON.parse(payload.slice(epoch.length + seqText!.length + nonce.length + 3)) as unknown;
    return { channel, epoch, seq, data, nonce };
  } catch {
    return undefined;
  }
}
