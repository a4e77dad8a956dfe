import { spawn } from 'node:child_process';
import { Console } from 'node:console';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { type HeldOutput, LoadOutput, writtenFrom } from '../src/load-output.js';

describe('LoadOutput', () => {
  it('holds each write with the files on its stack, innermost first; route() sends writes elsewhere', () => {
    const chunks: string[] = [];
    const stream = new Writable({
      write(chunk, _encoding, callback) {
        chunks.push(String(chunk));
        callback();
      },
    });
    const stderr = new Writable({ write: (_chunk, _encoding, callback) => callback() });
    const console = new Console({ stdout: stream, stderr });
    const output = new LoadOutput({
      stdout: stream as unknown as NodeJS.WriteStream,
      stderr: stderr as unknown as NodeJS.WriteStream,
      console,
    }).start();
    const routed: string[] = [];
    console.log('held');
    output.route((text) => routed.push(text));
    console.log('routed');
    output.route(undefined);
    output.stop();
    console.log('after');
    const held = output.take();
    expect(held.map((h) => h.text)).toEqual(['held\n']);
    expect(routed).toEqual(['routed\n']);
    expect(chunks).toEqual(['held\n', 'routed\n', 'after\n']);
    // written from this file
    expect(held[0].files).toContain(__filename);
    expect(writtenFrom(held[0], new Set([__filename]))).toBe(__filename);
    expect(held[0]).toMatchObject({ stream: 'stdout', method: 'log' });
    expect(output.take()).toEqual([]);
  });

  it('writtenFrom: the first of the test files on the stack, none when none of them wrote it', () => {
    const held: HeldOutput = {
      text: 'x',
      stream: 'stdout',
      method: undefined,
      files: ['/p/helper.js', '/p/a.test.js'],
    };
    expect(writtenFrom(held, new Set(['/p/a.test.js', '/p/b.test.js']))).toBe('/p/a.test.js');
    expect(writtenFrom(held, new Set(['/p/b.test.js']))).toBeUndefined();
  });
});

// The capture starts only when mocha loads the package as its reporter: importing it (a tool, a test, a
// program that hands mocha the class) leaves the process's console and streams alone.
describe('what loading the built entry taps', () => {
  const dist = join(__dirname, '..', 'dist', 'index.cjs');
  const mocha = createRequire(import.meta.url).resolve('mocha');
  const tapped = async (load: string, env: NodeJS.ProcessEnv = {}) => {
    const script = `
      const write = process.stdout.write, log = console.log;
      const Mocha = require(${JSON.stringify(mocha)});
      ${load}
      process.stderr.write(JSON.stringify(process.stdout.write !== write || console.log !== log));
    `;
    const { TESTWIRE: _off, TESTWIRE_CAPTURE_OUTPUT: _capture, ...base } = process.env;
    const child = spawn(process.execPath, ['-e', script], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...base, ...env },
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    expect(await new Promise((resolve) => child.on('close', resolve))).toBe(0);
    return JSON.parse(stderr) as boolean;
  };

  it('imported, even beside a loaded mocha: nothing', async () => {
    expect(await tapped(`require(${JSON.stringify(dist)});`)).toBe(false);
  });

  it('loaded by mocha as its reporter: tapped, unless TESTWIRE=off or TESTWIRE_CAPTURE_OUTPUT=0', async () => {
    const byMocha = `new Mocha({ reporter: ${JSON.stringify(dist)} });`;
    expect(await tapped(byMocha)).toBe(true);
    expect(await tapped(byMocha, { TESTWIRE: 'off' })).toBe(false);
    expect(await tapped(byMocha, { TESTWIRE_CAPTURE_OUTPUT: '0' })).toBe(false);
  });
});
