#!/usr/bin/env -S node --
// The minidock command. All logic lives in src/cli (compiled to dist/ by `npm run build`).
// The "--" matters: Node 20 reads --env-file anywhere on its command line, even after the
// script name, so `minidock run --env-file F` would be taken by node itself without it.
import '../dist/src/cli/main.js';
