#!/usr/bin/env -S node --
// The minidock command. All logic lives in src/cli; `npm run build` bundles it into one file,
// dist/bundle/main.js: one module to read and link instead of tsc's (or esbuild's split) dozens,
// ~15 ms sooner at `run`'s code. What is slow to load (tar, ip-cidr, child_process) is required
// on first use (src/core/lazy.ts), so a command never pays for another's.
// The "--" matters: Node 20 reads --env-file anywhere on its command line, even after the
// script name, so `minidock run --env-file F` would be taken by node itself without it.
import '../dist/bundle/main.js';
