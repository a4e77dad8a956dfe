import { Console } from 'node:console';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { OutputCapture } from '../src/capture.js';

function sink() {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      chunks.push(String(chunk));
      callback();
    },
  });
  return { stream, text: () => chunks.join('') };
}

function setup() {
  const out = sink();
  const err = sink();
  const console = new Console({ stdout: out.stream, stderr: err.stream });
  const captured: Array<[string, string, string | undefined]> = [];
  const capture = new OutputCapture((text, stream, method) => captured.push([text, stream, method]), {
    stdout: out.stream as unknown as NodeJS.WriteStream,
    stderr: err.stream as unknown as NodeJS.WriteStream,
    console,
  });
  return { out, err, console, captured, capture };
}

describe('OutputCapture', () => {
  it('passes every write through unchanged and reports it with its stream and console method', () => {
    const { out, err, console, captured, capture } = setup();
    capture.install();
    console.log('hello %s', 'you');
    console.warn('careful');
    console.info({ a: 1 });
    out.stream.write('raw\n');
    err.stream.write(Buffer.from('bytes\n'));
    capture.uninstall();

    expect(out.text()).toBe('hello you\n{ a: 1 }\nraw\n');
    expect(err.text()).toBe('careful\nbytes\n');
    expect(captured).toEqual([
      ['hello you\n', 'stdout', 'log'],
      ['careful\n', 'stderr', 'warn'],
      ['{ a: 1 }\n', 'stdout', 'info'],
      ['raw\n', 'stdout', undefined],
      ['bytes\n', 'stderr', undefined],
    ]);
  });

  it('captures nothing while suspended (reporter output) and nothing once uninstalled', () => {
    const { out, console, captured, capture } = setup();
    const write = out.stream.write;
    const log = console.log;
    capture.install();
    expect(out.stream.write).not.toBe(write);
    capture.suspend(console.log, console, ['  ✔ a spec line']);
    console.log('test line');
    capture.uninstall();
    console.log('after');
    expect(out.stream.write).toBe(write);
    expect(console.log).toBe(log);
    expect(out.text()).toBe('  ✔ a spec line\ntest line\nafter\n');
    expect(captured.map(([text]) => text)).toEqual(['test line\n']);
  });

  it('stays a pass-through when someone wrapped it before it was uninstalled', () => {
    const { out, captured, capture } = setup();
    capture.install();
    const ours = out.stream.write;
    const theirs = function (this: unknown, ...args: unknown[]) {
      return (ours as (...a: unknown[]) => boolean).apply(this, args);
    } as typeof ours;
    out.stream.write = theirs;
    capture.uninstall();
    expect(out.stream.write).toBe(theirs);
    out.stream.write('still works\n');
    expect(out.text()).toBe('still works\n');
    expect(captured).toEqual([]);
  });

  it('a listener that throws or prints does not break the write or loop', () => {
    const out = sink();
    const err = sink();
    let calls = 0;
    const capture = new OutputCapture(
      () => {
        calls++;
        err.stream.write('listener noise\n');
        throw new Error('listener bug');
      },
      {
        stdout: out.stream as unknown as NodeJS.WriteStream,
        stderr: err.stream as unknown as NodeJS.WriteStream,
      },
    );
    capture.install();
    expect(out.stream.write('x\n')).toBe(true);
    capture.uninstall();
    expect(out.text()).toBe('x\n');
    expect(err.text()).toBe('listener noise\n');
    expect(calls).toBe(1);
  });
});
