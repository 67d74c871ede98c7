// bin/minidock starts node from the startup snapshot that build:bundle writes, and falls back to
// bin/minidock.js without a usable one; bin/minidock.js runs the bundle from V8's code cache,
// and never from a cache made for another bundle (V8 itself checks only the source's length).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
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

test('the bundle is Latin-1 text, so V8 keeps its source (in the snapshot too) at one byte a character', () => {
  // One character past U+00FF (an ellipsis in a kept comment was enough) makes V8 hold the whole
  // 1 MB source as UTF-16: twice the memory, a larger snapshot to load at every start.
  const wide = [...readFileSync(join(REPO, 'dist/bundle/main.cjs'), 'utf8')].filter((c) => c.codePointAt(0)! > 0xff);
  assert.equal(wide, [], 'write these as ASCII in src/ (or as escapes in strings)');
});

/** A copy of the built CLI (launchers and bundle) in a temporary directory. */
function copyOfCli(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mdk-snap-'));
  mkdirSync(join(dir, 'bin'));
  mkdirSync(join(dir, 'dist/bundle'), { recursive: true });
  for (const f of ['bin/minidock', 'bin/launch.sh', 'bin/minidock.js', 'package.json', 'dist/bundle/main.cjs']) copyFileSync(join(REPO, f), join(dir, f));
  symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}
const snapshotOf = (dir: string, buildEnv: NodeJS.ProcessEnv = env) =>
  spawnSync(process.execPath, ['--snapshot-blob', join(dir, 'dist/bundle/main.blob'), '--build-snapshot', join(dir, 'dist/bundle/main.cjs')], { env: buildEnv, encoding: 'utf8' });

test('bin/minidock starts from the startup snapshot, also through a link from elsewhere', () => {
  const r = spawnSync(join(REPO, 'bin/minidock'), ['--version'], { env, encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout.trim(), JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).version);
  assert.is(how(r.stderr), 'from the startup snapshot');
  const dir = mkdtempSync(join(tmpdir(), 'mdk-link-'));
  try {
    symlinkSync(join(REPO, 'bin/minidock'), join(dir, 'minidock'));
    const l = spawnSync(join(dir, 'minidock'), ['images', '--help'], { env, encoding: 'utf8' });
    assert.is(l.status, 0, l.stderr);
    assert.is(how(l.stderr), 'from the startup snapshot');
    assert.match(l.stdout, /Usage: minidock images/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bin/minidock-cni starts the CNI plugin from its own snapshot, and without one from bin/minidock-cni.js', () => {
  const version = (bin: string) => spawnSync(bin, [], { env: { ...env, CNI_COMMAND: 'VERSION' }, input: '{"cniVersion":"1.0.0"}', encoding: 'utf8' });
  const r = version(join(REPO, 'bin/minidock-cni'));
  assert.is(r.status, 0, r.stderr);
  assert.is(JSON.parse(r.stdout).cniVersion, '1.0.0');
  assert.is(how(r.stderr), 'from the startup snapshot');
  const js = spawnSync(process.execPath, [join(REPO, 'bin/minidock-cni.js')], { env: { ...env, CNI_COMMAND: 'VERSION' }, input: '{"cniVersion":"1.0.0"}', encoding: 'utf8' });
  assert.is(js.stdout, r.stdout);
  assert.is(how(js.stderr), undefined, 'the plain script: no snapshot to say');
});

test('the snapshot holds nothing of the moment it was built: environment, arguments, place', () => {
  const dir = copyOfCli();
  try {
    // Built with tracing on and another state root, from another directory, with arguments.
    const built = snapshotOf(dir, { ...env, MINIDOCK_TRACE: '1', MINIDOCK_ROOT: join(dir, 'build-time-root') });
    assert.is(built.status, 0, built.stderr);
    const quiet: NodeJS.ProcessEnv = { ...env, MINIDOCK_ROOT: join(dir, 'root') };
    delete quiet.MINIDOCK_TRACE;
    const r = spawnSync(join(dir, 'bin/minidock'), ['info'], { env: quiet, encoding: 'utf8' });
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stderr, '', 'no trace: MINIDOCK_TRACE is read when the command runs');
    assert.match(r.stdout, new RegExp(`Docker Root Dir: ${join(dir, 'root')}\n`), 'the state root of the run, not of the build');
    const t = spawnSync(join(dir, 'bin/minidock'), ['images'], { env: { ...quiet, MINIDOCK_TRACE: '1' }, encoding: 'utf8' });
    assert.is(how(t.stderr), 'from the startup snapshot');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('without a usable snapshot bin/minidock runs bin/minidock.js: none built, or older than the bundle', () => {
  const dir = copyOfCli();
  try {
    const run = () => spawnSync(join(dir, 'bin/minidock'), ['--version'], { env, encoding: 'utf8' });
    assert.is(how(run().stderr), 'compiled (no code cache for this bundle)', 'no snapshot');
    assert.is(snapshotOf(dir).status, 0);
    assert.is(how(run().stderr), 'from the startup snapshot');
    // A bundle rebuilt after the snapshot (without it being rebuilt too): the snapshot is not used.
    const later = new Date(Date.now() + 5_000);
    utimesSync(join(dir, 'dist/bundle/main.cjs'), later, later);
    const r = run();
    assert.is(r.status, 0, r.stderr);
    assert.is(how(r.stderr), 'compiled (no code cache for this bundle)');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
