// `minidock doctor`: reads the facts (files under /proc and /sys, the tools' output, the state
// store) and prints what src/runtime/doctor.ts makes of them. Reads only: it changes nothing.
import { accessSync, constants, existsSync, readdirSync, readFileSync } from 'node:fs';
import { release } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import {
  OPTIONAL_TOOLS, REQUIRED_TOOLS, diagnose, doctorExitCode, nftForwardDropChains, parseProcCgroups, renderFindings,
  type DoctorFacts, type LeftoverFacts,
} from '../runtime/doctor.js';
import { StateStore } from '../runtime/state.js';
import { isSameProcess } from '../runtime/proc.js';
import { NetworkStore } from '../network/store.js';
import { linkExists } from '../network/host.js';
import { realRunner } from '../network/runner.js';
import { readCgroupLayout } from '../cgroup/layout.js';

const read = (path: string): string | undefined => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
};

/** Where a command would be found on $PATH, as spawn finds it. */
export function which(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, cmd), constants.X_OK);
      return join(dir, cmd);
    } catch {
      /* not here */
    }
  }
  return undefined;
}

/** Runs a tool for its output; undefined when it is missing or fails. */
async function output(cmd: string, args: string[]): Promise<string | undefined> {
  try {
    const r = await realRunner.run(cmd, args);
    return r.code === 0 ? r.stdout : undefined;
  } catch {
    return undefined;
  }
}

/** Rules in the backend `iptables` does not use: iptables-nft and iptables-legacy write different
 *  kernel tables, and the kernel runs both. The legacy tables exist only once something loaded
 *  them, which /proc/net/ip_tables_names tells without loading anything. */
async function otherBackendRules(mode: string, tools: Record<string, string | undefined>): Promise<number | undefined> {
  const count = (text: string | undefined): number | undefined => (text === undefined ? undefined : text.split('\n').filter((l) => /^(\[\d+:\d+\] )?-A /.test(l)).length);
  if (mode === 'nf_tables') {
    const names = read('/proc/net/ip_tables_names');
    if (names !== undefined && !names.trim()) return 0;
    return tools['iptables-legacy-save'] ? count(await output('iptables-legacy-save', [])) : undefined;
  }
  return tools['iptables-nft-save'] ? count(await output('iptables-nft-save', [])) : undefined;
}

function leftoverFacts(root: string): LeftoverFacts {
  const store = new StateStore(root);
  const nets = new NetworkStore(root);
  const records = store.list();
  const networks = nets.scan().nets;
  const containers = records.flatMap((rec) => {
    if (!rec.state) return [];
    const raw = read(join(store.paths(rec.id).dir, 'state.json'));
    let rawStatus: string | undefined;
    try { rawStatus = raw === undefined ? undefined : (JSON.parse(raw) as { status?: string }).status; } catch { /* broken: ps shows it */ }
    const c = rec.state.creator;
    // (A cgroup is recorded as `cgroup` in the state, where resource limits are in use.)
    const holdsResources = !!rec.state.net || !!(rec.state as { cgroup?: unknown }).cgroup;
    return [{ id: rec.id, status: rec.state.status, rawStatus, creatorAlive: !!c && isSameProcess(c.pid, c.start), holdsResources, exitCode: rec.state.exitCode, ...(rec.state.standing ? { standing: true } : {}) }];
  });
  const namesDir = join(root, 'names');
  return {
    containers,
    live: records.filter((c) => store.isLive(c.id)).map((c) => c.id),
    leases: networks.flatMap((n) => [...nets.leases(n.name)].map(([ip, owner]) => ({ network: n.name, ip, owner }))),
    portLeases: nets.portLeases().map((l) => ({ owner: l.owner, file: l.file })),
    links: (read('/proc/self/net/dev') ?? '').split('\n').slice(2).map((l) => l.split(':')[0]!.trim()).filter(Boolean),
    names: existsSync(namesDir)
      ? readdirSync(namesDir).map((name) => ({ name, containerExists: existsSync(join(store.containersDir, (read(join(namesDir, name)) ?? '').trim() || '-')) }))
      : [],
    deadTraceNamespaces: existsSync('/run/netns')
      ? readdirSync('/run/netns').filter((n) => /^mdktr\d+$/.test(n) && !existsSync(`/proc/${n.slice(5)}`))
      : [],
  };
}

/** Containers' bridge ports (mdk<id12>) not in hairpin mode, from `ip -j -d link`. */
async function hairpinOff(): Promise<string[]> {
  type Link = { ifname: string; linkinfo?: { info_slave_kind?: string; info_slave_data?: { hairpin?: boolean } } };
  let links: Link[] = [];
  try {
    links = JSON.parse((await output('ip', ['-j', '-d', 'link', 'show'])) ?? '[]') as Link[];
  } catch {
    /* unreadable: nothing to report */
  }
  return links
    .filter((l) => /^mdk[0-9a-f]{12}$/.test(l.ifname) && l.linkinfo?.info_slave_kind === 'bridge' && l.linkinfo.info_slave_data?.hairpin === false)
    .map((l) => l.ifname);
}

/** Interfaces of this network namespace with route_localnet=1, "all" included (not "default":
 *  it is only what new interfaces start with). /proc/sys/net follows the reader's namespace. */
function routeLocalnetOn(): string[] {
  const dir = '/proc/sys/net/ipv4/conf';
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((d) => d !== 'default' && d !== 'lo' && read(`${dir}/${d}/route_localnet`)?.trim() === '1');
}

export async function gatherDoctorFacts(root: string): Promise<DoctorFacts> {
  const tools = Object.fromEntries([...Object.keys(REQUIRED_TOOLS), ...OPTIONAL_TOOLS].map((t) => [t, which(t)]));
  const iptablesVersion = tools.iptables ? await output('iptables', ['-V']) : undefined;
  const mode = /\((nf_tables|legacy)\)/.exec(iptablesVersion ?? '')?.[1] ?? 'legacy';
  let save: string | undefined;
  let saveError: string | undefined;
  if (tools['iptables-save']) {
    const r = await realRunner.run('iptables-save', ['-c']);
    if (r.code === 0) save = r.stdout;
    else saveError = r.stderr.trim().split('\n').pop() || `exit ${r.code}`;
  } else saveError = 'iptables-save is not installed';
  const max = read('/proc/sys/user/max_user_namespaces');
  const bridges = new NetworkStore(root).scan().nets.map((n) => n.bridge).filter(linkExists);
  return {
    uid: process.getuid?.() ?? -1,
    kernelRelease: release(),
    storeIdmap: (await import('../image/shift.js')).canIdmap(existsSync(join(root, 'images')) ? join(root, 'images') : dirname(root), release(), {}),
    ipForward: read('/proc/sys/net/ipv4/ip_forward')?.trim(),
    bridges,
    routeLocalnet: routeLocalnetOn(),
    bridgeIpv6: bridges.map((bridge) => ({
      bridge, disableIpv6: read(`/proc/sys/net/ipv6/conf/${bridge}/disable_ipv6`)?.trim(), acceptRa: read(`/proc/sys/net/ipv6/conf/${bridge}/accept_ra`)?.trim(),
    })),
    iptablesVersion,
    save,
    saveError,
    otherBackendRules: await otherBackendRules(mode, tools),
    nftForwardDrop: tools.nft ? nftForwardDropChains((await output('nft', ['-j', 'list', 'chains'])) ?? '') : [],
    bridgeNfCallIptables: read('/proc/sys/net/bridge/bridge-nf-call-iptables')?.trim(),
    hairpinOff: tools.ip ? await hairpinOff() : [],
    cgroups: readCgroupLayout(),
    cgroupEnabled: parseProcCgroups(read('/proc/cgroups') ?? ''),
    filesystems: read('/proc/filesystems') ?? '',
    overlayModule: existsSync(`/lib/modules/${release()}/kernel/fs/overlayfs`),
    maxUserNamespaces: max === undefined ? undefined : Number(max),
    resolvConf: read('/etc/resolv.conf') ?? '',
    tools,
    procConntrack: existsSync('/proc/net/nf_conntrack'),
    leftovers: leftoverFacts(root),
  };
}

export async function doctorCommand(root: string): Promise<number> {
  const findings = diagnose(await gatherDoctorFacts(root));
  process.stdout.write(renderFindings(findings));
  return doctorExitCode(findings);
}
