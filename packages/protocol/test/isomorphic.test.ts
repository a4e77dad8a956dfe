import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/** The protocol runs in browsers too (dashboard, @testwire/client): no Node built-ins may reach its output. */
const NODE_ONLY = [
  /\bfrom\s*["'](node:)?(fs|path|os|net|http|https|crypto|url|util|events|stream|child_process|worker_threads|buffer|process)(\/[\w/]*)?["']/,
  /\brequire\(\s*["'](node:)?(fs|path|os|net|http|https|crypto|url|util|events|stream|child_process|worker_threads|buffer|process)(\/[\w/]*)?["']\s*\)/,
  /["']node:[\w/]+["']/,
  /\bimport\(\s*["']node:/,
  /\bprocess\.(env|cwd|versions|platform|hrtime)\b/,
  /\bBuffer\.\w+/,
];

const dir = (relative: string) => fileURLToPath(new URL(relative, import.meta.url));

/** Node-only modules, each its own export (`@testwire/protocol/tcp-listeners`) that no other module imports. */
const NODE_ENTRIES = /^tcp-listeners\./;

describe('isomorphic build', () => {
  it.each(['../src/', '../dist/'])('%s imports no Node built-ins', (relative) => {
    let files: string[];
    try {
      files = readdirSync(dir(relative)).filter(
        (f) => /\.(c?js|ts|d\.c?ts)$/.test(f) && !NODE_ENTRIES.test(f),
      );
    } catch {
      throw new Error(`${relative} is missing: run \`pnpm --filter @testwire/protocol build\` first`);
    }
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const text = readFileSync(dir(relative + file), 'utf8');
      for (const pattern of NODE_ONLY)
        expect(text, `${relative}${file} matches ${pattern}`).not.toMatch(pattern);
      expect(text, `${relative}${file} imports a Node-only module`).not.toMatch(/tcp-listeners/);
    }
  });

  it('the checks would catch a Node import', () => {
    const offending = [
      'import { readFileSync } from "node:fs";',
      "const fs = require('fs');",
      'process.env.X',
      "import('node:os')",
    ];
    for (const text of offending)
      expect(
        NODE_ONLY.some((p) => p.test(text)),
        text,
      ).toBe(true);
  });
});
