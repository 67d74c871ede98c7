// `minidock run --dry-run --script` against the real kernel: the generated bash script builds a
// working container with standard tools only (python's http.server answering on the published
// port), and its exit trap leaves the host as it was. Also: `--dry-run` itself creates nothing.
// Everything happens in this test's network namespace and MINIDOCK_ROOT.
import { spawn } from 'node:child_process';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BUSYBOX_TAR, CGROUP_PARENT, PYTHON_TAR, TEST_NETNS, containerProcesses, inNetns, killPid, leakChecked, mdk, newRoot, removeRoot,
  requireRootAndImages, snapshot, type Snapshot,
} from '../helpers/cli.js';

requireRootAndImages(PYTHON_TAR);
const root = newRoot('script');
for (const [tar, name, cmd] of [[BUSYBOX_TAR, 'busybox', 'sh'], [PYTHON_TAR, 'python3', 'python3']] as const) {
  const imp = mdk(root, ['import', '-c', `CMD ["${cmd}"]`, tar, name]);
  if (imp.code !== 0) throw new Error(`importing ${name} failed: ${imp.stderr}`);
}
const ENV = { MINIDOCK_BRIDGE: 'mdktsbr0', MINIDOCK_SUBNET: '10.125.0.0/24' };
const scripts = mkdtempSync(join(tmpdir(), 'mdk-test-scripts-'));

const before: Snapshot = snapshot(root);
const S = suite('script');
S.after(() => {
  rmSync(scripts, { recursive: true, force: true });
  removeRoot(root);
});
const T = leakChecked(S, root, before);

/** What the test namespace has that a script could leave behind besides the snapshot: links,
 *  every minidock rule (network-wide ones included) and sysctls. */
const netState = (): { links: string[]; rules: string[]; forward: string } => ({
  links: inNetns('ip -o link show').split('\n').map((l) => l.split(': ')[1]?.split('@')[0] ?? '').filter(Boolean).sort(),
  rules: inNetns('iptables-save').split('\n').filter((l) => l.includes('minidock') || l.startsWith(':MINIDOCK')),
  forward: inNetns('cat /proc/sys/net/ipv4/ip_forward').trim(),
});

const curl = (url: string): string | undefined => {
  try {
    return inNetns(`curl -s -m 2 ${url}`);
  } catch {
    return undefined;
  }
};

interface Running {
  done: Promise<number | null>;
  stderr: () => string;
  stdout: () => string;
}

/** Runs a generated script with bash in the test's network namespace, entered as the CLI is
 *  (nsenter --net: `ip netns exec` would remount /sys and hide the cgroup filesystems). */
function runScript(text: string, name: string): Running {
  const file = join(scripts, name);
  writeFileSync(file, text);
  const child = spawn('nsenter', [`--net=/run/netns/${TEST_NETNS}`, 'bash', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let stdout = '';
  child.stderr.on('data', (d) => (stderr += d));
  child.stdout.on('data', (d) => (stdout += d));
  const done = new Promise<number | null>((r) => child.on('close', (code, signal) => r(code ?? (signal ? 128 : null))));
  return { done, stderr: () => stderr, stdout: () => stdout };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms)));
  try {
    return await Promise.race([p, t]);
  } finally {
    clearTimeout(timer);
  }
}

T('--dry-run prints the steps and creates nothing: no container, lease, bridge or rule', () => {
  const net0 = netState();
  const r = mdk(root, ['run', '--dry-run', '-p', '18091:80', 'python3', 'python3', '-m', 'http.server', '80'], { env: ENV });
  assert.is(r.code, 0, r.stderr);
  // The OCI config first (flags → image config → config.json), then the kernel steps.
  assert.match(r.stdout, /^The OCI runtime config minidock built/);
  assert.match(r.stdout, /\n\}\n[\s\S]*\nWhat minidock does for this container/);
  assert.match(r.stdout, /"args": \["python3", "-m", "http.server", "80"\]/);
  assert.ok(new RegExp(`"cgroupsPath": "/${CGROUP_PARENT}/[0-9a-f]{64}"`).test(r.stdout), "the cgroup path under the test's parent");
  assert.match(r.stdout, /ip link add name mdktsbr0 type bridge/);
  assert.match(r.stdout, /-j DNAT[\s\\]+--to-destination[\s\\]+10\.125\.0\.2:80/);
  assert.match(r.stdout, /pivot_root \. \./);
  assert.equal(netState(), net0, 'no link, rule or sysctl');
  for (const d of ['containers', 'names', 'networks', 'ports', 'scripts']) assert.not.ok(existsSync(join(root, d)), `no ${d}/ in MINIDOCK_ROOT`);
  const bad = mdk(root, ['run', '--script', 'python3', 'true'], { env: ENV });
  assert.is(bad.code, 125);
  assert.match(bad.stderr, /--script needs --dry-run/);
});

T('run --explain runs the container and tells what it did, with the real pid, address and cgroup', () => {
  const r = mdk(root, ['run', '--rm', '--explain', '-p', '18092:80', '-m', '64m', '--name', 'told', 'busybox', 'sh', '-c', 'echo $$; cat /proc/self/cgroup | head -1'], { env: ENV });
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /^1\n\d+:[^\n]*:\/\n$/, 'the command ran, as PID 1, in its cgroup');
  assert.match(r.stderr, /^The OCI runtime config minidock built[\s\S]*"linux": \{[\s\S]*"memory": \{"limit": 67108864, "swap": 134217728\}[\s\S]*\nWhat minidock does for this container/);
  assert.match(r.stderr, /netns \d+/, 'the veth went to the real pid, not $PID');
  assert.not.match(r.stderr, /\$PID/);
  assert.match(r.stderr, /--dport 18092[\s\S]*--to-destination[\s\\]+10\.125\.0\.\d+:80/);
  assert.match(r.stderr, /67108864/, 'the memory limit written to the cgroup');
  assert.match(r.stderr, /pivot_root \. \./);
});

T('the script builds the same container: the published port answers, and its exit leaves nothing', async () => {
  const net0 = netState();
  const gen = mdk(root, ['run', '--dry-run', '--script', '-p', '18090:80', 'python3', 'python3', '-m', 'http.server', '80'], { env: ENV });
  assert.is(gen.code, 0, gen.stderr);
  assert.equal(netState(), net0, 'generating it made nothing');
  const run = runScript(gen.stdout, 'web.sh');
  let body: string | undefined;
  try {
    for (let i = 0; i < 200 && !body; i++) {
      body = curl('http://127.0.0.1:18090/');
      if (!body) {
        const exited = await Promise.race([run.done.then(() => true), sleep(150).then(() => false)]);
        if (exited) break;
      }
    }
    assert.match(body ?? '', /Directory listing/, `localhost:18090 answers (script stderr: ${run.stderr()})`);
    assert.match(curl('http://10.125.0.1:18090/') ?? '', /Directory listing/, "the host's own address on the bridge too");
    assert.match(curl('http://10.125.0.2:80/') ?? '', /Directory listing/, 'and the container itself');
    assert.match(run.stderr(), /is running: PID 1 is host pid \d+, 10\.125\.0\.2 on mdktsbr0, 0\.0\.0\.0:18090->80\/tcp/);

    // The container, as minidock would make it: PID 1 in its own namespaces, remapped, only stdio.
    const pids = containerProcesses(root);
    assert.is(pids.length, 1, `one container process: ${pids}`);
    const pid = pids[0]!;
    assert.ok(run.stderr().includes(`host pid ${pid}`), 'the script names its PID 1');
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    assert.match(status, /NoNewPrivs:\s+1/);
    assert.match(status, /CapEff:\s+00000000a80425fb/);
    assert.match(status, /NSpid:\s+\d+\s+1\n/, 'PID 1 in its namespace');
    const planned = /^echo '([^']+)' >"\/proc\/\$PID\/uid_map"$/m.exec(gen.stdout)?.[1];
    assert.ok(planned, 'the script writes the planned uid_map');
    assert.is(readFileSync(`/proc/${pid}/uid_map`, 'utf8').trim().split(/\s+/).join(' '), planned, 'the uid_map of the plan');
    const fds = readdirSync(`/proc/${pid}/fd`).filter((fd) => Number(fd) > 2).map((fd) => readlinkSync(`/proc/${pid}/fd/${fd}`));
    assert.ok(fds.every((l) => l.startsWith('socket:')), `beyond stdio only the server's own sockets: ${fds}`);
    const env = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean).map((e) => e.split('=')[0]).sort();
    assert.equal(env, ['HOME', 'HOSTNAME', 'PATH'], 'exactly the container\'s environment');
    assert.not.ok(readFileSync(`/proc/${pid}/mountinfo`, 'utf8').includes(' /boot'), 'the old root is detached');

    killPid(pid, 'SIGKILL');
    await within(20_000, 'the script to exit', run.done);
  } finally {
    for (const p of containerProcesses(root)) killPid(p, 'SIGKILL');
    await within(20_000, 'the script to exit', run.done).catch(() => undefined);
  }
  assert.equal(netState(), net0, 'the bridge, its rules and ip_forward as they were');
  assert.equal(readdirSync(join(root, 'scripts')), [], 'its directory removed');
});

T('a script on a network minidock made leaves the bridge and its rules; --privileged, no network, exact output', async () => {
  const made = mdk(root, ['run', '--rm', 'busybox', 'true'], { env: ENV });
  assert.is(made.code, 0, made.stderr);
  const net0 = netState();
  assert.ok(net0.links.includes('mdktsbr0'));
  const gen = mdk(root, ['run', '--dry-run', '--script', '-p', '18092:80', 'python3', 'python3', '-c', 'print("up")'], { env: ENV });
  assert.is(gen.code, 0, gen.stderr);
  const run = runScript(gen.stdout, 'once.sh');
  assert.is(await within(60_000, 'a one-shot container', run.done), 0, run.stderr());
  assert.is(run.stdout(), 'up\n');
  assert.equal(netState(), net0, 'the bridge and minidock\'s rules stay; the port rule went');

  const gen2 = mdk(root, ['run', '--dry-run', '--script', '--privileged', '--network', 'none', '-w', '/made/here', 'busybox', 'sh', '-c',
    'cat /proc/self/uid_map; echo "pid=$$ cwd=$(pwd) host=$(hostname)"; ls /proc/self/fd | wc -l; exit 3'], { env: ENV });
  assert.is(gen2.code, 0, gen2.stderr);
  const run2 = runScript(gen2.stdout, 'none.sh');
  assert.is(await within(30_000, 'the busybox container', run2.done), 3, `the command's exit code (${run2.stderr()})`);
  const out = run2.stdout().split('\n');
  assert.match(out[0]!, /^\s*0\s+0\s+4294967295$/, 'identity map (--privileged)');
  assert.match(out[1]!, /^pid=1 cwd=\/made\/here host=[0-9a-f]{12}$/);
  assert.is(out[2]!.trim(), '4', 'stdin, stdout, stderr and ls\'s own directory: nothing else');
  assert.equal(netState(), net0);
});

S.run();
