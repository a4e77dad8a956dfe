// Runs a real mocha programmatically in this (child) process with @testwire/mocha's built dist and a sink
// that records every event, then writes {events, failures} as JSON to the file named in the spec.
// Usage: node run-mocha.mjs '<json spec>'  (see runMocha in ./run.ts for the spec's fields)
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const spec = JSON.parse(process.argv[2]);
const req = createRequire(join(spec.mochaDir, 'package.json'));
const mochaModule = await import(pathToFileURL(req.resolve('mocha')).href);
const Mocha = mochaModule.default ?? mochaModule;
const { createTestwireReporter } = await import(pathToFileURL(spec.reporterEntry).href);

const events = [];
// spec.plain: the same run without testwire (mocha's own reporter `spec.plain`), for output comparisons.
const Reporter = spec.plain
  ? spec.plain
  : createTestwireReporter({
      sink: (event) => events.push(event),
      performanceIntervalMs: 0,
      ...spec.defaults,
    });
const mocha = new Mocha({
  reporter: Reporter,
  reporterOptions: spec.reporterOptions ?? {},
  color: false,
  ...spec.mochaOptions,
});
for (const file of spec.files) mocha.addFile(join(spec.cwd, file));
await mocha.loadFilesAsync();
mocha.run((failures) => {
  writeFileSync(spec.out, JSON.stringify({ events, failures }));
  process.exitCode = failures ? 1 : 0;
});
