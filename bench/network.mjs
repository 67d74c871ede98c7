#!/usr/bin/env node
// The network rows of the suite under their old name: `node bench/suite.mjs --only http,throughput`
// (first HTTP answer on a published port; throughput and latency through it and directly). The
// bridge start-up row is in `--only startup`. See bench/README.md.
process.argv.splice(2, 0, '--only', 'http,throughput');
await import('./suite.mjs');
