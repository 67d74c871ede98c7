#!/usr/bin/env node
// The minidock command. All logic lives in src/cli (compiled to dist/ by `npm run build`).
import '../dist/src/cli/main.js';
