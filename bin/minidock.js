#!/usr/bin/env -S node --
// The minidock command. All logic lives in src/cli; `npm run build:bundle` bundles it, with
// commander and ip-cidr, into one CommonJS script, dist/bundle/main.cjs, and then has this file
// write V8's code cache for it (MINIDOCK_CODE_CACHE=write): the bytecode of every function of
// the bundle. Run from that cache, a command compiles nothing, where it would otherwise compile
// each function it calls on the first call (~20 ms of `minidock run`). Without a usable cache
// (none written, another Node, another bundle) the script is simply compiled as any other.
// The "--" matters: Node 20 reads --env-file anywhere on its command line, even after the
// script name, so `minidock run --env-file F` would be taken by node itself without it.
import { readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { Script } from 'node:vm';

const file = new URL('../dist/bundle/main.cjs', import.meta.url).pathname;
const dir = dirname(file);
// V8 checks a cache against its own version and flags and the source's length, not its text: the
// name carries the bundle's inode, size and mtime, so a rebuilt bundle never meets an old cache.
let st;
try {
  st = statSync(file);
} catch {
  process.stderr.write(`minidock: ${file} is missing: this checkout is not built (run bin/setup, or npm run build)\n`);
  process.exit(125);
}
const cacheFile = `${file}.${st.ino}-${st.size}-${Math.trunc(st.mtimeMs)}.cache`;
// MINIDOCK_CODE_CACHE=off compiles as if there were none (to measure what the cache saves).
const writing = process.env.MINIDOCK_CODE_CACHE === 'write';
let cachedData;
if (!writing && process.env.MINIDOCK_CODE_CACHE !== 'off') {
  try { cachedData = readFileSync(cacheFile); } catch { /* none: compiled as usual */ }
}
// The CommonJS wrapper, as Node's own loader would give it.
const source = `(function (exports, require, module, __filename, __dirname) {${readFileSync(file, 'utf8')}\n})`;
// Eagerly for the cache (--no-lazy: every function, not only those one command calls), with the
// flag put back before the cache is taken, as the flags are part of what V8 checks.
if (writing) setFlagsFromString('--no-lazy');
const script = new Script(source, { filename: file, ...(cachedData ? { cachedData } : {}) });
if (writing) {
  setFlagsFromString('--lazy');
  for (const f of readdirSync(dir)) if (/^main\.cjs\..*\.cache$/.test(f)) rmSync(`${dir}/${f}`, { force: true });
  writeFileSync(`${cacheFile}.tmp`, script.createCachedData(), { mode: 0o644 });
  renameSync(`${cacheFile}.tmp`, cacheFile);
} else {
  if (process.env.MINIDOCK_TRACE === '1') {
    const now = performance.now().toFixed(1);
    const how = !cachedData ? `compiled (${process.env.MINIDOCK_CODE_CACHE === 'off' ? 'MINIDOCK_CODE_CACHE=off' : 'no code cache for this bundle'})` : script.cachedDataRejected ? 'compiled (V8 rejected the code cache)' : 'from the code cache';
    process.stderr.write(`trace: ${now.padStart(7)} ms  +${now.padStart(5)}  bundle: ${how}\n`);
  }
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(file), module, file, dir);
}
