#!/usr/bin/env -S node --
// The minidock command. All logic lives in src/cli; `npm run build` bundles it into dist/bundle
// (one file per command, loaded on demand), which starts ~20 ms faster than tsc's many modules.
// The "--" matters: Node 20 reads --env-file anywhere on its command line, even after the
// script name, so `minidock run --env-file F` would be taken by node itself without it.
import '../dist/bundle/main.js';
