/**
 * Serve's side of a group's stream once it joined the group: XREAD from the stream's first entry, each entry
 * appended to the mirror at its seq and applied to the group's view; after each read, the group's own events
 * the stream lacks (GroupView.derive) written back through the append script, once per group.
 */
import type { Mirror } from '@testwire/broadcaster';
import type { PublishedEvent } from '@testwire/protocol';
import type { Redis } from 'ioredis';
import { withAppend } from './append-script.js';
import { errorText } from './connection.js';
import type { GroupView } from './merge.js';
import type { RedisLink } from './redis-link.js';

/** How long a group's keys live after their last write (the derived events' writes; a shard's publisher sets its own). */
export const GROUP_TTL_SECONDS = 86_400;

export class ReadLoop {
  private stopped = false;
  private lastId = '0-0';
  /**
   * Added to the group's seqs to give the mirror's: 0 until the group's numbering starts again (Redis lost its
   * data), then what puts the new numbers after the last one served (see take).
   */
  private shift = 0;
  private readonly append: ReturnType<typeof withAppend>;

  constructor(
    private readonly reader: Redis,
    writer: Redis,
    private readonly keys: { stream: string; meta: string },
    private readonly mirror: Mirror,
    private readonly view: GroupView,
    private readonly count: number,
    private readonly logger: { warn(message: string): void },
    private readonly finish: (result: { success: boolean }) => void,
    /** Redis' clock: the entries' times are Redis', so is the group's duration. */
    private readonly now: () => number,
    /** Told of failed and answered reads (stderr, /status). */
    private readonly link: RedisLink,
  ) {
    this.append = withAppend(writer);
  }

  stop(): void {
    this.stopped = true;
  }

  async run(): Promise<void> {
    while (!this.stopped) {
      try {
        const reply = await this.reader.xread(
          'COUNT',
          this.count,
          'BLOCK',
          1000,
          'STREAMS',
          this.keys.stream,
          this.lastId,
        );
        if (this.stopped) return;
        this.link.ready();
        const entries = reply?.[0]?.[1] ?? [];
        for (const [id, fields] of entries) this.take(id, fields);
        // After a quiet second too: a shard that went quiet for good is lost after a while (GroupView).
        await this.derive();
      } catch (error) {
        if (this.stopped) return;
        this.link.failed(error);
        // The client reconnects by itself; wait a little so a persistent error does not spin.
        await new Promise((r) => setTimeout(r, 250).unref());
      }
    }
  }

  private take(id: string, fields: string[]): void {
    this.lastId = id;
    let seq = 0;
    let json: string | undefined;
    for (let i = 0; i + 1 < fields.length; i += 2) {
      if (fields[i] === 's') seq = Number(fields[i + 1]);
      else if (fields[i] === 'e') json = fields[i + 1];
    }
    if (!seq || json === undefined) return;
    const at = Number(id.slice(0, id.indexOf('-')));
    // Read past `lastId`, every entry is new to this serve: one numbered at or below the last seq served
    // means the group's numbering started again — Redis lost the group's data (a restart without
    // persistence, an eviction under maxmemory: the meta hash and its seq went too). Its events go on, after
    // a notice that says so, numbered after the last one served; dropped as duplicates, they were lost
    // without a word.
    if (seq + this.shift <= this.mirror.seq) {
      const notice = this.mirror.notice('serve', {
        message: `the group's stream in Redis started again at its seq ${seq} (served from seq ${this.mirror.seq + 2}): Redis lost the group's data, by a restart without persistence or an eviction`,
        code: 'SOURCE_RESET',
        severity: 'error',
        impact: "Events the group's shards wrote before it may be missing",
        recovery: 'Give Redis persistence (appendonly) or a noeviction policy for the group keys',
      });
      this.shift = notice + 1 - seq;
      this.logger.warn(
        `testwire serve: the group's stream in Redis started again at seq ${seq}: Redis lost its data (a restart without persistence, or an eviction); events written before it may be missing`,
      );
    }
    const served = seq + this.shift;
    let event: PublishedEvent;
    try {
      event = JSON.parse(json) as PublishedEvent;
    } catch {
      this.mirror.append(served, { type: 'not json' } as unknown as PublishedEvent);
      return;
    }
    // An event that failed validation stands as a notice at its seq: it is no shard's event.
    if (this.mirror.append(served, event) !== 'appended') return;
    this.view.apply(served, event, at);
    if (event.runId === this.view.runId && event.type === 'test.completed')
      this.finish({ success: (event.data as { summary?: { success?: boolean } }).summary?.success === true });
  }

  /** Writes the group's events the stream lacks (each kind once per read position, across every serve). */
  private async derive(): Promise<void> {
    const batch = this.mirror.seq;
    for (const write of this.view.derive(this.now())) {
      try {
        await this.append({
          keys: this.keys,
          maxLen: 100_000,
          ttlSeconds: GROUP_TTL_SECONDS,
          epoch: 'unused',
          // One writer per once-key: two shards lost in one read are two writes of the same batch.
          writer: `derive:${write.once ?? write.kind}`,
          batch,
          ...(write.once ? { once: write.once } : {}),
          events: [JSON.stringify(write.event)],
        });
        this.view.wrote(write);
      } catch (error) {
        this.logger.warn(`testwire serve: cannot write the group's ${write.kind} event: ${errorText(error)}`);
        return;
      }
    }
  }
}
