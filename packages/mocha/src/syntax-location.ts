/**
 * Where a file that does not parse is wrong, as node says it and mocha prints it ("Exception during run:
 * /…/a.test.cjs:2", the source line, a caret under the column). Node heads a CommonJS SyntaxError's stack with
 * that place — `<file>:<line>`, the source line, the caret line, a blank line — before `SyntaxError: <message>`
 * and frames that are all node's loader (the file never ran). The core keeps a stack's frames and drops what
 * comes before the message, and with it the place: here it becomes the error's first frame,
 * `at <file>:<line>:<column>`, the one frame of the user's (the core's `stack`; every frame in `fullStack`).
 *
 * An ES module's SyntaxError has no place in its stack (mocha prints `SyntaxError[ @<file> ]: …`, the file
 * only): nothing is added, as nothing is for any other error.
 */

/**
 * Node's head of a SyntaxError stack: `<file>:<line>`, the source line and a caret under the column (tabs kept,
 * spaces else; no caret at the end of the input), blank lines, then the type as it writes it (`SyntaxError: `).
 */
const HEAD = /^(.+?):(\d+)\r?\n(?:[^\n]*\r?\n(?:([ \t]*)\^+[^\n]*\r?\n)?)?\s*(\w*Error): /;

/** An error as the core reads it (reporter-core's readError): what crosses into the stream. */
export interface LocatedError {
  name: string;
  message: string;
  stack: string;
  [key: string]: unknown;
}

/**
 * `error` with the place of its syntax error as its first frame (`<file>:<line>:<column>`, `<file>:<line>` when
 * node shows no column), when node's stack heads with one; else `error` itself. The copy keeps the error's own
 * fields (`code`, …); its type is the one node wrote (an error that crossed from a --parallel worker is an Error).
 */
export function withSyntaxLocation(error: unknown): unknown {
  if (!error || typeof error !== 'object') return error;
  const { stack, message } = error as { stack?: unknown; message?: unknown };
  if (typeof stack !== 'string' || typeof message !== 'string') return error;
  const head = HEAD.exec(stack);
  if (!head || !stack.startsWith(message, head[0].length)) return error;
  const [, file, line, indent, type] = head;
  const place = indent === undefined ? `${file}:${line}` : `${file}:${line}:${indent.length + 1}`;
  const frames = stack.slice(head[0].length + message.length).replace(/^\r?\n/, '');
  const located: LocatedError = {
    ...(error as Record<string, unknown>),
    name: type,
    message,
    stack: `${type}: ${message}\n    at ${place}${frames ? `\n${frames}` : ''}`,
  };
  return located;
}
