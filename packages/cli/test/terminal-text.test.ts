/**
 * Event text reaches the terminal only as text (src/terminal-text.ts): unit checks, then `testwire tail` and
 * `status` on a real broadcaster whose events carry escape sequences a hostile suite could put in a title.
 */
import { type Broadcaster, startBroadcaster } from '@testwire/broadcaster';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { truncate, visibleLength } from '../src/monitor.js';
import { cellsOf, safeText, terminalSafe } from '../src/terminal-text.js';
import { assertBuilt, cli } from './helpers.js';

const OSC_TITLE = '\u001b]0;PWNED\u0007';
const OSC_CLIPBOARD = '\u001b]52;c;ZWNobyBwd25lZA==\u001b\\';
const OSC_LINK = '\u001b]8;;https://evil.example\u0007click\u001b]8;;\u0007';
const CLEAR = '\u001b[2J\u001b[H';
const CSI_8BIT = '\u009b2J';
const BIDI = 'login \u202edessap';
const HOSTILE = `${OSC_TITLE}${OSC_CLIPBOARD}${OSC_LINK}${CLEAR}${CSI_8BIT}${BIDI}\r\u0007`;
/** Anything that could act on a terminal: ESC, C1 controls, BEL, CR, bidi overrides. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: looking for control characters is the point
const ACTS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: the CLI's own colours
const SGR = /\u001b\[[0-9;]*m/g;

describe('safeText / terminalSafe', () => {
  it('removes escape sequences, controls and bidi overrides; a line stays one line, a block keeps its lines', () => {
    const line = safeText(`a\n${HOSTILE}\tb`);
    expect(line).not.toMatch(ACTS);
    expect(line).toBe('a clicklogin dessap  b');
    expect(safeText(`first\n${CLEAR}second\tthird`, true)).toBe('first\nsecond\tthird');
    expect(safeText('plain title')).toBe('plain title');
  });

  it('copies only what needed it, each string by its field', () => {
    const clean = { type: 'test.result', data: { testName: 'ok', titlePath: ['a', 'b'] } };
    expect(terminalSafe(clean)).toBe(clean);
    const event = {
      type: 'test.result',
      data: { testName: `t${CLEAR}\nx`, titlePath: [`s${OSC_TITLE}`], error: { message: `m\n${CLEAR}n` } },
    };
    const safe = terminalSafe(event);
    expect(safe.data).toEqual({ testName: 't x', titlePath: ['s'], error: { message: 'm\nn' } });
    expect(event.data.testName).toContain('\u001b');
  });

  it('counts wide characters as two cells, and cuts a line by cells', () => {
    expect(cellsOf('界'.codePointAt(0)!)).toBe(2);
    expect(cellsOf('a'.codePointAt(0)!)).toBe(1);
    expect(cellsOf(0x301)).toBe(0);
    expect(visibleLength('世界ab')).toBe(6);
    const cut = truncate('世界世界世界世界', 9);
    expect(visibleLength(cut)).toBeLessThanOrEqual(9);
    expect(cut.startsWith('世界世界')).toBe(true);
  });
});

describe('tail and status print event text only as text', () => {
  let broadcaster: Broadcaster;
  beforeAll(async () => {
    assertBuilt();
    broadcaster = await startBroadcaster({ port: 0, host: '127.0.0.1', logger: { warn() {} } });
    const runId = 'r_hostile';
    broadcaster.publish({
      type: 'test.started',
      runId,
      data: { framework: `mocha${OSC_TITLE}`, project: `p${OSC_CLIPBOARD}`, totalTests: 1, testFiles: [] },
    });
    broadcaster.publish({
      type: 'test.result',
      runId,
      data: {
        framework: 'mocha',
        testName: HOSTILE,
        titlePath: [HOSTILE],
        suite: '',
        file: `f${CLEAR}.js`,
        status: 'failed',
        duration: 1,
        id: 't_1',
        attempt: 1,
        error: { message: HOSTILE, stack: `    at x (${CSI_8BIT}a.js:1:1)` },
      },
    });
    broadcaster.publish({
      type: 'test.output',
      runId,
      data: {
        framework: 'mocha',
        output: `${OSC_CLIPBOARD}line one\nline two`,
        stream: 'stdout',
        outputType: 'stdout',
      },
    });
    broadcaster.publish({
      type: 'test.completed',
      runId,
      data: {
        framework: 'mocha',
        summary: {
          total: 1,
          passed: 0,
          failed: 1,
          skipped: 0,
          todo: 0,
          flaky: 0,
          duration: 1,
          success: false,
        },
      },
    });
    await broadcaster.flush();
  });
  afterAll(async () => {
    await broadcaster?.close({ timeoutMs: 500 });
  });

  it('tail --replay', async () => {
    const tailed = await cli(['tail', '--url', broadcaster.url, '--replay', '--until', 'test.completed'], {
      timeoutMs: 20_000,
      env: { FORCE_COLOR: '1', NO_COLOR: '' },
    });
    expect(tailed.code, tailed.stderr).toBe(0);
    expect(tailed.stdout).toContain('login dessap');
    expect(tailed.stdout).toContain('line two');
    // colours of its own (SGR) are all that is left of ESC
    expect(tailed.stdout.replace(SGR, '')).not.toMatch(ACTS);
  });

  it('status', async () => {
    const status = await cli(['status', '--url', broadcaster.url], { timeoutMs: 20_000 });
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain('mocha');
    expect(status.stdout).not.toMatch(ACTS);
  });
});
