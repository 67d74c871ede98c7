// src/cli/warm.ts names every module the commands import lazily, so that the startup snapshot
// holds them all: one left out would be evaluated again by every command that uses it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';

const SRC = new URL('../../../src', import.meta.url).pathname;
const files = (dir: string): string[] => readdirSync(dir, { withFileTypes: true })
  .flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
// import('x').Name is a type, not a load.
const dynamicImports = (text: string): string[] => [...text.matchAll(/(?<!typeof )\bimport\(\s*'([^']+)'\s*\)(?!\.)/g)].map((m) => m[1]!);

test('warm.ts loads every module that a command imports lazily (builtins aside)', () => {
  const wanted = new Set<string>();
  for (const file of files(SRC)) {
    // The runc and CNI commands are bundles of their own, without a snapshot.
    if (/\/src\/(oci|cni)\//.test(file) || file.endsWith('/cli/warm.ts')) continue;
    for (const spec of dynamicImports(readFileSync(file, 'utf8'))) {
      if (spec.startsWith('node:')) continue;
      if (!spec.startsWith('.')) { wanted.add(spec); continue; }
      const rel = relative(join(SRC, 'cli'), normalize(join(dirname(file), spec)));
      wanted.add(rel.startsWith('.') ? rel : `./${rel}`);
    }
  }
  const listed = dynamicImports(readFileSync(join(SRC, 'cli/warm.ts'), 'utf8'));
  assert.equal([...listed].sort(), [...wanted].sort());
  assert.is(new Set(listed).size, listed.length, 'each once');
});

test.run();
