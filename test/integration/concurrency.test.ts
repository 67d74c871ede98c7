// Many minidock processes at once: no address, name or lease is ever shared or lost.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUSYBOX_TAR, cliArgv, envFor, inNetns, leakChecked, mdk, newRoot, removeRoot, requireRootAndImages, snapshot } from '../helpers/cli.js';

requireRootAndImages();
const root = newRoot('conc');
const imp = mdk(root, ['import', '-c', 'CMD ["sh"]', BUSYBOX_TAR, 'busybox']);
if (imp.code !== 0) throw new Error(`import failed: ${imp.stderr}`);
const ENV = { MINIDOCK_BRIDGE: 'mdktbr3', MINIDOCK_SUBNET: '10.129.0.0/24' };
const before = snapshot(root);
const Conc = suite('concurrency');
Conc.after(() => removeRoot(root));
const T = leakChecked(Conc, root, before);

/** Runs N CLIs at once; resolves with their exit codes and outputs. */
function parallel(argvs: string[][]): Promise<Array<{ code: number | null; stdout: string; stderr: string }>> {
  const env = envFor(root, ENV);
  return Promise.all(argvs.map((args) => new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const p = spawn(...cliArgv(args), { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  })));
}

T('64 parallel run -d: 64 distinct addresses, 64 leases, 64 answering containers', async () => {
  const n = 64;
  const results = await parallel(Array.from({ length: n }, (_, i) => ['run', '-d', '--name', `p${i}`, '-h', `p${i}`, 'busybox', 'sh', '-c', 'mkdir /w; hostname > /w/index.html; exec httpd -f -p 80 -h /w']));
  const failed = results.filter((r) => r.code !== 0);
  assert.is(failed.length, 0, failed.map((r) => r.stderr).join('\n'));
  try {
    const leases = readdirSync(join(root, 'networks', 'bridge', 'leases'));
    if (leases.length !== n) {
      // Say whose lease is gone and what its container did: a lease reclaimed from a live
      // container and a container that died early (its lease then rightly reclaimed) differ.
      const held = new Set(leases.map((ip) => readFileSync(join(root, 'networks', 'bridge', 'leases', ip), 'utf8').trim()));
      const lost = Array.from({ length: n }, (_, i) => `p${i}`).map((name) => ({ name, id: readFileSync(join(root, 'names', name), 'utf8').trim() }))
        .filter((c) => !held.has(c.id))
        .map((c) => `${c.name}: ${readFileSync(join(root, 'containers', c.id, 'state.json'), 'utf8').trim()} log: ${mdk(root, ['logs', c.name], { env: ENV }).stdout.slice(-300)}`);
      assert.is(leases.length, n, `exactly one lease each; without one:\n${lost.join('\n')}`);
    }
    const ips = Array.from({ length: n }, (_, i) => {
      const id = readFileSync(join(root, 'names', `p${i}`), 'utf8');
      return JSON.parse(readFileSync(join(root, 'containers', id, 'state.json'), 'utf8')).net.attachment.ip as string;
    });
    assert.is(new Set(ips).size, n, 'no address handed out twice');
    assert.equal([...ips].sort(), [...leases].sort(), 'state agrees with the lease store');
    for (let i = 0; i < n; i++) {
      let body = '';
      for (let t = 0; t < 40 && !body; t++) {
        try { body = inNetns(`curl -s -m 1 http://${ips[i]}/`); } catch { /* not yet */ }
        if (!body) await new Promise((r) => setTimeout(r, 50));
      }
      assert.is(body, `p${i}\n`, `p${i} answers at ${ips[i]} as itself`);
    }
  } finally {
    const rm = await parallel(Array.from({ length: n }, (_, i) => ['rm', '-f', `p${i}`]));
    assert.ok(rm.every((r) => r.code === 0), rm.map((r) => r.stderr).join(''));
  }
});

T('10 parallel runs with the same --name: one container, nine clear refusals', async () => {
  const results = await parallel(Array.from({ length: 10 }, () => ['run', '-d', '--name', 'only', 'busybox', 'sleep', '30']));
  const won = results.filter((r) => r.code === 0);
  const lost = results.filter((r) => r.code !== 0);
  assert.is(won.length, 1);
  assert.is(lost.length, 9);
  for (const r of lost) {
    assert.is(r.code, 125);
    assert.match(r.stderr, /the container name "\/only" is already in use/);
  }
  assert.is(readdirSync(join(root, 'containers')).length, 1, 'the losers left no container behind');
  assert.is(mdk(root, ['rm', '-f', 'only'], { env: ENV }).code, 0);
});

T('parallel rm -f of one container frees its lease exactly once; stop racing kill records one exit', async () => {
  assert.is(mdk(root, ['run', '-d', '--name', 'target', '-p', '18400:80', 'busybox', 'sleep', '30'], { env: ENV }).code, 0);
  const rms = await parallel(Array.from({ length: 5 }, () => ['rm', '-f', 'target']));
  const removed = rms.filter((r) => r.code === 0 && r.stdout === 'target\n').length;
  assert.is(removed, 1, 'exactly one removal happens (the others are told it is gone or under way)');
  for (const r of rms.filter((x) => x.stdout !== 'target\n')) {
    // docker: rm -f of a container that is gone says so and exits 0; one under way is an error.
    if (r.code === 0) assert.match(r.stderr, /no such container: target/);
    else assert.match(r.stderr, /removal of container target is already in progress/);
  }
  // (the leak check after this test proves the lease, port and rule were freed, and only once:
  //  a second release of a lease someone else took would fail the owner check)

  assert.is(mdk(root, ['run', '-d', '--name', 'raced', 'busybox', 'sleep', '30'], { env: ENV }).code, 0);
  const [stop, kill] = await parallel([['stop', '-t', '0', 'raced'], ['kill', 'raced']]);
  assert.is(stop!.code, 0, stop!.stderr);
  assert.ok(kill!.code === 0 || /not running/.test(kill!.stderr), kill!.stderr);
  const codes = mdk(root, ['wait', 'raced'], { env: ENV }).stdout;
  assert.is(codes, '137\n', 'one exit code, recorded once');
  assert.is(mdk(root, ['rm', 'raced'], { env: ENV }).code, 0);
});

Conc.run();
