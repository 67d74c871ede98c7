#!/usr/bin/env node
// The detached-container rows of the suite under their old name:
// `node bench/suite.mjs --only parallel,exec` (N parallel starts, monitor memory, exec, ps).
// See bench/README.md.
process.argv.splice(2, 0, '--only', 'parallel,exec');
await import('./suite.mjs');
