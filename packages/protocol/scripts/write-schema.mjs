// Writes schema/testwire.schema.json from the built package, so the shipped JSON Schema is exactly what
// the runtime guards check. Run after tsup (the package's `build` script does it).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildJsonSchemaDocument } from '../dist/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const target = join(root, 'schema', 'testwire.schema.json');
mkdirSync(dirname(target), { recursive: true });
writeFileSync(target, `${JSON.stringify(buildJsonSchemaDocument(), null, 2)}\n`);
console.log(`wrote ${target}`);
