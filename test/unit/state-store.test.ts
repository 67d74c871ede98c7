// Unit tests for src/runtime/state.ts: the container state store on a temporary directory (no
// flock function, so no root and no native addon needed).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MinidockError } from '../../src/core/errors.js';
import { processStartTime } from '../../src/runtime/proc.js';
import { StateStore, reconcile, type ContainerState, type ExitProbe } from '../../src/runtime/state.js';
import { IDENTITY_MAP, type ContainerSpec } from '../../src/spec/container-spec.js';

const tmpRoots: string[] = [];
const newStore = (): StateStore => {
  const root = mkdtempSync(join(tmpdir(), 'minidock-state-'));
  tmpRoots.push(root);
  return new StateStore(root);
};

const spec = (id: string, name: string): ContainerSpec => ({
  id,
  name,
  hostname: id.slice(0, 12),
  image: { ref: 'alpine', rootfs: '/images/alpine/rootfs' },
  argv: ['sh'],
  env: ['PATH=/bin'],
  cwd: '/',
  user: { uid: 0, gid: 0, additionalGids: [] },
  tty: false,
  interactive: false,
  network: { mode: 'none' },
  autoRemove: false,
  idMap: IDENTITY_MAP,
  createdAt: 1700000000000,
});

const idOf = (prefix: string): string => prefix + '0'.repeat(64 - prefix.length);
const A = idOf('aaaa1');
const B = idOf('aaaa2');
const C = idOf('c0ffee');

/** A pid above the kernel's largest pid_max (2^22): no process has it. */
const DEAD_PID = 2 ** 22 + 12345;
const MY_START = processStartTime(process.pid)!;

const readJson = (path: string): unknown => JSON.parse(readFileSync(path, 'utf8'));

function thrown(fn: () => unknown): MinidockError {
  try {
    fn();
  } catch (err) {
    assert.instance(err, MinidockError);
    return err as MinidockError;
  }
  assert.unreachable('expected a MinidockError');
  throw new Error('unreachable');
}

test('our own start time is readable (the liveness tests below rely on it)', () => {
  assert.type(MY_START, 'number');
  assert.ok(MY_START > 0);
});

// ---------------------------------------------------------------- create

test('create makes the directory, the layer dirs, config.json, state.json and the name file', () => {
  const store = newStore();
  const paths = store.create(spec(A, 'web'));
  const dir = join(store.root, 'containers', A);
  assert.equal(paths, {
    dir,
    rootfs: join(dir, 'rootfs'),
    lower: join(dir, 'lower'),
    upper: join(dir, 'upper'),
    work: join(dir, 'work'),
    hostname: join(dir, 'hostname'),
    hosts: join(dir, 'hosts'),
    resolvConf: join(dir, 'resolv.conf'),
  });
  assert.equal(store.paths(A), paths);
  for (const d of [paths.rootfs, paths.lower, paths.upper, paths.work]) assert.ok(statSync(d).isDirectory(), d);
  assert.equal(readJson(join(dir, 'config.json')), spec(A, 'web'));
  assert.equal(readJson(join(dir, 'state.json')), { status: 'created', creator: { pid: process.pid, start: MY_START } });
  assert.is(readFileSync(join(store.root, 'names', 'web'), 'utf8'), A);
  // No temporary files left beside the JSON.
  assert.equal(readdirSync(dir).sort(), ['config.json', 'lower', 'rootfs', 'state.json', 'upper', 'work']);
});

test('create refuses a name in use, and leaves nothing of the second container', () => {
  const store = newStore();
  store.create(spec(A, 'web'));
  const e = thrown(() => store.create(spec(B, 'web')));
  assert.is(e.message, `the container name "/web" is already in use by container "${A}"`);
  assert.is(e.step, 'state.name');
  assert.is(e.exitCode, 125);
  assert.not.ok(existsSync(join(store.root, 'containers', B)));
  assert.is(readFileSync(join(store.root, 'names', 'web'), 'utf8'), A);
});

test('create takes over a stale name whose container directory is gone', () => {
  const store = newStore();
  store.create(spec(A, 'web'));
  rmSync(join(store.root, 'containers', A), { recursive: true });
  store.create(spec(B, 'web'));
  assert.is(readFileSync(join(store.root, 'names', 'web'), 'utf8'), B);
  assert.is(store.resolve('web').id, B);
});

test('create: a failure after the directory is made leaves neither directory nor name', () => {
  const store = newStore();
  // JSON.stringify cannot write a BigInt: config.json fails after the layer dirs exist.
  const bad = { ...spec(A, 'web'), createdAt: 1n as unknown as number };
  assert.throws(() => store.create(bad), /BigInt/);
  assert.equal(readdirSync(join(store.root, 'containers')), []);
  assert.not.ok(existsSync(join(store.root, 'names', 'web')));
  store.create(spec(B, 'web'));
  assert.is(store.resolve('web').id, B);
});

test('create: a name file that holds no id does not give the name to a second container', () => {
  const store = newStore();
  store.create(spec(A, 'web'));
  writeFileSync(join(store.root, 'names', 'web'), 'garbage\n');
  const err = thrown(() => store.create(spec(B, 'web')));
  assert.match(err.message, new RegExp(`already in use by container "${A}"`));
  assert.not.ok(existsSync(join(store.root, 'containers', B)), 'nothing of the second container');
  assert.is(readFileSync(join(store.root, 'names', 'web'), 'utf8'), A, 'the index is mended');
});

test('create: a name file that holds no id still finds a broken container by its config.json', () => {
  const store = newStore();
  store.create(spec(A, 'web'));
  writeFileSync(join(store.root, 'names', 'web'), '');
  writeFileSync(join(store.root, 'containers', A, 'state.json'), '{');
  assert.match(thrown(() => store.create(spec(B, 'web'))).message, /already in use/);
});

test('resolve: a name file that holds no id still resolves to the container with that name', () => {
  const store = newStore();
  store.create(spec(A, 'web'));
  writeFileSync(join(store.root, 'names', 'web'), '\0\0\0');
  assert.is(store.resolve('web').id, A);
});

test('create: the state is root\'s alone (no bits for others; files 0600: the spec holds -e values)', () => {
  const store = newStore();
  const p = store.create(spec(A, 'web'));
  const mode = (path: string): string => (statSync(path).mode & 0o7777).toString(8);
  assert.is(mode(store.root), '700');
  assert.is(mode(join(store.root, 'containers')), '700');
  assert.is(mode(join(store.root, 'names')), '700');
  assert.is(mode(p.dir), '700');
  assert.is(mode(join(p.dir, 'config.json')), '600');
  assert.is(mode(join(p.dir, 'state.json')), '600');
  assert.is(mode(join(store.root, 'names', 'web')), '600');
  store.writeState(A, { status: 'exited', exitCode: 0 });
  assert.is(mode(join(p.dir, 'state.json')), '600', 'rewritten, still 0600');
});

test('create: two names, two containers', () => {
  const store = newStore();
  store.create(spec(A, 'one'));
  store.create(spec(B, 'two'));
  assert.equal(readdirSync(join(store.root, 'names')).sort(), ['one', 'two']);
  assert.equal(store.list().map((r) => r.id).sort(), [A, B]);
});

// ---------------------------------------------------------------- resolve

test('resolve by name, full id and unique prefix', () => {
  const store = newStore();
  store.create(spec(A, 'web'));
  store.create(spec(B, 'db'));
  store.create(spec(C, 'cache'));
  assert.is(store.resolve('web').id, A);
  assert.is(store.resolve('db').id, B);
  assert.is(store.resolve(A).id, A);
  assert.is(store.resolve(B).id, B);
  assert.is(store.resolve('c0f').id, C);
  assert.is(store.resolve('aaaa1').id, A);
  assert.equal(store.resolve('web').spec, spec(A, 'web'));
});

test('resolve: a name wins over an id prefix it also spells', () => {
  const store = newStore();
  store.create(spec(A, 'c0f'));
  store.create(spec(C, 'other'));
  assert.is(store.resolve('c0f').id, A);
  assert.is(store.resolve('c0ff').id, C);
});

test('resolve: an ambiguous prefix is an error naming the count', () => {
  const store = newStore();
  store.create(spec(A, 'web'));
  store.create(spec(B, 'db'));
  const e = thrown(() => store.resolve('aaaa'));
  assert.is(e.message, 'multiple containers match the id prefix "aaaa" (2 of them)');
  assert.is(e.step, 'state.resolve');
});

const missing = ['nope', 'bbbb', '/web', '../x', '', 'a b', A.slice(0, 63) + '1'];
for (const ref of missing) {
  test(`resolve ${JSON.stringify(ref)}: no such container`, () => {
    const store = newStore();
    store.create(spec(A, 'web'));
    const e = thrown(() => store.resolve(ref));
    assert.is(e.message, `no such container: ${ref}`);
    assert.is(e.hint, 'minidock ps -a lists them');
  });
}

test('resolve on an empty root: no such container', () => {
  assert.is(thrown(() => newStore().resolve('abc')).message, 'no such container: abc');
});

test('resolve: a stale name does not resolve', () => {
  const store = newStore();
  store.create(spec(A, 'web'));
  rmSync(join(store.root, 'containers', A), { recursive: true });
  assert.is(thrown(() => store.resolve('web')).message, 'no such container: web');
});

// ---------------------------------------------------------------- list, read

test('list on a root with no containers directory is empty', () => {
  assert.equal(newStore().list(), []);
});

test('list ignores entries that are not 64-hex ids', () => {
  const store = newStore();
  store.create(spec(A, 'web'));
  const cdir = join(store.root, 'containers');
  for (const junk of ['notanid', '.tmp', A.toUpperCase(), A.slice(0, 63), A + '0', 'g'.repeat(64)]) mkdirSync(join(cdir, junk));
  writeFileSync(join(cdir, 'README'), 'x');
  assert.equal(store.list().map((r) => r.id), [A]);
});

test('read: a corrupt state.json gives a broken record', () => {
  const store = newStore();
  store.create(spec(A, 'web'));
  writeFileSync(join(store.root, 'containers', A, 'state.json'), '{"status": "runn');
  const rec = store.read(A);
  assert.equal(Object.keys(rec).sort(), ['broken', 'id']);
  assert.is(rec.id, A);
  assert.match(rec.broken!, /JSON/);
  assert.equal(store.list(), [rec]);
  assert.is(store.resolve('web').broken, rec.broken);
});

test('read: missing config.json is broken with the errno', () => {
  const store = newStore();
  store.create(spec(A, 'web'));
  rmSync(join(store.root, 'containers', A, 'config.json'));
  assert.equal(store.read(A), { id: A, broken: 'ENOENT' });
});

test('read: JSON without the required fields is broken', () => {
  const store = newStore();
  store.create(spec(A, 'web'));
  writeFileSync(join(store.root, 'containers', A, 'state.json'), '{"pid": 1}');
  assert.equal(store.read(A), { id: A, broken: 'missing fields' });
  writeFileSync(join(store.root, 'containers', A, 'state.json'), 'null');
  assert.equal(store.read(A), { id: A, broken: 'missing fields' });
});

// ---------------------------------------------------------------- reconcile

const reconcileCases: Array<[string, ContainerState, ContainerState]> = [
  [
    'running with a pid that does not exist → exited 255',
    { status: 'running', pid: DEAD_PID, pidStart: 1234, startedAt: 5 },
    { status: 'exited', pid: DEAD_PID, pidStart: 1234, startedAt: 5, exitCode: 255, note: 'exited while no minidock process watched it' },
  ],
  [
    'running, our pid but another start time (a recycled pid) → exited 255',
    { status: 'running', pid: process.pid, pidStart: MY_START + 1, startedAt: 5 },
    { status: 'exited', pid: process.pid, pidStart: MY_START + 1, startedAt: 5, exitCode: 255, note: 'exited while no minidock process watched it' },
  ],
  [
    'running without a pid start time → exited 255',
    { status: 'running', pid: process.pid },
    { status: 'exited', pid: process.pid, exitCode: 255, note: 'exited while no minidock process watched it' },
  ],
  [
    'running with a dead pid and no start time → exited 255',
    { status: 'running', pid: DEAD_PID },
    { status: 'exited', pid: DEAD_PID, exitCode: 255, note: 'exited while no minidock process watched it' },
  ],
  [
    'running without a pid → exited 255',
    { status: 'running' },
    { status: 'exited', exitCode: 255, note: 'exited while no minidock process watched it' },
  ],
  [
    'running with a recorded exit code keeps it',
    { status: 'running', pid: DEAD_PID, pidStart: 1, exitCode: 3 },
    { status: 'exited', pid: DEAD_PID, pidStart: 1, exitCode: 3, note: 'exited while no minidock process watched it' },
  ],
  [
    'running with a live pid and matching start time stays running',
    { status: 'running', pid: process.pid, pidStart: MY_START, startedAt: 5 },
    { status: 'running', pid: process.pid, pidStart: MY_START, startedAt: 5 },
  ],
  [
    'exited is left alone',
    { status: 'exited', pid: DEAD_PID, pidStart: 1, exitCode: 0, finishedAt: 9 },
    { status: 'exited', pid: DEAD_PID, pidStart: 1, exitCode: 0, finishedAt: 9 },
  ],
  [
    'created with a dead creator is left alone',
    { status: 'created', creator: { pid: DEAD_PID, start: 1 } },
    { status: 'created', creator: { pid: DEAD_PID, start: 1 } },
  ],
];
for (const [name, written, want] of reconcileCases) {
  test(`read reconciles: ${name}`, () => {
    const store = newStore();
    store.create(spec(A, 'web'));
    store.writeState(A, written);
    assert.equal(store.read(A), { id: A, spec: spec(A, 'web'), state: want });
    // Reading does not rewrite the file.
    assert.equal(readJson(join(store.root, 'containers', A, 'state.json')), written);
  });
}

// A detached container between PID 1's death and its final state, with the host's answers
// scripted: the shim reaps PID 1, writes exit.json, then execs `minidock cleanup` (whose command
// line no longer names the container's directory).
const exiting: ContainerState = { status: 'running', pid: 4242, pidStart: 1, monitorPid: 4243, startedAt: 5 };
const probe = (o: Partial<ExitProbe>): ExitProbe => ({ exitRecord: () => undefined, isSameProcess: () => false, isShimOf: () => false, ...o });

test('reconcile: the shim records the exit and execs its cleanup just after the first look at exit.json → its code, not 255', () => {
  // The interleaving that once made `wait` print 255 for a container that exited 10: no record
  // at the first look; by the pid and shim checks the shim has reaped, written and exec'd.
  let shimDone = false;
  const p = probe({ exitRecord: () => { const r = shimDone ? { exitCode: 10, finishedAt: 7 } : undefined; shimDone = true; return r; } });
  assert.equal(reconcile(exiting, '/c', p), { ...exiting, status: 'exited', exitCode: 10, finishedAt: 7 });
});

test('reconcile: PID 1 reaped, the shim alive and no record yet → still running (exiting)', () => {
  assert.equal(reconcile(exiting, '/c', probe({ isShimOf: (pid, dir) => pid === 4243 && dir === '/c' })), exiting);
});

test('reconcile: PID 1 and its shim gone, no record at either look → exited 255', () => {
  assert.equal(reconcile(exiting, '/c', probe({})), { ...exiting, status: 'exited', exitCode: 255, note: 'exited while no minidock process watched it' });
});

// ---------------------------------------------------------------- isLive

const liveCases: Array<[string, ContainerState | 'fresh' | 'broken' | 'gone', boolean]> = [
  ['running with a live pid', { status: 'running', pid: process.pid, pidStart: MY_START }, true],
  ['running with a dead pid', { status: 'running', pid: DEAD_PID, pidStart: 1 }, false],
  ['created by this (live) process, as create() writes it', 'fresh', true],
  ['created with a live creator', { status: 'created', creator: { pid: process.pid, start: MY_START } }, true],
  ['created with a dead creator', { status: 'created', creator: { pid: DEAD_PID, start: 1 } }, false],
  ['created with a recycled creator pid', { status: 'created', creator: { pid: process.pid, start: MY_START + 1 } }, false],
  ['created without a creator', { status: 'created' }, false],
  ['exited', { status: 'exited', pid: process.pid, pidStart: MY_START, exitCode: 0 }, false],
  ['exited, its creator still alive', { status: 'exited', exitCode: 0, creator: { pid: process.pid, start: MY_START } }, false],
  ['running with a dead pid, its creator still alive', { status: 'running', pid: DEAD_PID, pidStart: 1, creator: { pid: process.pid, start: MY_START } }, false],
  ['broken (nothing says its processes are gone: held until rm -f)', 'broken', true],
  ['removed', 'gone', false],
];
for (const [name, state, want] of liveCases) {
  test(`isLive: ${name} → ${want}`, () => {
    const store = newStore();
    store.create(spec(A, 'web'));
    if (state === 'broken') writeFileSync(join(store.root, 'containers', A, 'state.json'), '{');
    else if (state === 'gone') store.remove(store.read(A));
    else if (state !== 'fresh') store.writeState(A, state);
    assert.is(store.isLive(A), want);
  });
}

// ---------------------------------------------------------------- remove

test('remove deletes the directory and the name', () => {
  const store = newStore();
  store.create(spec(A, 'web'));
  store.create(spec(B, 'db'));
  store.remove(store.resolve('web'));
  assert.not.ok(existsSync(join(store.root, 'containers', A)));
  assert.not.ok(existsSync(join(store.root, 'names', 'web')));
  assert.ok(existsSync(join(store.root, 'names', 'db')));
  assert.equal(store.list().map((r) => r.id), [B]);
  assert.is(thrown(() => store.resolve('web')).message, 'no such container: web');
  // The name is free again.
  store.create(spec(C, 'web'));
  assert.is(store.resolve('web').id, C);
});

test('remove leaves a name that now belongs to another container', () => {
  const store = newStore();
  const old = (store.create(spec(A, 'web')), store.read(A));
  rmSync(join(store.root, 'containers', A), { recursive: true });
  store.create(spec(B, 'web')); // took the stale name over
  store.remove(old);
  assert.is(readFileSync(join(store.root, 'names', 'web'), 'utf8'), B);
  assert.is(store.resolve('web').id, B);
});

test('remove of a broken record deletes its directory (its name stays: the spec is unreadable)', () => {
  const store = newStore();
  store.create(spec(A, 'web'));
  writeFileSync(join(store.root, 'containers', A, 'config.json'), '');
  store.remove(store.read(A));
  assert.not.ok(existsSync(join(store.root, 'containers', A)));
  // The stale name does not block reuse.
  store.create(spec(B, 'web'));
  assert.is(store.resolve('web').id, B);
});

test('remove is idempotent', () => {
  const store = newStore();
  store.create(spec(A, 'web'));
  const rec = store.read(A);
  store.remove(rec);
  store.remove(rec);
  assert.equal(store.list(), []);
});

test.after(() => {
  for (const r of tmpRoots) rmSync(r, { recursive: true, force: true });
});

test('isLive: a created record whose creator is gone is read again, for the creator may have started it and exited since', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mdk-live-'));
  try {
    // A pid that is not running now (the creator that has exited).
    const gone = { pid: 2 ** 22 + 7, start: 1 };
    const created: ContainerState = { status: 'created', creator: gone };
    const running: ContainerState = { status: 'running', pid: process.pid, pidStart: processStartTime(process.pid)! };
    class Sequence extends StateStore {
      constructor(private readonly states: ContainerState[]) { super(dir); }
      reads = 0;
      override read(id: string) {
        const state = this.states[Math.min(this.reads++, this.states.length - 1)]!;
        return { id, spec: { id } as ContainerSpec, state };
      }
    }
    const id = 'a'.repeat(64);
    const raced = new Sequence([created, running]);
    assert.is(raced.isLive(id), true, 'running by the second read: its address must not be taken');
    assert.is(raced.reads, 2);
    const dead = new Sequence([created, created]);
    assert.is(dead.isLive(id), false, 'still created with its creator gone: a half-made run');
    const alive = new Sequence([{ status: 'created', creator: { pid: process.pid, start: processStartTime(process.pid)! } }]);
    assert.is(alive.isLive(id), true);
    assert.is(alive.reads, 1, 'a live creator needs no second look');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
