// src/oci/hooks.ts (the runtime's hooks: order, failure, warnings, stdin, timeout) and what
// src/oci/plan.ts hands the child: its own hooks (createContainer, startContainer) and the
// namespaces it joins. No root: the hooks run are /bin/sh one-liners.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MinidockError } from '../../src/core/errors.js';
import { parseConfig, type OciHook } from '../../src/oci/config.js';
import { describeHookFailure, runHook, runHookList, type HookOutcome } from '../../src/oci/hooks.js';
import { planJoins, planOci, type HostFacts } from '../../src/oci/plan.js';
import { topMountAt } from '../../src/oci/root-mount.js';
import { serializePlan } from '../../src/runtime/child-plan.js';

const facts: HostFacts = { kind: () => undefined, hostname: 'hosty' };
const base = (): Record<string, any> => ({
  ociVersion: '1.1.0',
  root: { path: 'rootfs' },
  process: { user: { uid: 0, gid: 0 }, args: ['true'], env: [], cwd: '/' },
  linux: { namespaces: [{ type: 'mount' }, { type: 'pid' }] },
});
const plan = (json: Record<string, any>, input = {}) => planOci(parseConfig(json), { bundle: '/b', ...input }, facts);

const hook = (path: string, extra: Partial<OciHook> = {}): OciHook => ({ path, args: [], ...extra });
const exited = (status: number, stderr = ''): HookOutcome => ({ status, stdout: '', stderr });

test('runHookList: every hook in order, each with the state; the first failure stops the list with an error naming kind, index, path and status', async () => {
  const ran: string[] = [];
  const run = async (h: OciHook, stdin: string): Promise<HookOutcome> => {
    ran.push(`${h.path} ${stdin}`);
    return h.path === '/fail' ? exited(3, 'no network\n') : exited(0);
  };
  await runHookList('createRuntime', [hook('/a'), hook('/b')], '{"id":"x"}', run);
  assert.equal(ran, ['/a {"id":"x"}', '/b {"id":"x"}']);
  ran.length = 0;
  try {
    await runHookList('prestart', [hook('/a'), hook('/fail'), hook('/c')], 'S', run);
    assert.unreachable('a failing prestart hook must fail');
  } catch (err) {
    assert.instance(err, MinidockError);
    assert.is((err as MinidockError).message, 'error running prestart hook #1 (/fail): exit status 3, stderr: no network');
    assert.is((err as MinidockError).step, 'oci.hook.prestart');
  }
  assert.equal(ran, ['/a S', '/fail S'], 'nothing after the failed hook runs');
});

test('runHookList with onFail (poststart, poststop): a failure is a warning and the rest still run', async () => {
  const ran: string[] = [];
  const warned: string[] = [];
  const run = async (h: OciHook): Promise<HookOutcome> => { ran.push(h.path); return h.path === '/fail' ? exited(1) : exited(0); };
  await runHookList('poststop', [hook('/fail'), hook('/b')], 'S', run, (m) => warned.push(m));
  assert.equal(ran, ['/fail', '/b']);
  assert.equal(warned, ['error running poststop hook #0 (/fail): exit status 1']);
  await runHookList('poststart', undefined, 'S', run);
});

test('describeHookFailure: spawn error, timeout, signal, output', () => {
  const h = hook('/h', { timeout: 2 });
  assert.is(describeHookFailure('poststart', 0, h, { spawnError: 'ENOENT', stdout: '', stderr: '' }), 'error running poststart hook #0 (/h): cannot run it: ENOENT');
  assert.is(describeHookFailure('prestart', 1, h, { timedOut: true, signal: 'SIGKILL', stdout: '', stderr: '' }), 'error running prestart hook #1 (/h): it ran past its timeout of 2 s and was killed');
  assert.is(describeHookFailure('prestart', 0, h, { signal: 'SIGSEGV', stdout: 'a\n', stderr: 'b' }), 'error running prestart hook #0 (/h): killed by SIGSEGV, stdout: a, stderr: b');
});

test('runHook: the state on stdin, args[0] as argv[0], env as given (none: the runtime\'s), a timeout kills', async () => {
  const sh = (script: string, extra: Partial<OciHook> = {}): OciHook => ({ path: '/bin/sh', args: ['hook-name', '-c', script], ...extra });
  const r = await runHook(sh('read s; echo "$0 $s $MDK_HOOK_TEST"', { env: ['MDK_HOOK_TEST=given'] }), '{"id":"c1"}\n');
  assert.equal(r, { status: 0, stdout: 'hook-name {"id":"c1"} given\n', stderr: '' });
  process.env.MDK_HOOK_TEST = 'inherited';
  try {
    assert.is((await runHook(sh('echo $MDK_HOOK_TEST'), '')).stdout, 'inherited\n');
    assert.is((await runHook(sh('echo "[$MDK_HOOK_TEST]"', { env: [] }), '')).stdout, '[]\n');
  } finally {
    delete process.env.MDK_HOOK_TEST;
  }
  // A hook that never reads its stdin is not failed by the closed pipe.
  assert.is((await runHook(sh('exit 0'), 'x'.repeat(1 << 20))).status, 0);
  const started = Date.now();
  const t = await runHook(sh('sleep 5', { timeout: 1 }), '');
  assert.ok(t.timedOut && t.signal === 'SIGKILL', JSON.stringify(t));
  assert.ok(Date.now() - started < 3000, 'killed at its timeout');
  assert.is((await runHook(hook('/nonexistent/hook'), '')).spawnError, 'ENOENT');
});

test('the child\'s hooks: createContainer and startContainer in the plan with the state cut around the pid; prestart and the rest are the CLI\'s', () => {
  const json = { ...base(), hooks: {
    prestart: [{ path: '/bin/pre' }],
    createContainer: [{ path: '/bin/cc', args: ['cc', '-x'], env: ['A=1'], timeout: 4 }],
    startContainer: [{ path: '/bin/sc' }],
    poststop: [{ path: '/bin/post' }],
  } };
  const p = plan(json, { hookState: { pre: '{"id":"c","pid":', post: ',"status":"created"}' } });
  assert.equal(p.unsupported, []);
  assert.equal(p.child.hooks, [
    { when: 'createContainer', path: '/bin/cc', args: ['cc', '-x'], env: ['A=1'], timeout: 4 },
    { when: 'startContainer', path: '/bin/sc', args: [] },
  ]);
  const kv = serializePlan(p.child).toString().split('\0');
  const from = kv.indexOf('hook');
  // plan.c reads a hook's args before its env, and the state's two halves.
  assert.equal(kv.slice(from, from + 20), [
    'hook', 'createContainer', 'hook_path', '/bin/cc', 'hook_arg', 'cc', 'hook_arg', '-x', 'hook_env_set', '1', 'hook_env', 'A=1', 'hook_timeout', '4',
    'hook', 'startContainer', 'hook_path', '/bin/sc', 'hook_state_pre', '{"id":"c","pid":',
  ]);
  assert.is(kv[kv.indexOf('hook_state_post') + 1], ',"status":"created"}');
  // No hooks of the child's own: no keys.
  assert.not.ok(serializePlan(plan(base()).child).toString().split('\0').includes('hook'));
});

test('planJoins: net and pid by the parent (netns, pidns), mount, uts, ipc, cgroup and user by the child', () => {
  const joins = [
    { type: 'network', path: '/n' }, { type: 'pid', path: '/p' }, { type: 'mount', path: '/m' }, { type: 'uts', path: '/u' },
    { type: 'ipc', path: '/i' }, { type: 'cgroup', path: '/c' }, { type: 'user', path: '/us' },
  ];
  assert.equal(planJoins(joins), {
    child: { pidns: '/p', joins: [{ ns: 'mnt', path: '/m' }, { ns: 'uts', path: '/u' }, { ns: 'ipc', path: '/i' }, { ns: 'cgroup', path: '/c' }, { ns: 'user', path: '/us' }] },
    unsupported: [],
  });
  // A new PID namespace inside a joined user namespace: carried out (the child forks PID 1).
  assert.equal(planJoins([{ type: 'user', path: '/us' }]).unsupported, []);
  assert.equal(planJoins([{ type: 'time', path: '/t' }]).unsupported, ['linux.namespaces (joining the time namespace /t)']);
});

test('a joined mount namespace: no new one, the child chroots (sharedMnt); a joined user namespace gets no maps', () => {
  const p = plan({ ...base(), linux: { namespaces: [{ type: 'mount', path: '/proc/7/ns/mnt' }, { type: 'pid', path: '/proc/7/ns/pid' }, { type: 'user', path: '/proc/7/ns/user' }] } });
  assert.equal(p.unsupported, []);
  assert.equal(p.child.ns, []);
  assert.is(p.child.sharedMnt, true);
  assert.is(p.child.pidns, '/proc/7/ns/pid');
  assert.equal(p.child.joins, [{ ns: 'mnt', path: '/proc/7/ns/mnt' }, { ns: 'user', path: '/proc/7/ns/user' }]);
  assert.is(p.child.uidMap, '');
  const kv = serializePlan(p.child).toString().split('\0');
  assert.equal(kv.filter((_, i) => kv[i - 1] === 'join'), ['mnt /proc/7/ns/mnt', 'user /proc/7/ns/user']);
  assert.is(kv[kv.indexOf('pidns') + 1], '/proc/7/ns/pid');
  assert.is(kv[kv.indexOf('shared_mnt') + 1], '1');
  // A mount namespace of its own: pivot_root as always.
  assert.is(plan(base()).child.sharedMnt, undefined);
});

test('no mount namespace at all: the runtime\'s (as runc), the child chroots, and the CLI is told to detach the tree', () => {
  const p = plan({ ...base(), linux: { namespaces: [{ type: 'pid' }] } });
  assert.equal(p.unsupported, []);
  assert.equal(p.child.ns, ['pid']);
  assert.is(p.child.sharedMnt, true);
  assert.is(p.runtimeMounts, true);
  assert.is(plan({ ...base(), linux: undefined }).runtimeMounts, true);
  // Joined: whoever made the namespace keeps what is in it.
  assert.is(plan({ ...base(), linux: { namespaces: [{ type: 'mount', path: '/proc/7/ns/mnt' }] } }).runtimeMounts, undefined);
});

test('topMountAt: the last mount listed at the path, escapes undone; 0 for none', () => {
  const info = [
    '22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw',
    '40 22 8:1 /b/rootfs /b/rootfs rw shared:1 - ext4 /dev/sda1 rw',
    '41 40 0:5 / /b/rootfs/proc rw - proc proc rw',
    '57 40 8:1 /b/rootfs /b/rootfs rw - ext4 /dev/sda1 rw',
    '60 22 8:1 /x\\040y /x\\040y rw - ext4 /dev/sda1 rw',
  ].join('\n');
  assert.is(topMountAt(info, '/b/rootfs'), 57);
  assert.is(topMountAt(info, '/x y'), 60);
  assert.is(topMountAt(info, '/nothing'), 0);
});

test.run();
