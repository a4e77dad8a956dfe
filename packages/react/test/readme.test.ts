/** The README's dashboard example is the file the browser test renders, word for word. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

describe('README', () => {
  it('shows test/fixtures/dashboard-example.tsx verbatim', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const example = readFileSync(new URL('./fixtures/dashboard-example.tsx', import.meta.url), 'utf8');
    expect(readme).toContain(`\`\`\`tsx\n${example}\`\`\``);
  });
});
