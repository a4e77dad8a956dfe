/**
 * `testwire watch` under a REAL pseudo-terminal (tmux): the live frame redraws in place while a real
 * mocha run streams into `testwire serve`, and the screen ends with the run's summary.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, CLI, gate, runMocha, type Serve, startServe, subscribed, until } from './helpers.js';

const TMUX = '/usr/bin/tmux';
// A private tmux server for this test file, so nothing touches anyone else's sessions.
const SOCKET = `testwire-cli-${process.pid}`;
const tmux = (...args: string[]) => execFileSync(TMUX, ['-L', SOCKET, ...args], { encoding: 'utf8' });
const cursorVisible = (target: string) =>
  tmux('display-message', '-p', '-t', target, '#{cursor_flag}').trim() === '1';
const screen = () => tmux('capture-pane', '-p', '-t', 'watch');

// Skipped locally without tmux (with a note); under CI it must run, so a missing tmux fails the suite.
if (!existsSync(TMUX) && !process.env.CI)
  console.warn(`[testwire] watch pty tests SKIPPED: ${TMUX} not found (apt-get install -y tmux)`);
describe.skipIf(!existsSync(TMUX) && !process.env.CI)('watch in a terminal', () => {
  let serve: Serve;
  beforeAll(async () => {
    assertBuilt();
    serve = await startServe();
  });
  afterAll(async () => {
    try {
      tmux('kill-server');
    } catch {}
    await serve?.stop();
  });

  it('draws progress in place while the run goes on, and ends with the summary', async () => {
    // The pane keeps showing after watch exits (sleep), so the final screen can be read.
    const command = `TERM=xterm-256color NO_COLOR=1 ${process.execPath} ${CLI} watch --url ${serve.url} --runs 1; echo "WATCH-EXIT=$?"; sleep 120`;
    tmux('new-session', '-d', '-s', 'watch', '-x', '100', '-y', '30', command);
    await subscribed(serve.url);
    await until(screen, (s) => s.includes('● connected'));

    // The run is held in its third test until the mid-run frame has been read (not for a guessed while).
    const held = gate();
    try {
      const mocha = runMocha(serve.url, { env: { FIXTURE_GATE: held.path } });
      const midRun = await until(screen, (s) => /▸ waits a little/.test(s), 20_000);
      expect(midRun).toMatch(/● mocha @testwire-compat\/mocha-11 {2}running/);
      expect(midRun).toMatch(/[█░]+ 2\/6 {2}33% {2}2 passed/);
      // In place: one header, however many frames were drawn; the cursor is hidden while live.
      expect(midRun.match(/testwire watch {2}http/g)).toHaveLength(1);
      expect(cursorVisible('watch')).toBe(false);
      held.open();
      expect((await mocha).code).toBe(1);
    } finally {
      held.open(); // a failed expectation must not leave the run held until its timeout
      held.remove();
    }
    const final = await until(screen, (s) => s.includes('WATCH-EXIT='), 20_000);
    expect(final).toContain('WATCH-EXIT=0');
    expect(final).toContain('testwire watch: 1 of 1 run completed');
    expect(final).toMatch(
      /✗ mocha @testwire-compat\/mocha-11 {2}failed {2}4 passed, 1 failed, 1 skipped of 6 in [\d.]+ (ms|s)/,
    );
    expect(final).toContain('✗ math › divides  1 !== 2');
    // The live frame was erased before the summary: no leftover header or progress bar.
    expect(final).not.toContain('testwire watch  http');
    expect(final).not.toMatch(/[█░]{5}/);
    expect(cursorVisible('watch')).toBe(true);
  });

  it('Ctrl-C restores the cursor and prints what it saw', async () => {
    const command = `TERM=xterm-256color NO_COLOR=1 ${process.execPath} ${CLI} watch --url ${serve.url}; echo "WATCH-EXIT=$?"; sleep 120`;
    tmux('new-session', '-d', '-s', 'interrupt', '-x', '100', '-y', '30', command);
    const pane = () => tmux('capture-pane', '-p', '-t', 'interrupt');
    await until(pane, (s) => s.includes('● connected'));
    // The endpoint still holds the earlier run: it is on screen, as history.
    expect(pane()).toContain('✗ mocha @testwire-compat/mocha-11  failed');
    expect(cursorVisible('interrupt')).toBe(false);
    tmux('send-keys', '-t', 'interrupt', 'C-c');
    const final = await until(pane, (s) => s.includes('WATCH-EXIT='));
    expect(final).toContain('WATCH-EXIT=130');
    expect(final).toContain('(interrupted)');
    expect(cursorVisible('interrupt')).toBe(true);
  });
});
