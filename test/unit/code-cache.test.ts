// bin/minidock.js runs the bundle from V8's code cache that build:bundle writes, and never from
// a cache made for another bundle (V8 itself checks only the source's length).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const REPO = new URL('../../..', import.meta.url).pathname;
const env: NodeJS.ProcessEnv = { ...process.env, MINIDOCK_TRACE: '1' };
delete env.NODE_EXTRA_CA_CERTS;
const cli = (bin: string, args: string[]) => spawnSync(process.execPath, ['--', bin, ...args], { env, encoding: 'utf8' });
const how = (stderr: string): string | undefined => /bundle: (.*)$/m.exec(stderr)?.[1];

test('the built bundle runs from its code cache', () => {
  assert.ok(readdirSync(join(REPO, 'dist/bundle')).some((f) => /^main\.cjs\.\d+-\d+-\d+\.cache$/.test(f)), 'build:bundle wrote a cache');
  const r = cli(join(REPO, 'bin/minidock.js'), ['--version']);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout.trim(), JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).version);
  assert.is(how(r.stderr), 'from the code cache');
});

test('a changed bundle of the same length is compiled afresh, never run from the old cache', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mdk-cache-'));
  try {
    mkdirSync(join(dir, 'bin'));
    mkdirSync(join(dir, 'dist/bundle'), { recursive: true });
    copyFileSync(join(REPO, 'bin/minidock.js'), join(dir, 'bin/minidock.js'));
    symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'));
    copyFileSync(join(REPO, 'package.json'), join(dir, 'package.json'));
    const bundle = readFileSync(join(REPO, 'dist/bundle/main.cjs'), 'utf8');
    // The cache under the copy's own name: accepted, the copy being byte for byte the same.
    writeFileSync(join(dir, 'dist/bundle/main.cjs'), bundle);
    assert.is(spawnSync(process.execPath, [join(dir, 'bin/minidock.js')], { env: { ...env, MINIDOCK_CODE_CACHE: 'write' } }).status, 0);
    assert.is(how(cli(join(dir, 'bin/minidock.js'), ['--version']).stderr), 'from the code cache');
    // Same length, other text: a new file, so a new name, and the old cache is not read.
    const changed = bundle.replace('"Remove networks', '"REMOVE networks');
    assert.is.not(changed, bundle);
    const cache = readdirSync(join(dir, 'dist/bundle')).find((f) => f.endsWith('.cache'))!;
    rmSync(join(dir, 'dist/bundle/main.cjs'));
    writeFileSync(join(dir, 'dist/bundle/main.cjs'), changed);
    const r = cli(join(dir, 'bin/minidock.js'), ['network', '--help']);
    assert.is(r.status, 0, r.stderr);
    assert.is(how(r.stderr), 'compiled (no code cache for this bundle)');
    assert.match(r.stdout, /REMOVE networks/);
    assert.ok(readdirSync(join(dir, 'dist/bundle')).includes(cache), 'the stale cache is still there, unused');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
