import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// The reporter's thread writes to the process's descriptors itself (worker-output.ts): its lines reach the
// runner's stderr although the runner's thread sets up no stream for them, and none of them pass through
// the runner's own process.stderr (where an adapter's output capture would take them for test output).
describe("the reporter's thread output", () => {
  it('reaches stderr without passing through the runner thread’s process.stderr', async () => {
    const dist = join(__dirname, '..', 'dist', 'index.cjs');
    const script = `
      let seen = '';
      const write = process.stderr.write.bind(process.stderr);
      process.stderr.write = (chunk, ...rest) => { seen += String(chunk); return write(chunk, ...rest); };
      const { createReporterCore } = require(${JSON.stringify(dist)});
      const core = createReporterCore({ framework: 'mocha', rootDir: process.cwd(), port: 0, performanceIntervalMs: 0 });
      core.testResult({ file: 'f.js', titlePath: ['t'] }, { status: 'passed', duration: 1 });
      void core.runCompleted({ success: true }).then(() => {
        process.stdout.write(JSON.stringify({ threadId: core.threadId, seen }));
      });
    `;
    const child = spawn(process.execPath, ['-e', script], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TESTWIRE_DEBUG: '1', TESTWIRE_PORT: '0' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    expect(await new Promise((resolve) => child.on('close', resolve))).toBe(0);
    const { threadId, seen } = JSON.parse(stdout) as { threadId?: number; seen: string };
    expect(threadId).toBeGreaterThan(0);
    // the thread's debug line of the run's final flush
    expect(stderr).toMatch(/testwire: run r_\S+: final flush done in \d+ ms/);
    expect(seen).not.toMatch(/final flush/);
  });
});
