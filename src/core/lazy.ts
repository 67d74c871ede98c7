// Modules that cost milliseconds to load, loaded on first use. The CLI is bundled into one file
// (dist/bundle/main.cjs), where every static import runs at start: `import ... from
// 'node:child_process'` or 'tar' at the top of any module would tax every command, `run`
// included. createRequire is synchronous and node:module is loaded already. A dynamic import()
// of a module outside the bundle is not possible there (bin/minidock.js runs it from V8's code
// cache, where Node 20 has no import callback): builtins and CommonJS packages come from here.
import { createRequire } from 'node:module';

// Made on first use, not at load: import.meta.url is the bundle's place, known only when the
// command runs (the startup snapshot is built elsewhere, see src/cli/main.ts).
let req: NodeJS.Require | undefined;
const require = (id: string): any => (req ??= createRequire(import.meta.url))(id);

export const childProcess = (): typeof import('node:child_process') => require('node:child_process');
export const streamPromises = (): typeof import('node:stream/promises') => require('node:stream/promises');
export const cryptoLib = (): typeof import('node:crypto') => require('node:crypto');
export const zlibLib = (): typeof import('node:zlib') => require('node:zlib');
export const ttyLib = (): typeof import('node:tty') => require('node:tty');
/** node-tar (its CommonJS build): ~35 ms to load with its dependencies. */
export const tarLib = (): typeof import('tar') => require('tar');
export const netLib = (): typeof import('node:net') => require('node:net');
