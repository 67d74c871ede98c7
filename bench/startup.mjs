#!/usr/bin/env node
// The start-up rows of the suite under their old name: `node bench/suite.mjs --only startup`
// (start-to-exit of run --rm true next to crun, runc, podman, docker and the floors). Other
// options pass through; see bench/README.md.
process.argv.splice(2, 0, '--only', 'startup');
await import('./suite.mjs');
