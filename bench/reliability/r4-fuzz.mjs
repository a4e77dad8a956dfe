#!/usr/bin/env node
// R4 (issue 14), bigger: `--seeds` seeded fuzz runs of `--budget` hostile frames/requests each against a
// fresh owner process (the scenario is packages/broadcaster/test/fixtures/fuzz.mjs; CI runs one seed of
// 10,000). Flags: --seeds=5 --from=1 --budget=20000 --events=10000 --json=<path>
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { fixtures, flags, mb, ms, writeResult } from './common.mjs';

const f = flags();
const { fuzz } = await import(pathToFileURL(join(fixtures, 'fuzz.mjs')).href);
const seeds = f.seeds ?? 5;
const runs = [];
for (let seed = f.from ?? 1; seed < (f.from ?? 1) + seeds; seed++) {
  const r = await fuzz({ seed, budget: f.budget ?? 20_000, events: f.events ?? 10_000, timeoutMs: 600_000 });
  runs.push(r);
  console.log(
    `seed ${seed}: ${r.sent} sent (${r.wsFrames} WS frames on ${r.ws} connections, ${r.http} HTTP requests, ${r.half} half-open) in ${ms(r.fuzzMs)} ms; ` +
      `alive ${r.alive}, stderr ${r.stderr ? JSON.stringify(r.stderr.slice(0, 200)) : 'empty'}, healthy ${r.healthy}; ` +
      `RSS growth ${mb(r.owner.maxRss - r.owner.idleRss)} MiB, loop max ${ms(r.owner.loopMaxMs)} ms; answers ${JSON.stringify(r.responses)}`,
  );
}
const total = runs.reduce((n, r) => n + r.sent, 0);
const crashes = runs.filter((r) => !r.alive || r.stderr).length;
const unhealthy = runs.filter((r) => r.healthy !== 'complete').length;
const maxGrowth = Math.max(...runs.map((r) => r.owner.maxRss - r.owner.idleRss));
console.log(
  `\nR4: ${total} hostile frames/requests over ${runs.length} seeds: ${crashes} crashes, ${unhealthy} healthy subscribers affected, max RSS growth ${mb(maxGrowth)} MiB`,
);
const file = writeResult('r4-fuzz', { total, crashes, unhealthy, maxGrowth, runs }, f.json);
console.log(`wrote ${file}`);
