#!/usr/bin/env node
// CNI ADD and DEL latency (issue #17): minidock-cni against the reference chain Debian ships
// (bridge + host-local + portmap: what minidock's one plugin does), under the same driver
// (cnitool, built by bin/setup into .tools/bin) and the same request (one port mapping), in
// the same run, alternated after a warm-up. The "host" is a network namespace made here, each
// container a fresh one (made and deleted untimed); nothing touches the machine's own network.
//
//   node bench/cni.mjs [--runs N]        as root; NODE_EXTRA_CA_CERTS is unset for every command
//
// Figures: median (min-max) of ADD and of DEL, ms.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLEAN_ENV, now } from './lib/proc.mjs';
import { fmt, summarize } from './lib/stats.mjs';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const RUNS = Number(args[args.indexOf('--runs') + 1]) || (args.includes('--runs') ? NaN : 15);
if (!Number.isInteger(RUNS) || RUNS < 1) { console.error('usage: node bench/cni.mjs [--runs N]'); process.exit(2); }
if (process.getuid() !== 0) { console.error('cni: run it as root'); process.exit(2); }
const CNITOOL = join(REPO, '.tools/bin/cnitool');
if (!existsSync(CNITOOL)) { console.error(`cni: ${CNITOOL} is missing (bin/setup builds it)`); process.exit(2); }

const work = mkdtempSync(join(tmpdir(), 'mdk-bench-cni-'));
const HOST = `mdkbh${process.pid}`;
const sh = (cmd) => {
  const r = spawnSync('sh', ['-c', cmd], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd}: ${r.stderr}`);
  return r.stdout;
};
const plugins = join(work, 'bin');
const netconf = join(work, 'net.d');
mkdirSync(plugins);
mkdirSync(netconf);
symlinkSync(join(REPO, 'bin/minidock-cni'), join(plugins, 'minidock'));
const contenders = [
  {
    name: 'reference bridge + host-local + portmap', net: 'benchref', bridge: 'mdkbref0', port: 18201,
    conflist: { cniVersion: '1.0.0', name: 'benchref', plugins: [
      { type: 'bridge', bridge: 'mdkbref0', isGateway: true, ipMasq: true, hairpinMode: true, ipam: { type: 'host-local', ranges: [[{ subnet: '10.141.0.0/24' }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: join(work, 'host-local') } },
      { type: 'portmap', capabilities: { portMappings: true }, snat: true },
    ] },
  },
  {
    name: 'minidock-cni', net: 'benchmdk', bridge: 'mdkbmdk0', port: 18202,
    conflist: { cniVersion: '1.0.0', name: 'benchmdk', plugins: [
      { type: 'minidock', bridge: 'mdkbmdk0', subnet: '10.142.0.0/24', dataDir: join(work, 'minidock'), capabilities: { portMappings: true } },
    ] },
  },
].map((c) => ({ ...c, add: [], del: [] }));
for (const c of contenders) writeFileSync(join(netconf, `${c.net}.conflist`), JSON.stringify(c.conflist));
const cacheWas = existsSync('/var/lib/cni');

const cnitool = (op, c, ns) => {
  const t0 = now();
  const r = spawnSync('nsenter', [`--net=/run/netns/${HOST}`, CNITOOL, op, c.net, `/run/netns/${ns}`], {
    env: { ...CLEAN_ENV, NETCONFPATH: netconf, CNI_PATH: `/usr/lib/cni:${plugins}`, CAP_ARGS: JSON.stringify({ portMappings: [{ hostPort: c.port, containerPort: 80, protocol: 'tcp' }] }) },
    encoding: 'utf8',
  });
  const ms = now() - t0;
  if (r.status !== 0) throw new Error(`${c.name}: cnitool ${op}: ${r.stdout}${r.stderr}`);
  return ms;
};

try {
  sh(`ip netns add ${HOST} && ip -n ${HOST} link set lo up`);
  const once = (c, i) => {
    const ns = `mdkbc${process.pid}x${i}`;
    sh(`ip netns add ${ns}`);
    try {
      const add = cnitool('add', c, ns);
      const del = cnitool('del', c, ns);
      return { add, del };
    } finally {
      sh(`ip netns del ${ns}`);
    }
  };
  // Warm-up: each makes its bridge and rules on the first ADD.
  for (const c of contenders) once(c, 'w');
  for (let i = 0; i < RUNS; i++) for (const c of contenders) { const r = once(c, i); c.add.push(r.add); c.del.push(r.del); }
  const cell = (xs) => { const s = summarize(xs); return `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})`; };
  console.log(`cni: ${RUNS} runs each, alternated after a warm-up; cnitool drives both; NODE_EXTRA_CA_CERTS unset; one port mapping per ADD`);
  console.log('| contender | ADD, ms | DEL, ms |');
  console.log('| --- | ---: | ---: |');
  for (const c of contenders) console.log(`| ${c.name} | ${cell(c.add)} | ${cell(c.del)} |`);
} finally {
  spawnSync('ip', ['netns', 'del', HOST]);
  for (const c of contenders) spawnSync('sh', ['-c', `rm -f /var/lib/cni/results/${c.net}-*`]);
  if (!cacheWas) spawnSync('sh', ['-c', 'rmdir /var/lib/cni/results /var/lib/cni 2>/dev/null; true']);
  rmSync(work, { recursive: true, force: true });
}
