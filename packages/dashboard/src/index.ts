/**
 * @testwire/dashboard for Node: where the built page is, so a broadcaster can serve it at `/`.
 *
 *   dist/
 *   ├─ index.js, index.cjs   this module
 *   └─ public/               the page: index.html, style.css, app.js (client bundled in), favicon.svg
 *
 * The broadcaster finds this package when it is installed (`import('@testwire/dashboard')`); it is never a
 * hard dependency of anything.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Absolute path of the static directory to serve at `/` (contains `index.html`). */
export const dashboardDir: string = join(dirname(fileURLToPath(import.meta.url)), 'public');
