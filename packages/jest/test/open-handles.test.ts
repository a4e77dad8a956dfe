import { describe, expect, it } from 'vitest';
import { openHandleLeaks } from '../src/open-handles.js';

const ROOT = '/repo';
/** An open handle as jest's collectHandles makes it: an Error named after the resource, stack from its init. */
function handle(type: string, frames: string[]): Error {
  const error = new Error(type);
  error.stack = [`Error: ${type}`, ...frames.map((frame) => `    at ${frame}`)].join('\n');
  return error;
}
const CIRCUS_30 = [
  'Promise.finally.completed (/repo/node_modules/.pnpm/jest-circus@30.5.2/node_modules/jest-circus/build/jestAdapterInit.js:1834:28)',
  'new Promise (<anonymous>)',
  'callAsyncCircusFn (/repo/node_modules/.pnpm/jest-circus@30.5.2/node_modules/jest-circus/build/jestAdapterInit.js:1774:10)',
  'runTest (/repo/node_modules/.pnpm/jest-runner@30.5.2/node_modules/jest-runner/build/index.js:315:7)',
];
const CIRCUS_29 = [
  'Promise.then.completed (/repo/node_modules/jest-circus/build/utils.js:298:28)',
  'new Promise (<anonymous>)',
  'callAsyncCircusFn (/repo/node_modules/jest-circus/build/utils.js:231:10)',
];

describe('openHandleLeaks', () => {
  it("keeps the frames jest prints: node's and jest's own out, a library's in; location is the user's first", () => {
    const server = handle('TCPSERVERWRAP', [
      'TCP.emitInitNative (node:internal/async_hooks:202:43)',
      'Server.listen (node:net:2067:7)',
      'Function.listen (/repo/node_modules/express/lib/application.js:635:24)',
      'Object.start (/repo/test/app.test.js:4:7)',
      ...CIRCUS_30,
    ]);
    const [leak] = openHandleLeaks([server], ROOT, new Set(['/repo/test/app.test.js']), 30);
    expect(leak).toMatchObject({
      type: 'open_handle',
      leakType: 'TCPSERVERWRAP',
      testName: 'test/app.test.js',
      file: '/repo/test/app.test.js',
      location: 'test/app.test.js:4:7',
      size: 0,
      stackTrace: [
        'at Function.listen (node_modules/express/lib/application.js:635:24)',
        'at Object.start (test/app.test.js:4:7)',
      ],
    });
  });

  it('leaves out a handle whose frames equal an earlier one, as jest prints it once; jest 29 frames too', () => {
    const frames = [
      'setTimeout (node:timers:163:19)',
      'Object.<anonymous> (/repo/loop.test.js:2:31)',
      ...CIRCUS_29,
    ];
    const leaks = openHandleLeaks(
      [
        handle('Timeout', frames),
        handle('Timeout', frames),
        handle('Immediate', ['/repo/other.test.js:1:1']),
      ],
      ROOT,
      new Set(),
      29,
    );
    expect(leaks.map((leak) => [leak.leakType, leak.testName, leak.stackTrace])).toEqual([
      ['Timeout', 'loop.test.js', ['at Object.<anonymous> (loop.test.js:2:31)']],
      ['Immediate', 'other.test.js', ['at other.test.js:1:1']],
    ]);
  });

  it('takes anything else than a list of errors for no handles', () => {
    expect(openHandleLeaks(undefined, ROOT, new Set(), 30)).toEqual([]);
    expect(openHandleLeaks([null, {}], ROOT, new Set(), 30).map((leak) => leak.leakType)).toEqual([
      'handle',
      'handle',
    ]);
  });
});
