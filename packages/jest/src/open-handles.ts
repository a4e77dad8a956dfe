import { isBuiltin } from 'node:module';
import { isAbsolute, relative } from 'node:path';
import type { LeakInfo } from '@testwire/reporter-core';

/**
 * `jest --detectOpenHandles`: the handles jest found still open after the run, each a `performance.leak`
 * (type `open_handle`, size 0: jest counts handles, it does not weigh them).
 *
 * What jest gives (@jest/core collectHandles.ts, jest 29 and 30): an async hook records every resource the
 * test code creates (not promises, nor a few short-lived kinds), as an `Error` whose message is the
 * resource's type (`TCPSERVERWRAP`, `Timeout`, …) and whose stack is where it was made. After the run —
 * after the reporters' onRunComplete and globalTeardown, and 100 ms for closes under way — those still
 * referenced become `results.openHandles` (runJest processResults). The CLI prints them through
 * formatHandleErrors: each stack trimmed by jest-message-util (node's and jest's own frames out, paths
 * relative to rootDir), and a handle whose trimmed stack equals one before it left out (a timer set in a loop
 * is printed once). The stream sends what the CLI prints: the same handles, the same frames.
 */

/** A frame of a stack: `    at fn (/abs/file.js:3:8)` or `    at /abs/file.js:3:8`. */
const FRAME = /^\s*at (?:(.*?) \()?(.+?):(\d+):(\d+)\)?$/;
// jest-message-util's filters (removeInternalStackEntries).
const ANONYMOUS =
  /^\s*at (?:<anonymous>|(?:new )?Promise \(<anonymous>\)|Generator\.next \(<anonymous>\)|next \(native\))/;
/** A frame of jest's own packages: jest 30's pattern, and jest 29's (which also takes `jest-x/packages/`). */
const JEST_INTERNAL_30 =
  /^\s+at(?:.*[/\\])?(?:@jest[/\\][^/\\]+|[^/\\]*jest[^/\\]*)[/\\](?:build|node_modules)[/\\]/;
const JEST_INTERNAL_29 = /^\s+at.*?jest(-.*?)?(\/|\\)(build|node_modules|packages)(\/|\\)/;
const NODE_MODULES = /[/\\]node_modules[/\\]/;

const SUGGESTIONS = [
  'Jest found this handle still open after the run (--detectOpenHandles): it can keep Jest from exiting',
  'Close servers and sockets, clear timers and intervals, and stop what the test started in afterEach/afterAll',
];

interface Frame {
  /** The frame as jest prints it: `at fn (file.js:3:8)`, its path relative to rootDir. */
  text: string;
  /** Its absolute file as the stack has it. */
  file: string;
  /** `file:line:column`, the file relative to rootDir. */
  location: string;
  internal: boolean;
}

/**
 * One leak per handle jest prints, in jest's order. `testFiles`: the run's test files (absolute paths); a
 * handle is attributed to the first of them its stack passes through (a helper's timer, to the test file that
 * called the helper), else to the file of its location. `jestMajor` picks jest's own-frame filter.
 */
export function openHandleLeaks(
  handles: unknown,
  rootDir: string,
  testFiles: ReadonlySet<string>,
  jestMajor: number,
): LeakInfo[] {
  if (!Array.isArray(handles)) return [];
  const internal = jestMajor < 30 ? JEST_INTERNAL_29 : JEST_INTERNAL_30;
  const seen = new Set<string>();
  const leaks: LeakInfo[] = [];
  for (const handle of handles) {
    const stack = typeof handle?.stack === 'string' ? handle.stack : '';
    const leakType = typeof handle?.message === 'string' && handle.message ? handle.message : 'handle';
    const frames = trimmedFrames(stack, rootDir, internal);
    const stackTrace = frames.map((frame) => frame.text);
    // formatHandleErrors: a handle whose printed frames equal an earlier one's is not printed.
    if (stackTrace.length > 0) {
      const key = stackTrace.join('\n');
      if (seen.has(key)) continue;
      seen.add(key);
    }
    // The first frame of the user's code: what jest shows the code of (jest-message-util getTopFrame).
    const top = frames.find((frame) => !frame.internal && !NODE_MODULES.test(frame.file)) ?? frames[0];
    const testFile = frames.find((frame) => testFiles.has(frame.file))?.file ?? top?.file;
    const leak: LeakInfo = {
      type: 'open_handle',
      leakType,
      testName: testFile ? relativePath(rootDir, testFile) : '',
      size: 0,
      stackTrace,
      suggestions: SUGGESTIONS,
    };
    if (top) leak.location = top.location;
    if (testFile) leak.file = testFile;
    leaks.push(leak);
  }
  return leaks;
}

/** The frames of `stack` jest prints: node's and anonymous ones out, jest's own out but for the first. */
function trimmedFrames(stack: string, rootDir: string, internal: RegExp): Frame[] {
  const frames: Frame[] = [];
  for (const line of stack.split('\n')) {
    const match = FRAME.exec(line);
    if (!match || ANONYMOUS.test(line)) continue;
    const [, name, file, row, column] = match;
    if (isNodeInternal(file)) continue;
    const own = internal.test(line);
    // Jest keeps the first frame with a path even when it is its own.
    if (own && frames.length > 0) continue;
    const path = relativePath(rootDir, file);
    const location = `${path}:${row}:${column}`;
    frames.push({
      text: name ? `at ${name} (${location})` : `at ${location}`,
      file,
      location,
      internal: own,
    });
  }
  return frames;
}

/** node's own modules (`node:net`, `internal/timers`, `events.js`): stack-utils' nodeInternals, which jest uses. */
function isNodeInternal(file: string): boolean {
  const name = file.replace(/^node:/, '');
  return name.startsWith('internal/') || isBuiltin(name.replace(/\.js$/, '')) || file === 'native';
}

/** A stack's path as jest prints it: relative to rootDir, with forward slashes. */
function relativePath(rootDir: string, file: string): string {
  const path = file.startsWith('file://') ? new URL(file).pathname : file;
  return (isAbsolute(path) ? relative(rootDir, path) : path).replace(/\\/g, '/');
}
