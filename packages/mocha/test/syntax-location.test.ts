/**
 * withSyntaxLocation on node's own SyntaxErrors (real `require`s of files that do not parse): the place node
 * heads the stack with — the one mocha prints — becomes the first frame; other errors are left as they are.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { withSyntaxLocation } from '../src/syntax-location.js';

const dir = mkdtempSync(join(tmpdir(), 'testwire-syntax-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The error node throws requiring a file of `source`. */
function requireError(name: string, source: string): Error {
  const file = join(dir, name);
  writeFileSync(file, source);
  try {
    createRequire(import.meta.url)(file);
  } catch (error) {
    return error as Error;
  }
  throw new Error(`${name} loaded`);
}

describe('withSyntaxLocation', () => {
  it('a token node points at: <file>:<line>:<column> first, node’s frames after it', () => {
    const error = requireError('token.cjs', "it('ok', () => {\n  const x = ;\n});\n");
    const located = withSyntaxLocation(error) as { name: string; message: string; stack: string };
    expect(located.name).toBe('SyntaxError');
    expect(located.message).toBe("Unexpected token ';'");
    const lines = located.stack.split('\n');
    expect(lines[0]).toBe("SyntaxError: Unexpected token ';'");
    expect(lines[1]).toBe(`    at ${join(dir, 'token.cjs')}:2:13`);
    expect(lines[2]).toMatch(/^ {4}at .*node:internal/);
  });

  it('a tab before the token counts as one column', () => {
    const error = requireError('tab.cjs', '\n\tconst x = ;\n');
    const located = withSyntaxLocation(error) as { stack: string };
    expect(located.stack.split('\n')[1]).toBe(`    at ${join(dir, 'tab.cjs')}:2:12`);
  });

  it('the end of the input (no caret): <file>:<line>', () => {
    const error = requireError('end.cjs', "it('ok', () => {\n");
    const located = withSyntaxLocation(error) as { stack: string };
    expect(located.stack.split('\n').slice(0, 2)).toEqual([
      'SyntaxError: Unexpected end of input',
      `    at ${join(dir, 'end.cjs')}:2`,
    ]);
  });

  it('an error that crossed from a --parallel worker as an Error: the type node wrote', () => {
    const error = requireError('worker.cjs', 'const = 1;\n');
    const crossed = { name: 'Error', message: error.message, stack: error.stack };
    const located = withSyntaxLocation(crossed) as { name: string; stack: string };
    expect(located.name).toBe('SyntaxError');
    expect(located.stack.split('\n')[1]).toBe(`    at ${join(dir, 'worker.cjs')}:1:7`);
  });

  it('other errors, and stacks without node’s head, as they are', () => {
    const thrown = new Error('boom');
    expect(withSyntaxLocation(thrown)).toBe(thrown);
    const missing = requireError('missing.cjs', "require('./nope');\n");
    expect(withSyntaxLocation(missing)).toBe(missing);
    expect(withSyntaxLocation('text')).toBe('text');
    expect(withSyntaxLocation(undefined)).toBe(undefined);
  });
});
