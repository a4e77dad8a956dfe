/**
 * Vitest's annotations (`annotate()` in a test, Vitest >= 3.2; read from `testCase.annotations()` when the
 * test ends) on the test's final `test.result`: every annotation as `annotations`, and those with a file as
 * `attachments` by reference (Vitest copies the file under its attachmentsDir; an inline body only by size).
 * Vitest 4's other artifacts carry no file of their own to point to; they are left out.
 */
import type { TestOutcome } from '@testwire/reporter-core';
import type { VitestTestCase } from './vitest-types.js';

export function withAnnotations(outcome: TestOutcome, testCase: VitestTestCase): void {
  const annotations = typeof testCase.annotations === 'function' ? testCase.annotations() : [];
  if (!annotations || annotations.length === 0) return;
  outcome.annotations = annotations.map((annotation) => ({
    type: annotation.type,
    message: annotation.message,
    ...(annotation.location
      ? { file: annotation.location.file, line: annotation.location.line, column: annotation.location.column }
      : {}),
  }));
  const attachments = [];
  for (const { message, attachment } of annotations) {
    if (!attachment) continue;
    const body = attachment.body;
    const size =
      typeof body === 'string'
        ? Buffer.byteLength(body)
        : body instanceof Uint8Array
          ? body.length
          : undefined;
    attachments.push({
      name: message,
      contentType: attachment.contentType ?? 'application/octet-stream',
      ...(attachment.path ? { path: attachment.path } : {}),
      ...(size !== undefined ? { size } : {}),
    });
  }
  if (attachments.length > 0) outcome.attachments = attachments;
}
