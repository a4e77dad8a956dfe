import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
/** compat/jest-<major>: a real install of that jest, where this package is linked. */
export const compatDir = (major: number) => join(repo, 'compat', `jest-${major}`);
