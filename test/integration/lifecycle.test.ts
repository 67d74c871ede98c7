// Detached containers and what follows them, against the real kernel: run -d, logs, exec into
// every namespace, stop's grace period, kill, wait, start with the same ports, rm -f, --rm, and
// a recycled pid that stop must not touch.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUSYBOX_TAR, cliArgv, envFor, inNetns, killPid, leakChecked, mdk, mdkSpawn, newRoot, PYTHON_TAR, removeRoot, requireRootAndImages, snapshot, testCgroups } from '../helpers/cli.js';
import { native } from '../../src/native/binding.js';

requireRootAndImages(PYTHON_TAR);
const root = newRoot('life');
for (const [tar, name, extra] of [[BUSYBOX_TAR, 'busybox', ['-c', 'CMD ["sh"]']], [PYTHON_TAR, 'python3', ['-c', 'CMD ["python3"]', '-c', 'ENV PYTHONUNBUFFERED=1']]] as const) {
  const imp = mdk(root, ['import', ...extra, tar, name]);
  if (imp.code !== 0) throw new Error(`importing ${name} failed: ${imp.stderr}`);
}
const ENV = { MINIDOCK_BRIDGE: 'mdktbr1', MINIDOCK_SUBNET: '10.127.0.0/24' };
const md = (...args: string[]) => mdk(root, args, { env: ENV });
const before = snapshot(root);
const Life = suite('lifecycle');
Life.after(() => removeRoot(root));
const T = leakChecked(Life, root, before);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const state = (name: string) => {
  const id = readFileSync(join(root, 'names', name), 'utf8');
  return { id, ...JSON.parse(readFileSync(join(root, 'containers', id, 'state.json'), 'utf8')) };
};
async function until(what: string, ok: () => boolean, ms = 5000): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(25)) if (ok()) return;
  throw new Error(`timed out waiting for ${what}`);
}
const curl = (url: string): string => {
  try {
    return inNetns(`curl -s -m 2 ${url}`);
  } catch {
    return '';
  }
};

T('run -d prints the id, returns at once, and the container outlives the CLI', async () => {
  const r = md('run', '-d', '--name', 'bg', 'busybox', 'sh', '-c', 'echo started; sleep 30');
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /^[0-9a-f]{64}\n$/);
  const s = state('bg');
  assert.is(s.status, 'running');
  // (busybox sh execs its last command: PID 1 is now sleep.)
  assert.is(readFileSync(`/proc/${s.pid}/cmdline`, 'utf8'), 'sleep\x0030\x00');
  assert.match(readFileSync(`/proc/${s.pid}/status`, 'utf8'), /NSpid:\s+\d+\s+1\n/, 'it is PID 1 of its namespace');
  assert.match(md('ps').stdout, /Up .* bg\n/);
  // The shim is a small C process, not another node.
  assert.match(readFileSync(`/proc/${s.monitorPid}/cmdline`, 'utf8'), /minidock-shim\0run\0/);
  const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${s.monitorPid}/status`, 'utf8'))![1]);
  assert.ok(rss < 4096, `shim RSS ${rss} kB`);
  assert.is(md('logs', 'bg').stdout, 'started\n');
  assert.is(md('rm', '-f', 'bg').code, 0);
});

T('exit codes of detached containers are recorded: 0, 3, and 137 after kill', async () => {
  md('run', '-d', '--name', 'ok0', 'busybox', 'true');
  md('run', '-d', '--name', 'ok3', 'busybox', 'sh', '-c', 'exit 3');
  md('run', '-d', '--name', 'k9', 'busybox', 'sleep', '30');
  assert.is(md('kill', 'k9').code, 0);
  assert.is(md('wait', 'ok0', 'ok3', 'k9').stdout, '0\n3\n137\n');
  const ps = md('ps', '-a').stdout;
  for (const [n, c] of [['ok0', 0], ['ok3', 3], ['k9', 137]] as const) assert.match(ps, new RegExp(`Exited \\(${c}\\) .* ${n}\\n`));
  assert.is(md('rm', 'ok0', 'ok3', 'k9').code, 0);
});

T('logs: stdout and stderr, -t, --tail and -f', async () => {
  md('run', '-d', '--name', 'talker', 'busybox', 'sh', '-c', 'for i in 1 2 3; do echo out$i; echo err$i >&2; done; sleep 1; echo late; printf partial');
  const follow = spawn(...cliArgv(['logs', '-f', 'talker']), { env: envFor(root), stdio: ['ignore', 'pipe', 'pipe'] });
  let followed = '';
  follow.stdout.on('data', (d) => (followed += d));
  const done = new Promise((r) => follow.on('close', r));
  await done; // -f ends by itself once the container has stopped
  assert.is(followed, 'out1\nout2\nout3\nlate\npartial');
  const all = md('logs', 'talker');
  assert.is(all.stdout, 'out1\nout2\nout3\nlate\npartial');
  assert.is(all.stderr, 'err1\nerr2\nerr3\n');
  assert.is(md('logs', '--tail', '2', 'talker').stdout, 'late\npartial');
  assert.match(md('logs', '-t', 'talker').stdout.split('\n')[0]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z out1$/);
  assert.is(md('rm', 'talker').code, 0);
});

T('logs of a foreground run: what it printed, stdout and stderr apart, -t too; --rm keeps none', async () => {
  const r = md('run', '--name', 'fg', '--network', 'none', 'busybox', 'sh', '-c', 'echo out1; echo err1 >&2; echo out2; printf partial');
  assert.is(r.code, 0, r.stderr);
  // The run itself still shows everything, on the stream it was written to.
  assert.is(r.stdout, 'out1\nout2\npartial');
  assert.is(r.stderr, 'err1\n');
  const l = md('logs', 'fg');
  assert.is(l.stdout, 'out1\nout2\npartial');
  assert.is(l.stderr, 'err1\n');
  // Started again, it appends (docker keeps one log per container across its runs).
  assert.is(md('start', 'fg').code, 0);
  assert.is(md('wait', 'fg').stdout, '0\n');
  assert.is(md('logs', 'fg').stdout, 'out1\nout2\npartialout1\nout2\npartial');
  // With a pty: one stream, the pty's \r\n logged as a newline.
  const t = md('run', '-t', '--name', 'fgt', '--network', 'none', 'busybox', 'sh', '-c', 'echo t1; echo t2 >&2');
  assert.is(t.code, 0, t.stderr);
  assert.is(md('logs', 'fgt').stdout, 't1\nt2\n');
  const id = md('run', '--rm', '--network', 'none', 'busybox', 'echo', 'gone');
  assert.is(id.stdout, 'gone\n');
  assert.is(md('rm', 'fg', 'fgt').code, 0);
});

T('ps --format, -n, -l and -s, as docker\'s', async () => {
  md('run', '-d', '--name', 'pf1', '--network', 'none', 'busybox', 'sleep', '30');
  md('run', '--name', 'pf2', '--network', 'none', 'busybox', 'sh', '-c', 'printf 12345 > /written');
  const id1 = state('pf1').id;
  const id2 = state('pf2').id;
  assert.is(md('ps', '--format', '{{.Names}}').stdout, 'pf1\n');
  assert.is(md('ps', '-a', '-f', 'name=pf2', '--format', '{{.ID}}').stdout, `${id2.slice(0, 12)}\n`);
  assert.is(md('ps', '-a', '--no-trunc', '--format', '{{.ID}} {{.State}}').stdout, `${id2} exited\n${id1} running\n`);
  const table = md('ps', '-a', '--format', 'table {{.Names}}\\t{{.Status}}').stdout.split('\n');
  assert.match(table[0]!, /^NAMES +STATUS$/);
  assert.match(table[1]!, /^pf2 +Exited \(0\) /);
  assert.match(table[2]!, /^pf1 +Up /);
  // -l and -n: the latest created, stopped ones included.
  assert.is(md('ps', '-l', '--format', '{{.Names}}').stdout, 'pf2\n');
  assert.is(md('ps', '-n', '2', '-q').stdout, `${id2.slice(0, 12)}\n${id1.slice(0, 12)}\n`);
  // -s: the writable layer's bytes (the 5 written), and the image's beside them.
  assert.match(md('ps', '-l', '--format', '{{.Size}}').stdout, /^5B \(virtual 1\.\d+MB\)\n$/);
  const sized = md('ps', '-s').stdout.split('\n');
  assert.match(sized[0]!, / SIZE$/);
  assert.match(sized[1]!, /pf1 +0B \(virtual /);
  const j = JSON.parse(md('ps', '-l', '--format', '{{json .}}').stdout);
  assert.is(j.Names, 'pf2');
  assert.is(j.Networks, 'none');
  assert.is(j.Command, '"sh -c \'printf 12345…"');
  // The other list commands take the same formats.
  assert.match(md('stats', '--no-stream', '--format', '{{.Container}} {{.PIDs}} {{.MemPerc}}', 'pf1').stdout, /^pf1 1 \d+\.\d\d%\n$/);
  assert.match(md('stats', '--no-stream', '--format', 'table {{.Name}}\\t{{.CPUPerc}}', 'pf1').stdout, /^NAME +CPU %\npf1 +\d+\.\d\d%\n$/);
  assert.is(md('images', '--format', '{{.Repository}}:{{.Tag}}', 'busybox').stdout, 'busybox:latest\n');
  assert.match(md('images', '--format', 'table {{.Repository}}\\t{{.Tag}}\\t{{.Size}}', 'busybox').stdout, /^REPOSITORY +TAG +SIZE\nbusybox +latest +1\.\d+MB\n$/);
  const bad = md('ps', '--format', '{{.Names');
  assert.is(bad.code, 1);
  assert.match(bad.stderr, /failed to parse template: template: :1: unclosed action/);
  assert.is(md('rm', '-f', 'pf1', 'pf2').code, 0);
});

T('exec joins all seven namespaces of PID 1, with docker\'s exit codes and options', async () => {
  md('run', '-d', '--name', 'target', 'busybox', 'sleep', '30');
  const ns = ['mnt', 'uts', 'ipc', 'pid', 'net', 'user', 'cgroup'];
  const r = md('exec', 'target', 'sh', '-c', ns.map((n) => `readlink /proc/self/ns/${n}; readlink /proc/1/ns/${n}`).join('; '));
  assert.is(r.code, 0, r.stderr);
  const links = r.stdout.trim().split('\n');
  for (let i = 0; i < ns.length; i++) {
    assert.is(links[2 * i], links[2 * i + 1], `${ns[i]}: exec's namespace is PID 1's`);
    assert.is.not(links[2 * i], readlinkSync(`/proc/self/ns/${ns[i]}`), "and not the host's");
  }
  assert.is(md('exec', 'target', 'sh', '-c', 'exit 4').code, 4);
  // docker exec: 126 when the command cannot be started, found or not (run keeps 127); the
  // command's own 127 passes through.
  const missing = md('exec', 'target', 'no-such-command');
  assert.is(missing.code, 126);
  assert.is(md('exec', 'target', 'sh', '-c', 'exit 127').code, 127);
  assert.is(md('exec', '-w', '/no/such/dir', 'target', 'true').code, 126);
  assert.match(missing.stderr, /exec: "no-such-command": executable file not found in \$PATH/);
  assert.is(md('exec', '-e', 'X=y', '-w', '/tmp', '-u', '1000:1000', 'target', 'sh', '-c', 'echo $X $(pwd) $(id -u):$(id -g)').stdout, 'y /tmp 1000:1000\n');
  // As docker's: HOME from the user's passwd entry, TERM=xterm with -t, the primary gid among the
  // supplementary groups; the exec's own -e over all of them.
  assert.is(md('exec', '-u', 'nobody', 'target', 'sh', '-c', 'echo $HOME; id -G').stdout, '/nonexistent\n65534\n');
  assert.is(md('exec', '-u', '1000:1000', 'target', 'id', '-G').stdout, '1000\n');
  assert.is(md('exec', '-u', 'nobody', '-e', 'HOME=/x', 'target', 'sh', '-c', 'echo $HOME').stdout, '/x\n');
  assert.is(md('exec', '-t', 'target', 'sh', '-c', 'echo $TERM').stdout.replace(/\r/g, ''), 'xterm\n');
  assert.is(md('exec', 'target', 'sh', '-c', 'echo "[$TERM]"').stdout, '[]\n');
  assert.is(md('exec', '-i', 'target', 'cat').stdout, '', 'stdin of the CLI (empty) reaches cat');
  assert.is(mdk(root, ['exec', '-i', 'target', 'cat'], { input: 'piped\n', env: ENV }).stdout, 'piped\n');
  assert.is(md('rm', '-f', 'target').code, 0);
  const gone = md('exec', 'target', 'true');
  assert.is(gone.code, 1, 'docker: a missing container is exit 1 outside run');
  assert.match(gone.stderr, /no such container: target/);
  // docker: rm -f of what is not there says so and exits 0 (scripts under set -e rely on it);
  // without -f it is an error.
  const again = md('rm', '-f', 'target');
  assert.equal([again.code, again.stdout], [0, '']);
  assert.match(again.stderr, /^minidock: no such container: target/);
  assert.is(md('rm', 'target').code, 1);
});

T('stop: a PID 1 that ignores SIGTERM is killed after the grace period; one that handles it stops at once', async () => {
  md('run', '-d', '--name', 'stubborn', 'busybox', 'sleep', '60');
  let t0 = Date.now();
  assert.is(md('stop', '-t', '1', 'stubborn').code, 0);
  const slow = Date.now() - t0;
  assert.ok(slow >= 1000 && slow < 4000, `took ${slow} ms`);
  assert.is(md('wait', 'stubborn').stdout, '137\n');
  md('run', '-d', '--name', 'polite', 'busybox', 'sh', '-c', 'trap "exit 0" TERM; while :; do sleep 0.1; done');
  await sleep(300);
  t0 = Date.now();
  assert.is(md('stop', '-t', '5', 'polite').code, 0);
  assert.ok(Date.now() - t0 < 2000, 'handled SIGTERM quickly');
  assert.is(md('wait', 'polite').stdout, '0\n');
  assert.is(md('rm', 'stubborn', 'polite').code, 0);
});

T('start after exit reuses the name, the network and the published port; rm -f on a running one', async () => {
  md('run', '-d', '--name', 'svc', '-p', '18200:80', 'python3', 'python3', '-m', 'http.server', '80');
  await until('first answer', () => /Directory listing/.test(curl('http://127.0.0.1:18200/')));
  assert.is(md('stop', '-t', '1', 'svc').code, 0);
  assert.is(curl('http://127.0.0.1:18200/'), '');
  assert.is(md('start', 'svc').stdout, 'svc\n');
  await until('answer after start', () => /Directory listing/.test(curl('http://127.0.0.1:18200/')));
  assert.match(md('ps').stdout, /0\.0\.0\.0:18200->80\/tcp\s+svc/);
  assert.match(md('logs', 'svc').stdout, /Serving HTTP on 0\.0\.0\.0 port 80[\s\S]*Serving HTTP on 0\.0\.0\.0 port 80/);
  assert.is(md('rm', '-f', 'svc').code, 0);
});

T('create: the container waits as Created (no process, lease or rule; gc keeps it); start runs it detached with its port; run-only flags refused', async () => {
  const c = md('create', '--name', 'made', '-p', '18202:80', 'python3', 'python3', '-m', 'http.server', '80');
  assert.is(c.code, 0, c.stderr);
  assert.match(c.stdout, /^[0-9a-f]{64}\n$/);
  const id = c.stdout.trim();
  assert.match(md('ps', '-a').stdout, new RegExp(`${id.slice(0, 12)} .*Created\\s+made\\n`));
  assert.equal(md('ps', '-q').stdout, '', 'not running');
  assert.is(md('inspect', '-f', '{{.State.Status}} {{.State.Pid}}', 'made').stdout, 'created 0\n');
  assert.is(state('made').net, undefined, 'no address leased before start');
  assert.not.match(inNetns('iptables-save'), new RegExp(`minidock:${id}`), 'no rule before start');
  md('gc');
  assert.match(md('ps', '-a').stdout, /Created\s+made\n/, 'gc keeps a created container');
  assert.is(md('start', 'made').stdout, 'made\n');
  await until('its answer', () => /Directory listing/.test(curl('http://127.0.0.1:18202/')));
  assert.match(md('ps').stdout, /0\.0\.0\.0:18202->80\/tcp\s+made/);
  assert.is(md('rm', '-f', 'made').code, 0);
  for (const flag of ['-d', '--explain', '--dry-run']) {
    const bad = md('create', flag, 'busybox', 'true');
    assert.is(bad.code, 125, flag);
    assert.match(bad.stderr, /^minidock: create takes no --/);
  }
  assert.is(md('ps', '-aq').stdout, '', 'nothing half-made by the refused ones');
});

T('run -d --rm: the container and its network go when it exits', async () => {
  const r = md('run', '-d', '--rm', '--name', 'short', '-p', '18201:80', 'busybox', 'sleep', '0.3');
  assert.is(r.code, 0, r.stderr);
  await until('removal', () => !md('ps', '-a').stdout.includes('short'));
});

T('stop never signals a process that took over a dead container\'s pid', async () => {
  md('run', '-d', '--name', 'victim', 'busybox', 'sleep', '60');
  const s = state('victim');
  // Pretend the container died and its pid went to a stranger: point its record at a process of
  // ours with the old start time.
  const stranger = spawn('sleep', ['30'], { stdio: 'ignore' });
  const file = join(root, 'containers', s.id, 'state.json');
  const saved = readFileSync(file, 'utf8');
  writeFileSync(file, JSON.stringify({ ...s, pid: stranger.pid }));
  try {
    md('stop', '-t', '1', 'victim');
    md('kill', 'victim');
    assert.is(stranger.exitCode, null);
    assert.is(stranger.signalCode, null, 'the stranger was not signalled');
    assert.ok(readFileSync(`/proc/${stranger.pid}/cmdline`, 'utf8').startsWith('sleep'));
  } finally {
    killPid(stranger.pid!);
    writeFileSync(file, saved);
  }
  assert.is(md('rm', '-f', 'victim').code, 0);
});

T('--init: PID 1 reaps zombies and forwards SIGTERM, so stop is immediate; its binary is read-only', async () => {
  md('run', '-d', '--init', '--name', 'inited', 'busybox', 'sh', '-c', '(sleep 0.1 &); (sleep 0.1 &); sleep 60');
  await sleep(600);
  const ps = md('exec', 'inited', 'sh', '-c', 'cat /proc/1/cmdline | tr "\\0" " "; echo; grep -l "^State:.*Z" /proc/[0-9]*/status | wc -l');
  const [cmdline, zombies] = ps.stdout.trim().split('\n');
  assert.match(cmdline!, /^\/sbin\/minidock-init -- sh -c /);
  assert.is(zombies!.trim(), '0', 'orphans were reaped');
  const write = md('exec', 'inited', 'sh', '-c', 'echo x >> /proc/1/exe');
  assert.is.not(write.code, 0);
  assert.match(write.stderr, /Read-only file system|Text file busy|Permission denied/);
  assert.match(md('ps').stdout, /"sh -c '\(sleep 0\.1 &…"/, "ps shows the user's command (truncated as docker does), not the init");
  const t0 = Date.now();
  assert.is(md('stop', 'inited').code, 0);
  assert.ok(Date.now() - t0 < 2000, `stopped in ${Date.now() - t0} ms, not after the 10 s grace period`);
  assert.is(md('wait', 'inited').stdout, '143\n', "sh died of the forwarded SIGTERM");
  assert.is(md('rm', 'inited').code, 0);
});

T('in the foreground, signals the CLI receives reach PID 1 (docker\'s --sig-proxy)', async () => {
  const cli = spawn(...cliArgv(['run', '--rm', '--name', 'proxied',
    'busybox', 'sh', '-c', 'trap "exit 42" TERM; trap "exit 43" HUP; while :; do sleep 0.1; done']), { env: envFor(root, ENV), stdio: 'ignore' });
  const code = new Promise<number | null>((r) => cli.on('close', r));
  await until('running', () => { try { return state('proxied').status === 'running'; } catch { return false; } });
  await sleep(200);
  killPid(cli.pid!, 'SIGTERM'); // nsenter execs node: this pid is the CLI's
  assert.is(await code, 42);
});

T('inspect (JSON and --format), top and ps -f on a live container', async () => {
  md('run', '-d', '--name', 'seen', '-p', '18210:80', 'busybox', 'sh', '-c', 'sleep 60 & sleep 61');
  md('run', '-d', '--name', 'gone', 'busybox', 'true');
  assert.is(md('wait', 'gone').stdout, '0\n');
  const s = state('seen');
  const [info] = JSON.parse(md('inspect', 'seen').stdout);
  assert.is(info.Id, s.id);
  assert.is(info.Name, '/seen');
  assert.is(info.State.Status, 'running');
  assert.is(info.State.Pid, s.pid);
  assert.is(info.NetworkSettings.IPAddress, s.net.attachment.ip);
  assert.equal(info.NetworkSettings.Ports['80/tcp'], [{ HostIp: '0.0.0.0', HostPort: '18210' }]);
  for (const n of ['mnt', 'uts', 'ipc', 'pid', 'net', 'user', 'cgroup']) {
    const inode = Number(/\[(\d+)\]/.exec(readlinkSync(`/proc/${s.pid}/ns/${n}`))![1]);
    assert.is(info.Namespaces[n], inode, `${n} inode of PID 1`);
  }
  assert.is(md('inspect', '--format', '{{.State.Pid}} {{.NetworkSettings.IPAddress}}', 'seen').stdout, `${s.pid} ${s.net.attachment.ip}\n`);
  assert.is(md('inspect', '-f', '{{.State.ExitCode}} {{.State.Status}}', 'gone').stdout, '0 exited\n');
  const badTpl = md('inspect', '-f', '{{.State.Pid', 'seen');
  assert.is(badTpl.code, 64, 'docker inspect\'s status for a template that does not parse');
  assert.match(badTpl.stderr, /Template parsing error/);
  const top = md('top', 'seen').stdout.trim().split('\n');
  assert.match(top[0]!, /PID/);
  // sh forked `sleep 60` and then exec'd `sleep 61` (busybox runs a last command in place).
  assert.is(top.length, 3, `header and two sleeps: ${top.join(' | ')}`);
  assert.match(top[1]!, new RegExp(`^${s.pid}\\s+1\\s+\\d+\\s+100000\\s+sleep 61$`), 'PID 1 with its host pid');
  assert.match(top[2]!, new RegExp(`^\\d+\\s+2\\s+${s.pid}\\s+100000\\s+sleep`), 'its child, as pid 2 inside');
  assert.is(md('ps', '-q', '-f', 'status=exited').stdout, `${state('gone').id.slice(0, 12)}\n`);
  assert.is(md('ps', '-q', '-f', 'name=see').stdout, `${s.id.slice(0, 12)}\n`);
  const bad = md('ps', '-f', 'bogus=1');
  assert.is(bad.code, 1, 'docker: a bad filter is its daemon\'s error, exit 1');
  assert.match(bad.stderr, /invalid filter 'bogus'/);
  assert.is(md('rm', '-f', 'seen', 'gone').code, 0);
});

T('exec -d, kill -s by name, restart, start -a, and exec into a foreground container', async () => {
  md('run', '-d', '--name', 'multi', 'busybox', 'sh', '-c', 'trap "exit 10" USR1; while :; do sleep 0.1; done');
  assert.is(md('exec', '-d', 'multi', 'sh', '-c', 'echo detached > /tmp/mark').code, 0);
  await until('exec -d ran', () => md('exec', 'multi', 'cat', '/tmp/mark').stdout === 'detached\n');
  const bad = md('kill', '-s', 'SIGBOGUS', 'multi');
  assert.is(bad.code, 1, 'docker: its daemon refuses the signal, exit 1');
  assert.match(bad.stderr, /invalid signal: SIGBOGUS/);
  assert.is(md('kill', '-s', 'usr1', 'multi').code, 0);
  assert.is(md('wait', 'multi').stdout, '10\n');
  const notRunning = md('kill', 'multi');
  assert.is(notRunning.code, 1);
  assert.match(notRunning.stderr, /cannot kill container: multi: container is not running/);
  const restarted = md('restart', '-t', '1', 'multi');
  assert.is(restarted.code, 0, restarted.stderr);
  assert.is(restarted.stdout, 'multi\n', 'the name once, as docker prints it');
  await until('running again', () => state('multi').status === 'running');
  assert.is(md('exec', 'multi', 'cat', '/tmp/mark').stdout, 'detached\n', 'its writable layer survived the restart');
  assert.is(md('rm', '-f', 'multi').code, 0);

  md('run', '--name', 'again', 'busybox', 'sh', '-c', 'echo run-$RANDOM-ok');
  const attached = md('start', '-a', 'again');
  assert.is(attached.code, 0, attached.stderr);
  assert.match(attached.stdout, /^run-\d+-ok\n$/, 'start -a runs it in the foreground');
  assert.is(md('rm', 'again').code, 0);

  // exec works on a container run in the foreground, too.
  const fg = spawn(...cliArgv(['run', '--rm', '--name', 'fore', 'busybox', 'sleep', '30']), { env: envFor(root, ENV), stdio: 'ignore' });
  const fgDone = new Promise((r) => fg.on('close', r));
  await until('foreground running', () => { try { return state('fore').status === 'running'; } catch { return false; } });
  assert.is(md('exec', 'fore', 'hostname').stdout, `${md('inspect', '-f', '{{.Id}}', 'fore').stdout.slice(0, 12)}\n`);
  assert.is(md('rm', '-f', 'fore').code, 0);
  await fgDone;
});

/** The command lines of the host's processes: a container's shim names its directory, and the
 *  `minidock cleanup ID` the shim execs into ends with its id. */
const cmdlines = (): string[] => readdirSync('/proc').flatMap((p) => {
  try { return /^\d+$/.test(p) ? [readFileSync(`/proc/${p}/cmdline`, 'latin1')] : []; } catch { return []; }
});

T('run -d -p: a container that exits at once is cleaned up after run has published its ports, never before', async () => {
  // run stalls right after "go" (a slow machine at the worst moment): the container's `true` is
  // long gone, and its shim must hold the cleanup back until run lets go of it. Before, the
  // cleanup ran first, and run then added DNAT rules for an address it had given back and
  // recorded "running" over the exit.
  const r = mdk(root, ['run', '-d', '--name', 'quick', '-p', '18127:80', 'busybox', 'true'], { env: { ...ENV, MINIDOCK_TEST_PAUSE_AT: 'run.started:600' } });
  assert.is(r.code, 0, r.stderr);
  const id = r.stdout.trim();
  assert.is(md('wait', 'quick').stdout.trim(), '0');
  await until('the cleanup to record the exit', () => state('quick').status === 'exited');
  const s = state('quick');
  assert.is(s.exitCode, 0);
  assert.is(s.net, undefined, 'the lease is released');
  assert.equal(inNetns('iptables-save').split('\n').filter((l) => l.includes(`minidock:${id}`)), [], 'no rule of the container is left');
  assert.is(md('rm', 'quick').code, 0);
});

T('start waits for the last run\'s cleanup: a slow cleanup never records the new run as exited', async () => {
  md('run', '-d', '--name', 'again2', 'busybox', 'sh', '-c', 'trap "exit 10" USR1; while :; do sleep 0.1; done');
  const { id } = state('again2');
  const dir = join(root, 'containers', id);
  // Hold the store's lock: the shim's `minidock cleanup` releases the old run's lease and
  // cgroups, then blocks writing its final state, as a cleanup on a loaded machine runs late.
  const lock = openSync(join(root, 'lock'), 'a');
  native().flock(lock);
  let start: Promise<{ code: number | null; out: string }> | undefined;
  try {
    assert.is(md('kill', '-s', 'USR1', 'again2').code, 0);
    await until('exit recorded', () => existsSync(join(dir, 'exit.json')));
    await until('cleanup running', () => cmdlines().some((c) => c.endsWith(`\0cleanup\0${id}\0`)));
    const c = mdkSpawn(root, ['start', 'again2'], ENV);
    let out = '';
    c.stdout.on('data', (d) => (out += d));
    start = new Promise((r) => c.on('close', (code) => r({ code, out })));
    await sleep(1000);
    assert.ok(existsSync(join(dir, 'exit.json')), 'start has not begun while the last run is being cleaned up');
  } finally {
    closeSync(lock);
  }
  const started = await start!;
  assert.is(started.code, 0);
  assert.is(started.out, 'again2\n');
  await sleep(500); // the old cleanup, had it run beside the start, would write its state by now
  const s = state('again2');
  assert.is(s.status, 'running', 'the new run is recorded running, not exited by the old cleanup');
  assert.ok(s.pid !== undefined && existsSync(`/proc/${s.pid}`));
  assert.is(md('kill', '-s', 'USR1', 'again2').code, 0);
  assert.is(md('wait', 'again2').stdout, '10\n');
  assert.is(md('rm', '-f', 'again2').code, 0);
});

T('a container whose record is deleted under it still has its cgroups freed when it exits', async () => {
  md('run', '-d', '--network', 'none', '--name', 'orphan', 'busybox', 'sleep', '1');
  const { id } = state('orphan');
  assert.ok(testCgroups().some((c) => c.endsWith(`/${id}`)), 'its cgroups exist while it runs');
  // As a test's teardown deletes its whole state root while the container runs.
  rmSync(join(root, 'containers', id), { recursive: true, force: true });
  rmSync(join(root, 'names', 'orphan'), { force: true });
  await until('its shim and cleanup are done', () => !cmdlines().some((c) => c.includes(id)), 10_000);
  assert.equal(testCgroups().filter((c) => c.endsWith(`/${id}`)), [], 'the cleanup freed them by the id');
});

Life.run();
