/** SSE /events: framing, subscriptions from the query, Last-Event-ID replay, keep-alive, lagging. */
import { type IncomingMessage, request } from 'node:http';
import { connect } from 'node:net';
import { EventSource } from 'eventsource';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type Broadcaster,
  formatSseComment,
  formatSseEvent,
  parseLastEventId,
  startBroadcaster,
} from '../src/index.js';
import { getJson, testOutput, testResult, testStarted, waitFor, waitForAsync } from './helpers.js';

let broadcaster: Broadcaster | undefined;
const closers: (() => void)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) close();
  await broadcaster?.close();
  broadcaster = undefined;
});

interface SseFrame {
  id?: string;
  event?: string;
  data?: string;
  retry?: string;
  comment?: string;
}

/** A spec-following parser (fields per line, blank line dispatches) to check our framing independently. */
function parseSse(text: string): SseFrame[] {
  const frames: SseFrame[] = [];
  let current: SseFrame = {};
  let data: string[] | undefined;
  for (const line of text.split(/\r\n|\r|\n/)) {
    if (line === '') {
      if (data) current.data = data.join('\n');
      if (Object.keys(current).length) frames.push(current);
      current = {};
      data = undefined;
      continue;
    }
    if (line.startsWith(':')) {
      current.comment = line.slice(1).trim();
      continue;
    }
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') {
      data ??= [];
      data.push(value);
    } else if (field === 'id' || field === 'event' || field === 'retry') current[field] = value;
  }
  return frames;
}

/** Raw HTTP SSE reader: keeps the text and parsed frames. */
function openRaw(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ res: IncomingMessage; text: () => string; frames: () => SseFrame[]; ended: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        text += chunk;
      });
      const ended = new Promise<void>((r) => res.on('close', () => r()));
      closers.push(() => req.destroy());
      resolve({ res, text: () => text, frames: () => parseSse(text), ended });
    });
    req.on('error', reject);
    req.end();
  });
}

const envelopes = (frames: SseFrame[]) =>
  frames
    .filter((f) => f.id && f.event && !['snapshot'].includes(f.event))
    .map((f) => JSON.parse(f.data as string));

describe('SSE framing', () => {
  it('prefixes every line of a multi-line payload with data:', () => {
    const text = formatSseEvent({ id: 'e:1', event: 'note', data: 'first\nsecond\r\nthird\rfourth' });
    expect(text).toBe('id: e:1\nevent: note\ndata: first\ndata: second\ndata: third\ndata: fourth\n\n');
    expect(parseSse(text)).toEqual([{ id: 'e:1', event: 'note', data: 'first\nsecond\nthird\nfourth' }]);
  });

  it('cannot be broken out of by newlines in id or event', () => {
    const text = formatSseEvent({ id: '1\ndata: forged', event: 'x\n\nevent: y', data: '{}' });
    expect(parseSse(text)).toEqual([{ id: '1data: forged', event: 'xevent: y', data: '{}' }]);
  });

  it('formats comments and parses Last-Event-ID', () => {
    expect(formatSseComment('keep-alive')).toBe(': keep-alive\n\n');
    expect(parseLastEventId('abc_-1:42')).toEqual({ epoch: 'abc_-1', since: 42 });
    expect(parseLastEventId('42')).toEqual({ epoch: undefined, since: 42 });
    expect(parseLastEventId('x:y')).toBeUndefined();
    expect(parseLastEventId('')).toBeUndefined();
  });
});

describe('SSE /events', () => {
  it('sends retry first, then events as id/event/data frames; the query selects and filters', async () => {
    const b = await startBroadcaster({ port: 0 });
    broadcaster = b;
    const all = await openRaw(`${b.url}/events`);
    const failed = await openRaw(`${b.url}/events?events=test.result&status=failed`);
    expect(all.res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    b.publish(testStarted());
    for (let i = 1; i <= 10; i++) b.publish(testResult(i));
    b.publish(testOutput('multi\nline\noutput'));
    await b.flush();
    await waitFor(() => envelopes(all.frames()).length === 12, '12 events on the unfiltered stream');
    await waitFor(() => envelopes(failed.frames()).length === 2, '2 failed results');
    expect(all.text().startsWith('retry: 1000\n\n')).toBe(true);
    const frames = all.frames();
    expect(frames[1]?.event).toBe('connection.established');
    const first = frames.find((f) => f.event === 'test.started') as SseFrame;
    expect(first.id).toBe(`${b.epoch}:1`);
    const output = envelopes(frames).find((e) => e.type === 'test.output');
    expect(output.data.output).toBe('multi\nline\noutput');
    expect(envelopes(failed.frames()).map((e) => e.data.id)).toEqual(['t5', 't10']);
  });

  it('an invalid subscription query is a 400', async () => {
    const b = await startBroadcaster({ port: 0 });
    broadcaster = b;
    const res = await fetch(`${b.url}/events?events=bad!`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toBe('INVALID_SUBSCRIPTION');
  });

  it('replays from Last-Event-ID (header and ?lastEventId=) in order without duplicates', async () => {
    const b = await startBroadcaster({ port: 0 });
    broadcaster = b;
    for (let i = 1; i <= 10; i++) b.publish(testResult(i));
    await b.flush();
    const viaHeader = await openRaw(`${b.url}/events?events=test.result`, {
      'Last-Event-ID': `${b.epoch}:6`,
    });
    const viaQuery = await openRaw(`${b.url}/events?events=test.result&lastEventId=${b.epoch}:8`);
    b.publish(testResult(11));
    await b.flush();
    await waitFor(() => envelopes(viaHeader.frames()).length === 5, 'replay + live via header');
    await waitFor(() => envelopes(viaQuery.frames()).length === 3, 'replay + live via query');
    expect(envelopes(viaHeader.frames()).map((e) => e.seq)).toEqual([7, 8, 9, 10, 11]);
    expect(envelopes(viaQuery.frames()).map((e) => e.seq)).toEqual([9, 10, 11]);
    const resumed = viaHeader.frames().find((f) => f.event === 'resumed');
    expect(JSON.parse(resumed?.data as string)).toMatchObject({ since: 6, replayed: 4 });
  });

  it('the eventsource client reconnects with Last-Event-ID and misses nothing', async () => {
    const b = await startBroadcaster({ port: 0 });
    broadcaster = b;
    const seen: number[] = [];
    let lastId = '';
    const es1 = new EventSource(`${b.url}/events?events=test.result`);
    closers.push(() => es1.close());
    es1.addEventListener('test.result', (e) => {
      seen.push(JSON.parse(e.data).seq);
      lastId = e.lastEventId;
    });
    await new Promise((r) => es1.addEventListener('connection.established', r));
    for (let i = 1; i <= 5; i++) b.publish(testResult(i));
    await b.flush();
    await waitFor(() => seen.length === 5, 'first five');
    es1.close();
    for (let i = 6; i <= 9; i++) b.publish(testResult(i));
    await b.flush();
    const es2 = new EventSource(`${b.url}/events?events=test.result`, {
      fetch: (input, init) =>
        fetch(input, {
          ...init,
          headers: { ...(init?.headers as Record<string, string>), 'Last-Event-ID': lastId },
        }),
    });
    closers.push(() => es2.close());
    es2.addEventListener('test.result', (e) => seen.push(JSON.parse(e.data).seq));
    await waitFor(() => seen.length === 9, 'all nine');
    expect(lastId).toBe(`${b.epoch}:5`);
    expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('another epoch or evicted history: a resume.failed event, then a snapshot event', async () => {
    const b = await startBroadcaster({ port: 0, history: { maxEvents: 3 } });
    broadcaster = b;
    b.publish(testStarted());
    for (let i = 1; i <= 6; i++) b.publish(testResult(i));
    await b.flush();
    const otherEpoch = await openRaw(`${b.url}/events`, { 'Last-Event-ID': 'oldepoch:3' });
    const evicted = await openRaw(`${b.url}/events?lastEventId=${b.epoch}:1`);
    for (const [stream, reason] of [
      [otherEpoch, 'EPOCH_CHANGED'],
      [evicted, 'HISTORY_EVICTED'],
    ] as const) {
      await waitFor(() => stream.frames().some((f) => f.event === 'snapshot'), 'snapshot');
      const frames = stream.frames();
      const failedAt = frames.findIndex((f) => f.event === 'resume.failed');
      expect(JSON.parse(frames[failedAt]?.data as string).reason).toBe(reason);
      const snapshot = frames[failedAt + 1] as SseFrame;
      expect(snapshot.event).toBe('snapshot');
      expect(snapshot.id).toBe(`${b.epoch}:7`);
      const body = JSON.parse(snapshot.data as string);
      expect(body.runs[0].counts.completed).toBe(6);
    }
  });

  it('sends a keep-alive comment on the configured interval', async () => {
    const b = await startBroadcaster({ port: 0, sseKeepAliveMs: 50 });
    broadcaster = b;
    const stream = await openRaw(`${b.url}/events`);
    await waitFor(() => stream.text().includes(': keep-alive\n\n'), 'a keep-alive comment', 2000);
  });

  it('a lagging SSE subscriber gets SUBSCRIBER_LAGGING, then the response ends; others keep going', async () => {
    const b = await startBroadcaster({ port: 0, subscriberQueue: { maxBytes: 64 * 1024 } });
    broadcaster = b;
    const slow = await openRaw(`${b.url}/events`);
    const fast = await openRaw(`${b.url}/events?events=test.output`);
    slow.res.pause();
    const EVENTS = 8000;
    for (let i = 0; i < EVENTS; i++) b.publish(testOutput(`${i} ${'q'.repeat(2000)}`));
    await b.flush();
    await waitForAsync(
      async () => (await getJson(`${b.url}/status`)).lagged === 1,
      'the slow subscriber to lag',
      10_000,
    );
    await waitFor(
      () => fast.text().split('\nevent: test.output\n').length - 1 === EVENTS,
      'the fast subscriber to get everything',
      10_000,
    );
    slow.res.resume();
    await slow.ended;
    const frames = slow.frames();
    const last = frames.at(-1) as SseFrame;
    expect(last.event).toBe('system.error');
    expect(last.id).toBeUndefined(); // keeps the client's Last-Event-ID at the last event it got
    const body = JSON.parse(last.data as string);
    expect(body.data.error.code).toBe('SUBSCRIBER_LAGGING');
    expect(body.data.gap.fromSeq).toBe(envelopes(frames).length + 1);
  });

  it('a lagging SSE reader that never reads again has its socket destroyed within the bound', async () => {
    const b = await startBroadcaster({
      port: 0,
      subscriberQueue: { maxBytes: 64 * 1024 },
      sseKeepAliveMs: 500,
    });
    broadcaster = b;
    const stalled = connect(b.port, '127.0.0.1');
    closers.push(() => stalled.destroy());
    stalled.on('error', () => {});
    stalled.pause();
    stalled.write(`GET /events HTTP/1.1\r\nHost: 127.0.0.1:${b.port}\r\n\r\n`);
    await waitForAsync(async () => (await getJson(`${b.url}/status`)).activeConnections === 1, 'the stream');
    for (let i = 0; i < 8000; i++) b.publish(testOutput(`${i} ${'q'.repeat(2000)}`));
    await b.flush();
    await waitForAsync(
      async () => (await getJson(`${b.url}/status`)).lagged === 1,
      'the reader to lag',
      10_000,
    );
    // Its response was ended after the notice; as it does not read, the socket goes (the stream with it).
    await waitForAsync(
      async () => (await getJson(`${b.url}/status`)).activeConnections === 0,
      'the stalled stream to be closed',
      10_000,
    );
  });
});
