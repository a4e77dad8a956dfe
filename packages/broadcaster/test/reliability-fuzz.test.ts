/**
 * R4 (issue 14): 10,000 seeded hostile frames and requests against a real owner process
 * (test/fixtures/fuzz.mjs; bigger runs in bench/reliability/r4-fuzz.mjs). A failing seed replays with
 * `TESTWIRE_FUZZ_SEED=<seed>`.
 */
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ESM fixture shared with bench/reliability
import { fuzz } from './fixtures/fuzz.mjs';

const MiB = 1024 * 1024;
const seed = Number(process.env.TESTWIRE_FUZZ_SEED ?? 14);

describe('R4: fuzz', () => {
  it(`survives 10,000 hostile frames and requests (seed ${seed}); a healthy subscriber gets everything`, async () => {
    const r = await fuzz({ seed, budget: 10_000, events: 3_000 });
    expect(r.sent).toBeGreaterThanOrEqual(10_000);
    // It reached the server's paths: upgrades made, bad requests refused.
    expect(r.responses['101']).toBeGreaterThan(0);
    expect(r.responses['400']).toBeGreaterThan(0);
    // 0 crashes: the owner process is alive, answers /status, wrote nothing to stderr.
    expect(r.alive).toBe(true);
    expect(r.stderr).toBe('');
    // The healthy subscriber got every event published meanwhile, in order, once, and is still open.
    expect(r.healthy).toBe('complete');
    expect(r.healthyClose).toBeUndefined();
    // Bounded memory (README "Limits"): under 128 MiB of growth with 200 sockets held open.
    expect(r.owner.maxRss - r.owner.idleRss).toBeLessThan(128 * MiB);
  }, 240_000);
});
