import { describe, expect, it } from 'vitest';
import { droppedFileError, droppedFiles, droppedTestFailure, reasonsOf } from '../src/dropped-files.js';

/** workerpool's message for a worker that exited while running a task. */
const died = (exitCode: string, signalCode: string) =>
  new Error(
    `Workerpool Worker terminated Unexpectedly\n    exitCode: \`${exitCode}\`\n    signalCode: \`${signalCode}\`\n    workerpool.script: \`worker.js\`\n`,
  );

describe('reasonsOf: which of mocha’s errors outside the run is which dropped file’s', () => {
  const a = { file: '/p/a.js' };
  const c = { file: '/p/c.js' };
  const files = ['/p/a.js', '/p/b.js', '/p/c.js'];

  it('pairs them in the order of the files, as mocha reports the rejections', () => {
    const paired = reasonsOf([c, a], ['reason a', 'reason c'], files);
    expect([paired.get(a), paired.get(c)]).toEqual(['reason a', 'reason c']);
  });

  it('one stream, one error: theirs, even when the stream named no file', () => {
    const unnamed = { file: undefined };
    expect(reasonsOf([unnamed], ['only'], files).get(unnamed)).toBe('only');
  });

  it('pairs nothing it cannot tell apart: counts that differ, a file it does not know', () => {
    expect(reasonsOf([a, c], ['one'], files).size).toBe(0);
    expect(reasonsOf([a, { file: undefined }], ['x', 'y'], files).size).toBe(0);
  });
});

describe('droppedTestFailure', () => {
  it('a worker that exited or was killed: says so, with its exit code or signal', () => {
    expect(droppedTestFailure(died('3', 'null'))).toMatchObject({
      rawStatus: 'worker died',
      error: { message: expect.stringMatching(/^The worker process died during this test \(exit code 3\)/) },
    });
    expect(droppedTestFailure(died('null', 'SIGKILL')).error.message).toMatch(/\(signal SIGKILL\)/);
  });

  it('another rejection: the file’s run failed, with its first line', () => {
    expect(droppedTestFailure(new Error('cannot serialize\nmore'))).toMatchObject({
      rawStatus: 'run failed',
      error: {
        message: expect.stringMatching(/^The file's run failed during this test \(cannot serialize\)/),
      },
    });
  });

  it('no reason known: claims neither', () => {
    expect(droppedTestFailure(undefined)).toMatchObject({
      rawStatus: 'file dropped',
      error: { message: expect.stringMatching(/^The worker process died, or the file's run failed/) },
    });
  });
});

describe('droppedFiles: which file each of mocha’s errors outside the run is', () => {
  const files = ['/p/a.js', '/p/b.js', '/p/c.js'];
  const unnamed = (reason: string) => ({ reason, file: undefined });

  it('mocha 12 names the file with each error: those', () => {
    expect(droppedFiles(files, new Set(), [{ reason: 'x', file: '/p/c.js' }])).toEqual([
      { file: '/p/c.js', reason: 'x' },
    ]);
  });

  it('before it: the files whose burst never came, in the order of the files, as many as the errors', () => {
    expect(droppedFiles(files, new Set(['/p/b.js']), [unnamed('first'), unnamed('second')])).toEqual([
      { file: '/p/a.js', reason: 'first' },
      { file: '/p/c.js', reason: 'second' },
    ]);
  });

  it('none when it cannot be told: more files without a burst than errors, or fewer', () => {
    expect(droppedFiles(files, new Set(['/p/b.js']), [unnamed('one')])).toEqual([]);
    expect(droppedFiles(files, new Set(files), [unnamed('one')])).toEqual([]);
  });
});

describe('droppedFileError', () => {
  it('a worker that died: says so, where (outside the tests, or during the one it was running) and how', () => {
    expect(droppedFileError(died('3', 'null'))).toMatchObject({
      message: expect.stringMatching(
        /^The worker process running this file died outside its tests \(in a hook, or while the file loaded\) \(exit code 3\)/,
      ),
    });
    expect(droppedFileError(died('null', 'SIGKILL'), 'runs')).toMatchObject({
      message: expect.stringMatching(/died during its test "runs" \(signal SIGKILL\)/),
    });
  });

  it('another rejection (the file failed to load): that error, as it is', () => {
    const error = new Error('`.only` is not supported in parallel mode');
    expect(droppedFileError(error)).toBe(error);
  });
});
