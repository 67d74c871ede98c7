// minidock-runc's commands that need no container of its own making: --version, features, spec,
// and state/list/kill/delete against a state record written by hand for a real process (a
// `sleep` standing in for a container's process). create/start wait for the native change.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO } from '../helpers/cli.js';
import { parseStartTime } from '../../src/runtime/proc.js';

const BIN = join(REPO, 'bin/minidock-runc.js');
const work = mkdtempSync(join(tmpdir(), 'mdk-oci-'));
const root = join(work, 'root');

function runc(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, '--root', root, ...args], { encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** A process standing in for a container's, recorded as if `create` had made it. */
function fakeContainer(id: string, extra: Record<string, unknown> = {}): ChildProcess {
  const p = spawn('sleep', ['600'], { stdio: 'ignore' });
  const start = parseStartTime(readFileSync(`/proc/${p.pid}/stat`, 'latin1'));
  mkdirSync(join(root, id), { recursive: true, mode: 0o700 });
  const rec = { id, ociVersion: '1.1.0', bundle: `/bundles/${id}`, rootfs: `/bundles/${id}/rootfs`, created: '2025-01-02T03:04:05.678Z', annotations: {}, pid: p.pid, pidStart: start, ...extra };
  writeFileSync(join(root, id, 'state.json'), JSON.stringify(rec));
  return p;
}

const exited = (p: ChildProcess): Promise<NodeJS.Signals | null> =>
  p.exitCode !== null || p.signalCode !== null ? Promise.resolve(p.signalCode) : new Promise((r) => p.once('exit', (_c, s) => r(s)));

test('--version has runc\'s shape', () => {
  const r = runc('--version');
  assert.is(r.code, 0);
  assert.is(r.stdout, 'minidock-runc version 0.1.0\nspec: 1.1.0\n');
});

test('features: versions, mount options and what is not supported yet', () => {
  const r = runc('features');
  assert.is(r.code, 0);
  const f = JSON.parse(r.stdout);
  assert.is(f.ociVersionMin, '1.0.0');
  assert.is(f.ociVersionMax, '1.2.1');
  assert.equal(f.hooks, ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop']);
  assert.ok(['rbind', 'nosuid', 'noatime', 'rshared', 'rro'].every((o) => f.mountOptions.includes(o)) && !f.mountOptions.includes('tmpcopyup'), f.mountOptions.join(' '));
  assert.equal(f.linux.namespaces, ['pid', 'network', 'mount', 'ipc', 'uts', 'user', 'cgroup']);
  assert.is(f.linux.capabilities[0], 'CAP_CHOWN');
  assert.is(f.linux.seccomp.enabled, true);
  assert.equal(f.linux.seccomp.archs, ['SCMP_ARCH_X86_64']);
  assert.ok(f.linux.seccomp.actions.includes('SCMP_ACT_ERRNO') && !f.linux.seccomp.actions.includes('SCMP_ACT_NOTIFY'));
  assert.is(f.linux.cgroup.v1, true);
});

test('spec writes runc\'s config.json once, then refuses to overwrite it', () => {
  const bundle = join(work, 'bundle');
  mkdirSync(bundle);
  assert.is(runc('spec', '--bundle', bundle).code, 0);
  const c = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
  assert.is(c.ociVersion, '1.1.0');
  assert.equal(c.process.args, ['sh']);
  assert.is(c.hostname, 'runc');
  const again = runc('spec', '--bundle', bundle);
  assert.is(again.code, 1);
  assert.is(again.stderr, `minidock-runc: File config.json exists. Remove it first (in ${bundle})\n`);
});

test('state and list of a running container, then kill, stopped, delete', async () => {
  const p = fakeContainer('web');
  try {
    const s = runc('state', 'web');
    assert.is(s.code, 0);
    assert.equal(JSON.parse(s.stdout), { ociVersion: '1.1.0', id: 'web', pid: p.pid, status: 'running', bundle: '/bundles/web', rootfs: '/bundles/web/rootfs', created: '2025-01-02T03:04:05.678Z', owner: '' });
    assert.is(runc('list', '-q').stdout, 'web\n');
    assert.is(runc('list').stdout, [
      'ID          PID         STATUS      BUNDLE         CREATED                    OWNER',
      `web         ${String(p.pid).padEnd(12)}running     /bundles/web   2025-01-02T03:04:05.678Z   root`,
      '',
    ].join('\n'));
    const refused = runc('delete', 'web');
    assert.is(refused.code, 1);
    assert.is(refused.stderr, 'minidock-runc: cannot delete container web that is not stopped: running (stop it first, or delete --force)\n');
    assert.is(runc('kill', 'web', 'KILL').code, 0);
    assert.is(await exited(p), 'SIGKILL');
    assert.is(JSON.parse(runc('state', 'web').stdout).status, 'stopped');
    assert.is(JSON.parse(runc('state', 'web').stdout).pid, 0);
    const again = runc('kill', 'web', '15');
    assert.is(again.code, 1);
    assert.match(again.stderr, /container not running/);
    assert.is(runc('delete', 'web').code, 0);
    assert.not.ok(existsSync(join(root, 'web')));
  } finally {
    p.kill('SIGKILL');
  }
});

test('created (the exec fifo is there): delete needs no --force and kills it', async () => {
  const p = fakeContainer('made');
  writeFileSync(join(root, 'made', 'exec.fifo'), '');
  try {
    assert.is(JSON.parse(runc('state', 'made').stdout).status, 'created');
    assert.is(runc('delete', 'made').code, 0);
    assert.is(await exited(p), 'SIGKILL');
    assert.not.ok(existsSync(join(root, 'made')));
  } finally {
    p.kill('SIGKILL');
  }
});

test('kill takes names with or without SIG, and numbers; delete --force kills', async () => {
  const p = fakeContainer('sig');
  try {
    const got = new Promise<NodeJS.Signals | null>((r) => p.once('exit', (_c, s) => r(s)));
    assert.is(runc('kill', 'sig', 'usr1').code, 0);
    assert.is(await got, 'SIGUSR1');
    const bad = runc('--log', join(work, 'log.json'), '--log-format', 'json', 'kill', 'sig', 'NOPE');
    assert.is(bad.code, 1);
    const line = JSON.parse(readFileSync(join(work, 'log.json'), 'utf8'));
    assert.equal(Object.keys(line), ['level', 'msg', 'time']);
    assert.is(line.level, 'error');
    assert.match(line.msg, /^unknown signal "NOPE"/);
    assert.match(line.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  } finally {
    p.kill('SIGKILL');
  }
  const q = fakeContainer('force');
  try {
    assert.is(runc('delete', '--force', 'force').code, 0);
    assert.is(await exited(q), 'SIGKILL');
  } finally {
    q.kill('SIGKILL');
  }
});

test('a recycled pid is never signalled: a record whose start time differs reads stopped', () => {
  const p = fakeContainer('old', { pidStart: 1 });
  try {
    assert.is(JSON.parse(runc('state', 'old').stdout).status, 'stopped');
    assert.is(runc('kill', 'old', 'KILL').code, 1);
    assert.is(p.exitCode, null);
    assert.is(runc('delete', 'old').code, 0);
    assert.ok(existsSync(`/proc/${p.pid}`));
  } finally {
    p.kill('SIGKILL');
  }
});

test('errors: no such container, bad id, --systemd-cgroup, the missing native lifecycle', () => {
  assert.is(runc('state', 'nope').stderr, 'minidock-runc: container "nope" does not exist\n');
  assert.is(runc('delete', 'nope').code, 1);
  assert.is(runc('delete', '--force', 'nope').code, 0);
  assert.match(runc('state', '../x').stderr, /^minidock-runc: invalid id format: "\.\.\/x"/);
  const bundle = join(work, 'bundle');
  assert.match(runc('--systemd-cgroup', 'create', '--bundle', bundle, 'x').stderr, /--systemd-cgroup is not supported/);
  const text = runc('--log', join(work, 'log.txt'), 'create', '--bundle', bundle, 'x');
  assert.is(text.code, 1);
  assert.match(readFileSync(join(work, 'log.txt'), 'utf8'), /^time="[^"]+Z" level=error msg="cannot allocate tty/);
});

test.after(() => rmSync(work, { recursive: true, force: true }));

test.run();
