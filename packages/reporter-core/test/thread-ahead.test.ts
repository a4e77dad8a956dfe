import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// startReporterThreadAhead (create.ts): a reporter that loads well before its runner makes it (mocha) starts
// the reporter's thread when it loads; the first reporter core then runs on that thread. Each case in a
// process of its own, with the built entry. Two things tell what happened: a Worker's thread exists as soon as
// it is constructed (one more entry in /proc/self/task, counted around the call), and Node numbers a process's
// workers 1, 2, … as they start, so a core's threadId tells whether it took a thread started before it.
const dist = join(__dirname, '..', 'dist', 'index.cjs');

async function threadIds(steps: string): Promise<(number | string | null)[]> {
  const script = `
    const { createReporterCore, startReporterThreadAhead } = require(${JSON.stringify(dist)});
    const options = { framework: 'mocha', rootDir: process.cwd(), port: 0, performanceIntervalMs: 0, env: {} };
    const ids = [];
    const tasks = () => require('node:fs').readdirSync('/proc/self/task').length;
    const ahead = (env) => {
      const before = tasks();
      startReporterThreadAhead(env);
      ids.push('+' + (tasks() - before));
    };
    const core = (extra = {}) => {
      const made = createReporterCore({ ...options, ...extra });
      ids.push(made.threadId ?? null);
      return made;
    };
    (async () => {
      ${steps}
      process.stdout.write(JSON.stringify(ids));
    })();
  `;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
  });
  expect(await new Promise((resolve) => child.on('close', resolve))).toBe(0);
  return JSON.parse(stdout) as (number | string | null)[];
}

/** A whole run through the core: its thread is up and has applied the calls. */
const run = (name: string) => `
  const ${name} = core();
  ${name}.runStarted({ totalTests: 1 });
  ${name}.testResult({ file: 'f.js', titlePath: ['t'] }, { status: 'passed', duration: 1 });
  await ${name}.runCompleted({ success: true });
`;

describe.skipIf(process.platform !== 'linux')('the reporter thread started ahead', () => {
  it('starts at once, and is the thread the first reporter core runs on, and the next ones', async () => {
    expect(await threadIds(`ahead({});\n${run('a')}\n${run('b')}`)).toEqual(['+1', 1, 1]);
  });

  it('is not started when the environment turns testwire or its thread off', async () => {
    expect(
      await threadIds(`ahead({ TESTWIRE: 'off' });\nahead({ TESTWIRE_THREAD: 'off' });\n${run('a')}`),
    ).toEqual(['+0', '+0', 1]);
  });

  it('is ended unused when the reporter is turned off by its options', async () => {
    // Stopped, it is not the next core's: that one starts thread 2.
    expect(await threadIds(`ahead({});\ncore({ enabled: false });\n${run('a')}`)).toEqual(['+1', null, 2]);
  });

  it('is ended unused when the reporter takes its calls in its own thread', async () => {
    expect(await threadIds(`ahead({});\ncore({ env: { TESTWIRE_THREAD: 'off' } });\n${run('a')}`)).toEqual([
      '+1',
      null,
      2,
    ]);
  });
});
