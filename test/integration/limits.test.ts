// Limits reached for real: the 254th container on a /24, a bridge at the kernel's 1023 ports,
// and a full disk. Each is a one-line error with exit 125 and leaves nothing half-made.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUSYBOX_TAR, cliArgv, envFor, inNetns, leakChecked, mdk, newRoot, removeRoot, requireRootAndImages, sh, snapshot } from '../helpers/cli.js';

requireRootAndImages();
const root = newRoot('limits');
const imp = mdk(root, ['import', '-c', 'CMD ["sh"]', BUSYBOX_TAR, 'busybox']);
if (imp.code !== 0) throw new Error(`import failed: ${imp.stderr}`);
const ENV = { MINIDOCK_BRIDGE: 'mdktbr4', MINIDOCK_SUBNET: '10.130.0.0/24' };
mdk(root, ['run', '--rm', 'busybox', 'true'], { env: ENV }); // the bridge exists from here on
const before = snapshot(root);
const Limits = suite('limits');
Limits.after(() => removeRoot(root));
const T = leakChecked(Limits, root, before);

function parallel(argvs: string[][]): Promise<Array<{ code: number | null; stderr: string }>> {
  const env = envFor(root, ENV);
  return Promise.all(argvs.map((args) => new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const p = spawn(...cliArgv(args), { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => resolve({ code, stderr }));
  })));
}

T('the 254th container on a /24 gets "no free address", and nothing is left of it', async () => {
  const names = Array.from({ length: 253 }, (_, i) => `full${i}`);
  try {
    for (let i = 0; i < names.length; i += 32) {
      const batch = await parallel(names.slice(i, i + 32).map((n) => ['run', '-d', '--name', n, 'busybox', 'sleep', '300']));
      const bad = batch.filter((r) => r.code !== 0);
      assert.is(bad.length, 0, bad.map((r) => r.stderr).join(''));
    }
    assert.is(readdirSync(join(root, 'networks', 'bridge', 'leases')).length, 253, '.2 to .254: network, gateway and broadcast never handed out');
    const full = snapshot(root);
    const r = mdk(root, ['run', '--rm', 'busybox', 'true'], { env: ENV });
    assert.is(r.code, 125);
    assert.is(r.stderr, 'minidock: no free address in 10.130.0.0/24 (253 of 253 in use) on network bridge (remove containers, or create a network with a larger --subnet)\n');
    assert.equal(snapshot(root), full, 'the failed run left nothing');
    assert.is(mdk(root, ['rm', '-f', 'full7'], { env: ENV }).code, 0);
    assert.is(mdk(root, ['run', '--rm', 'busybox', 'true'], { env: ENV }).code, 0, 'a freed address is used again');
  } finally {
    for (let i = 0; i < names.length; i += 64) {
      const [r] = await parallel([['rm', '-f', ...names.slice(i, i + 64).filter((n) => n !== 'full7')]]);
      assert.is(r!.code, 0, r!.stderr);
    }
  }
});

T('a bridge at the kernel\'s 1023 ports is a clear error with a full rollback', async () => {
  // 1023 hand-made veths fill the bridge; their peers live in a scratch namespace, so deleting
  // it removes them all at once (a veth deletion costs ~20 ms, a namespace's far less).
  const scratch = `mdkf${process.pid}`;
  sh(`ip netns add ${scratch}`);
  try {
    const lines: string[] = [];
    for (let i = 0; i < 1023; i++) lines.push(`link add f${i} type veth peer name g${i} netns ${scratch}`, `link set f${i} master mdktbr4`);
    const batch = join(root, 'fill.batch');
    writeFileSync(batch, lines.join('\n') + '\n');
    inNetns(`ip -batch ${batch}`);
    const r = mdk(root, ['run', '--rm', '-p', '18500:80', 'busybox', 'true'], { env: ENV });
    assert.is(r.code, 125);
    assert.match(r.stderr, /^minidock: bridge mdktbr4 is full: the kernel allows 1023 ports per bridge/);
    assert.is(r.stderr.trim().split('\n').length, 1);
  } finally {
    sh(`ip netns del ${scratch}`);
  }
  // The veths go with their peers' namespace, asynchronously: wait before the leak check.
  for (let i = 0; i < 100 && /\bf\d+@/.test(inNetns('ip -o link show')); i++) spawnSync('sleep', ['0.05']);
});

T('a full disk is a clear error, and the run leaves nothing behind', () => {
  // A small tmpfs as the state root: the image fits, then a filler takes the rest.
  const small = `${root}-small`;
  mkdirSync(small, { recursive: true });
  sh(`mount -t tmpfs -o size=4m minidock-test-full ${small}`);
  try {
    assert.is(mdk(small, ['import', '-c', 'CMD ["sh"]', BUSYBOX_TAR, 'busybox']).code, 0);
    spawnSync('sh', ['-c', `dd if=/dev/zero of=${small}/filler bs=4k 2>/dev/null; true`]);
    const r = mdk(small, ['run', '--rm', '--network', 'none', 'busybox', 'true']);
    assert.is(r.code, 125);
    assert.match(r.stderr, /^minidock: .*no space left on device/i);
    assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.equal(readdirSync(join(small, 'containers')), [], 'no half-made container');
    assert.equal(readdirSync(join(small, 'names')), [], 'no name reserved');
  } finally {
    sh(`umount ${small} && rmdir ${small}`);
  }
});

Limits.run();
