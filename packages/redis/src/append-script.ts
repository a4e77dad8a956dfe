/**
 * The one way events enter a group's stream: a Lua script, so that numbering, de-duplication and trimming
 * happen in one step on the server.
 *
 *   meta hash  epoch  (set once: the group's epoch, which every serve of the group gives its subscribers)
 *              seq    (the last number given: each entry gets the next one, so seqs in the stream are contiguous)
 *              w:<writer> (the last batch number stored from that writer: a batch re-sent after a lost reply
 *                     is stored once)
 *              once:<key> (a derived event that may exist once, e.g. the group's test.completed)
 *   stream     XADD * s <seq> e <event JSON>, MAXLEN ~ <max>; both keys expire <ttl> s after the last write
 *
 * Returns the last seq written, or 0 when the batch was a duplicate (or a `once` already done).
 */
import type { Redis } from 'ioredis';

const APPEND_LUA = `
local meta = KEYS[2]
redis.call('HSETNX', meta, 'epoch', ARGV[3])
local writer = ARGV[4]
local batch = tonumber(ARGV[5])
local last = tonumber(redis.call('HGET', meta, writer) or '-1')
if last >= batch then return 0 end
redis.call('HSET', meta, writer, ARGV[5])
if ARGV[6] ~= '' then
  if redis.call('HSETNX', meta, 'once:' .. ARGV[6], '1') == 0 then return 0 end
end
local seq = 0
for i = 7, #ARGV do
  seq = redis.call('HINCRBY', meta, 'seq', 1)
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 's', seq, 'e', ARGV[i])
end
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('EXPIRE', meta, ARGV[2])
return seq
`;

export interface AppendArgs {
  keys: { stream: string; meta: string };
  /** MAXLEN ~ of the stream. */
  maxLen: number;
  ttlSeconds: number;
  /** The epoch to set if the group has none yet. */
  epoch: string;
  /** The writer's key in the meta hash (`w:<id>`), and its batch number (only grows). */
  writer: string;
  batch: number;
  /** A derived event that may be written once per group (`started`, `completed`), or ''. */
  once?: string;
  events: readonly string[];
}

type WithAppend = Redis & {
  testwireAppend(...args: (string | number)[]): Promise<number>;
};

/** Defines the script on this connection (EVALSHA, loaded again after a server restart). */
export function withAppend(redis: Redis): (args: AppendArgs) => Promise<number> {
  const r = redis as WithAppend;
  if (typeof r.testwireAppend !== 'function')
    r.defineCommand('testwireAppend', { numberOfKeys: 2, lua: APPEND_LUA });
  return (a) =>
    r.testwireAppend(
      a.keys.stream,
      a.keys.meta,
      a.maxLen,
      a.ttlSeconds,
      a.epoch,
      a.writer,
      a.batch,
      a.once ?? '',
      ...a.events,
    );
}
