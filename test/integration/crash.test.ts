// Crash safety: minidock killed (SIGKILL) at every named step of run and rm, in the foreground,
// detached and with --rm; after `minidock gc` nothing of the dead container is left (state,
// name, leases, ports, rules, veths, processes) and its name and host port work again.
// MINIDOCK_TEST_CRASH_AT=<step> makes the CLI kill itself there (src/core/trace.ts).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUSYBOX_TAR, inNetns, leakChecked, mdk, newRoot, removeRoot, requireRootAndImages, snapshot } from '../helpers/cli.js';

requireRootAndImages();
const root = newRoot('crash');
const imp = mdk(root, ['import', '-c', 'CMD ["sh"]', BUSYBOX_TAR, 'busybox']);
if (imp.code !== 0) throw new Error(`import failed: ${imp.stderr}`);
const ENV = { MINIDOCK_BRIDGE: 'mdktbr2', MINIDOCK_SUBNET: '10.128.0.0/24' };
// The default network's bridge and rules exist before the baseline: they stay by design.
mdk(root, ['run', '--rm', 'busybox', 'true'], { env: ENV });
const before = snapshot(root);
const Crash = suite('crash');
Crash.after(() => removeRoot(root));
const T = leakChecked(Crash, root, before);
const md = (args: string[], crashAt?: string) => mdk(root, args, { env: crashAt ? { ...ENV, MINIDOCK_TEST_CRASH_AT: crashAt } : ENV });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const RUN_STEPS = ['run.state-created', 'run.net-leased', 'run.child-created', 'run.veth-attached', 'run.ports-published', 'run.running'];
const FOREGROUND_ONLY = ['run.exited', 'run.net-released'];
const VARIANTS: Array<[string, string[]]> = [
  ['foreground', []],
  ['detached', ['-d']],
  ['--rm', ['--rm']],
];

/** After the crash and gc: the container may only remain as a legitimately running one (a
 *  detached container whose CLI died after the shim took over) or as a stopped record. */
async function settle(): Promise<void> {
  // A detached container whose CLI died after the shim took over is alive and well: let it
  // finish, and its shim's cleanup with it, before judging what is left.
  md(['wait', 'crash']);
  let id = '';
  try { id = readFileSync(join(root, 'names', 'crash'), 'utf8'); } catch { /* no record left */ }
  // The shim, and the `minidock cleanup ID` it execs, name the container on their command line.
  const busy = (): boolean => !!id && readdirSync('/proc').some((p) => {
    try { return /^\d+$/.test(p) && readFileSync(`/proc/${p}/cmdline`, 'latin1').includes(id); } catch { return false; }
  });
  for (let i = 0; i < 200 && busy(); i++) await sleep(20);
  const g = md(['gc']);
  assert.is(g.code, 0, g.stderr);
  assert.is(md(['gc']).stdout, 'undone 0 half-made container(s), finalized 0; freed 0 lease(s), 0 port lease(s), 0 rule(s), 0 veth(s), 0 file(s)\n', 'gc is idempotent');
  const ps = md(['ps', '-a', '-q']).stdout.trim();
  if (ps) assert.is(md(['rm', '-f', 'crash']).code, 0);
}

for (const [variant, flags] of VARIANTS) {
  const steps = variant === 'detached' ? RUN_STEPS : [...RUN_STEPS, ...FOREGROUND_ONLY];
  for (const step of steps) {
    T(`run ${variant}, killed at ${step}: gc leaves nothing, name and port work again`, async () => {
      const r = md(['run', ...flags, '--name', 'crash', '-p', '18300:80', 'busybox', 'sh', '-c', 'sleep 0.3'], step);
      assert.is(r.code, 137, `the CLI died at ${step}: ${r.stderr}`);
      await sleep(100); // a PDEATHSIG'd child finishes dying
      await settle();
      const again = md(['run', '--rm', '--name', 'crash', '-p', '18300:80', 'busybox', 'true']);
      assert.is(again.code, 0, again.stderr);
    });
  }
}

for (const step of ['rm.killed', 'rm.net-released']) {
  T(`rm -f killed at ${step}: gc and rm finish the job`, async () => {
    assert.is(md(['run', '-d', '--name', 'crash', '-p', '18300:80', 'busybox', 'sleep', '60']).code, 0);
    const id = readFileSync(join(root, 'names', 'crash'), 'utf8');
    assert.is(md(['rm', '-f', 'crash'], step).code, 137);
    await settle();
    assert.not.match(inNetns('iptables-save'), new RegExp(`minidock:${id}`));
    assert.is(md(['run', '--rm', '--name', 'crash', '-p', '18300:80', 'busybox', 'true']).code, 0);
  });
}

T('stop killed after SIGTERM: the container still ends, its shim records it, gc finds nothing', async () => {
  assert.is(md(['run', '-d', '--name', 'crash', '-p', '18300:80', 'busybox', 'sh', '-c', 'trap "exit 0" TERM; while :; do sleep 0.1; done']).code, 0);
  await sleep(300);
  assert.is(md(['stop', 'crash'], 'stop.signalled').code, 137);
  assert.is(md(['wait', 'crash']).stdout, '0\n', 'the signal was delivered before the CLI died');
  await settle();
});

for (const step of ['netrm.rules-removed', 'netrm.bridge-deleted']) {
  T(`network rm killed at ${step}: running it again finishes the job`, () => {
    assert.is(md(['network', 'create', '--subnet', '10.135.0.0/24', 'crashnet']).code, 0);
    const bridge = JSON.parse(md(['network', 'inspect', 'crashnet']).stdout)[0].Options['com.docker.network.bridge.name'];
    assert.is(md(['network', 'rm', 'crashnet'], step).code, 137);
    const again = md(['network', 'rm', 'crashnet']);
    assert.is(again.code, 0, again.stderr);
    assert.not.match(inNetns('ip -o link show'), new RegExp(bridge));
    assert.not.match(inNetns('iptables-save'), /minidock:net:crashnet/);
  });
}

T('gc removes what nobody owns: a stale lease, port lease and tagged rule of a container that never existed', async () => {
  const ghost = 'f'.repeat(64);
  const { writeFileSync, mkdirSync } = await import('node:fs');
  mkdirSync(join(root, 'ports'), { recursive: true });
  writeFileSync(join(root, 'networks', 'bridge', 'leases', '10.128.0.200'), ghost);
  writeFileSync(join(root, 'ports', 'tcp-18399-0.0.0.0'), ghost);
  inNetns(`iptables -t nat -A MINIDOCK-DNAT -p tcp -m tcp --dport 18399 -m comment --comment minidock:${ghost} -j DNAT --to-destination 10.128.0.200:80`);
  const g = md(['gc']);
  assert.match(g.stdout, /freed 1 lease\(s\), 1 port lease\(s\), 1 rule\(s\)/);
  assert.not.match(inNetns('iptables-save'), /18399/);
});

T('a truncated state file: ps -a shows the container as broken (exit 0), rm -f removes it', async () => {
  assert.is(md(['run', '--name', 'healthy', 'busybox', 'true']).code, 0);
  assert.is(md(['run', '-d', '--name', 'crash', 'busybox', 'true']).code, 0);
  await settle(); // waits for it and its shim's cleanup; gc finds nothing to do
  assert.is(md(['run', '-d', '--name', 'crash', 'busybox', 'true']).code, 0);
  md(['wait', 'crash']);
  const id = readFileSync(join(root, 'names', 'crash'), 'utf8');
  for (let i = 0; i < 200 && readdirSync('/proc').some((p) => { try { return readFileSync(`/proc/${p}/cmdline`, 'latin1').includes(id); } catch { return false; } }); i++) await sleep(20);
  const { writeFileSync } = await import('node:fs');
  writeFileSync(join(root, 'containers', id, 'state.json'), '{"status": "runn'); // cut off mid-write
  const ps = md(['ps', '-a']);
  assert.is(ps.code, 0);
  assert.match(ps.stdout, new RegExp(`${id.slice(0, 12)} .*Broken`));
  assert.match(ps.stdout, /Exited \(0\).*healthy/, 'the others are listed as usual');
  assert.is(md(['exec', 'crash', 'true']).code, 1, 'a broken container refuses everything but rm');
  assert.is(md(['rm', '-f', 'crash']).code, 0);
  assert.is(md(['rm', 'healthy']).code, 0);
});

Crash.run();
