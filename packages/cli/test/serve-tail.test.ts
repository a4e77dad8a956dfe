/**
 * `testwire serve` as the endpoint, a real mocha 11 run publishing into it through @testwire/mocha,
 * and `tail` / `status` reading it: the counts must agree with the run and with each other.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertBuilt,
  cli,
  FIXTURES,
  freePort,
  parseNdjson,
  run,
  runMocha,
  type Serve,
  startServe,
  status,
  subscribed,
  until,
} from './helpers.js';

beforeAll(assertBuilt);

describe('serve + mocha + tail', () => {
  let serve: Serve;
  beforeAll(async () => {
    serve = await startServe();
  });
  afterAll(async () => {
    expect(await serve.stop()).toBe(0);
  });

  it('tail --json sees every event of the run, in order, and agrees with the run and /status', async () => {
    const live = cli(['tail', '--url', serve.url, '--json', '--until', 'test.completed'], {
      timeoutMs: 45_000,
    });
    const exitStatus = cli(['tail', '--url', serve.url, '--exit-status', '--events', 'test.result'], {
      timeoutMs: 45_000,
    });
    await subscribed(serve.url, 2);

    const mocha = await runMocha(serve.url);
    expect(mocha.code, mocha.stderr).toBe(1); // the fixture has one failing test
    expect(mocha.stdout).toContain('4 passing');

    const tailed = await live;
    expect(tailed.code, tailed.stderr).toBe(0);
    const events = parseNdjson(tailed.stdout);
    const runId = events[0].runId;
    expect(events[0].type).toBe('test.started');
    expect(events.at(-1)!.type).toBe('test.completed');
    // One run, seqs strictly increasing: nothing lost or repeated.
    const runEvents = events.filter((e) => e.runId === runId);
    for (let i = 1; i < events.length; i++) expect(events[i].seq).toBeGreaterThan(events[i - 1].seq);

    const results = runEvents.filter((e) => e.type === 'test.result');
    const byStatus = (s: string) => results.filter((e) => e.data.status === s).length;
    // The fixture: adds, multiplies, waits a little, nested subtracts pass; divides fails; someday pending.
    expect(results).toHaveLength(6);
    expect([byStatus('passed'), byStatus('failed'), byStatus('skipped')]).toEqual([4, 1, 1]);
    const summary = runEvents.at(-1)!.data.summary;
    expect(summary).toMatchObject({ total: 6, passed: 4, failed: 1, skipped: 1, success: false });
    const failed = results.find((e) => e.data.status === 'failed')!;
    expect(failed.data.titlePath).toEqual(['math', 'divides']);

    // --exit-status follows the run: it failed, so 1; --events test.result still printed only results.
    const strict = await exitStatus;
    expect(strict.code, strict.stderr).toBe(1);
    expect(strict.stdout.trim().split('\n')).toHaveLength(6);
    expect(strict.stdout).toMatch(/test\.result +✗ math › divides \(\d+ ms\) 1 !== 2$/m);
    expect(strict.stdout).not.toContain('test.completed');

    // /status knows the run as completed, and its seq is the last event tail printed.
    const st = await status(serve.url);
    expect(st.runs).toEqual([expect.objectContaining({ runId, framework: 'mocha', status: 'completed' })]);
    expect(st.seq).toBeGreaterThanOrEqual(events.at(-1)!.seq);

    // --replay reads the same run from the endpoint's history: the same events, seq for seq.
    const replay = await cli([
      'tail',
      '--url',
      serve.url,
      '--json',
      '--replay',
      '--until',
      'test.completed',
      '--filter',
      `runId=${runId}`,
    ]);
    expect(replay.code, replay.stderr).toBe(0);
    const replayed = parseNdjson(replay.stdout);
    expect(replayed.map((e) => `${e.seq}:${e.type}`)).toEqual(runEvents.map((e) => `${e.seq}:${e.type}`));

    // `status` (readable) lists it too.
    const readable = await cli(['status', '--url', serve.url]);
    expect(readable.code).toBe(0);
    expect(readable.stdout).toMatch(new RegExp(`mocha .* completed .*${runId}`));
  });

  it('tail --patterns/--filter narrows the stream', async () => {
    const failures = cli(
      [
        'tail',
        '--url',
        serve.url,
        '--patterns',
        'test.*',
        '--filter',
        'status=failed',
        '--json',
        '--until',
        'test.completed',
      ],
      {
        timeoutMs: 45_000,
      },
    );
    await subscribed(serve.url);
    await runMocha(serve.url);
    const out = await failures;
    expect(out.code, out.stderr).toBe(0);
    const events = parseNdjson(out.stdout);
    // status=failed matches the failing test.result and test.failed; test.completed is received for
    // --until but not printed, since it has no data.status.
    expect(events.map((e) => e.type).sort()).toEqual(['test.failed', 'test.result']);
    for (const event of events) expect(event.data.status).toBe('failed');
  });
});

describe('reconnect and resume', () => {
  it('tail --wait follows runs across the endpoint going away and coming back', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    // --no-host: tail waits for the endpoint instead of hosting it (the serves below bind the port).
    const tail = cli(
      ['tail', '--url', url, '--wait', '--no-host', '--json', '--until', 'test.completed', '--runs', '2'],
      { timeoutMs: 45_000 },
    );

    // Nothing is listening yet: tail waits (it says so). Then a first endpoint comes up, a run publishes and
    // the endpoint goes away; a second one comes up on the same port (a new epoch) with another run.
    await until(tail.stderr, (text) => text.includes(`testwire tail: waiting for ${url}`));
    const first = await startServe(['--port', String(port)]);
    await subscribed(url);
    const one = await run(process.execPath, [`${FIXTURES}/publish-run.mjs`, url, 'r_one', '3', '1']);
    expect(one.stdout).toContain('published r_one');
    expect(await first.stop()).toBe(0);

    const second = await startServe(['--port', String(port)]);
    try {
      await subscribed(url);
      const two = await run(process.execPath, [`${FIXTURES}/publish-run.mjs`, url, 'r_two', '2', '0']);
      expect(two.stdout).toContain('published r_two');
      const out = await tail;
      expect(out.code, out.stderr).toBe(0);
      expect(out.stderr).toMatch(/connection lost/);
      const events = parseNdjson(out.stdout);
      const count = (runId: string, type: string) =>
        events.filter((e) => e.runId === runId && e.type === type).length;
      expect([count('r_one', 'test.result'), count('r_one', 'test.completed')]).toEqual([4, 1]);
      expect([count('r_two', 'test.result'), count('r_two', 'test.completed')]).toEqual([2, 1]);
      expect(events.at(-1)).toMatchObject({ type: 'test.completed', runId: 'r_two' });
    } finally {
      expect(await second.stop()).toBe(0);
    }
  });

  it('watch --plain reports a run published while it waits for the endpoint, then exits with the summary', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    // --no-host: watch waits for the endpoint instead of hosting it (the serve below binds the port).
    const watch = cli(['watch', '--url', url, '--no-host', '--exit-when-done'], { timeoutMs: 45_000 });
    // The endpoint comes up only once watch has found nothing there and says it waits (piped: plain lines).
    await until(watch.stdout, (text) => text.includes(`testwire watch: waiting for ${url}`));
    const serve = await startServe(['--port', String(port)]);
    try {
      await subscribed(url);
      await run(process.execPath, [`${FIXTURES}/publish-run.mjs`, url, 'r_w', '2', '1']);
      const out = await watch;
      expect(out.code, out.stderr).toBe(0);
      expect(out.stdout).toContain(`testwire watch: connected to ${url}`);
      expect(out.stdout).toMatch(/▶ mocha fixture started \(3 tests\) r_w/);
      expect(out.stdout).toContain('✗ mocha fixture: math › case 2  expected 2 to equal 42');
      expect(out.stdout).toMatch(
        /testwire watch: 1 of 1 run completed\n✗ mocha fixture {2}failed {2}2 passed, 1 failed of 3/,
      );
    } finally {
      await serve.stop();
    }
  });
});
