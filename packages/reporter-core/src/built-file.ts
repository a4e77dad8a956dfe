import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * A file of this package's build (`dist/<name>`), found beside this module once built, or in `dist` when this
 * module runs from the sources (the package's own tests run `src`, against a prior `pnpm build`).
 */
export function builtFile(name: string): string | undefined {
  const here = typeof __dirname === 'string' ? __dirname : dirname(fileURLToPath(import.meta.url));
  for (const candidate of [join(here, name), join(here, '..', 'dist', name)])
    if (existsSync(candidate)) return candidate;
  return undefined;
}
