#!/usr/bin/env node
import { main } from './main.js';

const code = await main(process.argv.slice(2));
process.exitCode = code;
// Everything the commands open is closed by now; if some handle still lingers, don't hang the shell.
setTimeout(() => process.exit(code), 2000).unref();
