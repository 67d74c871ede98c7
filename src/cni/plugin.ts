// minidock's network as a CNI plugin (issue #17): ADD, DEL, CHECK, VERSION, STATUS and GC over
// the same network core `minidock run` uses (network/setup.ts: lease, attach, publish, detach;
// network/store.ts: the O_EXCL leases), in a state root of its own (the config's dataDir,
// /var/lib/minidock-cni by default), so `MINIDOCK_ROOT=<dataDir> minidock network ls` shows
// the plugin's networks. Side-effecting.
//
//   ADD   a record of the attachment (pending), the lease (address, host ports, the bridge and
//         the network's rules when it is the first), the veth with its container end born in
//         CNI_NETNS as CNI_IFNAME, the address and default route set inside, the DNAT rules;
//         the record completed with what was made. A failure undoes what was made, in reverse.
//   DEL   from the record when there is one, else by what carries the attachment's id (rules
//         by their tag, leases by their owner, the host veth by its name); twice is fine, and
//         so is a namespace already gone.
//   CHECK the record against the kernel: the veth on its bridge, the address and route inside,
//         the rules, the leases; each drift named.
//   GC    every recorded attachment of this network the runtime no longer lists, deleted.
//
// An attachment's id, its leases' owner and its rules' tag: sha256(container id, ifname) in hex,
// the shape of a minidock container id, so the store, the tags and the host veth name
// (mdk + 12 hex) are the ones `run` uses.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { writeFileAtomic } from '../core/atomic-file.js';
import { MinidockError } from '../core/errors.js';
import { linkExists } from '../network/host.js';
import { hostVethName, netnsFile } from '../network/plan.js';
import { check, realRunner, type CommandRunner } from '../network/runner.js';
import type { Leased } from '../network/setup.js';
import { NetworkStore } from '../network/store.js';
import { CODE, CniError, addResult, type NetConf, type Request, type Result } from './protocol.js';

/** What the plugin keeps per attachment: enough for DEL and CHECK without the runtime's cache. */
interface AttachmentRecord {
  containerId: string;
  ifname: string;
  netns: string;
  network: string;
  /** Until ADD completes: a killed ADD leaves this, and DEL or GC finishes it. */
  pending?: true;
  leased?: Leased;
  result?: Result;
  /** ADD added the namespace's default route (it had none). */
  defaultRoute?: boolean;
}

export const attachmentId = (containerId: string, ifname: string): string => createHash('sha256').update(`${containerId}\0${ifname}`).digest('hex');

class Attachments {
  readonly dir: string;
  constructor(dataDir: string) {
    this.dir = join(dataDir, 'cni', 'attachments');
  }
  path(id: string): string {
    return join(this.dir, `${id}.json`);
  }
  has(id: string): boolean {
    return existsSync(this.path(id));
  }
  read(id: string): AttachmentRecord | undefined {
    try {
      return JSON.parse(readFileSync(this.path(id), 'utf8')) as AttachmentRecord;
    } catch {
      return undefined;
    }
  }
  write(id: string, r: AttachmentRecord): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    writeFileAtomic(this.path(id), JSON.stringify(r) + '\n');
  }
  remove(id: string): void {
    rmSync(this.path(id), { force: true });
  }
  ids(): string[] {
    return existsSync(this.dir) ? readdirSync(this.dir).filter((f) => /^[0-9a-f]{64}\.json$/.test(f)).map((f) => f.slice(0, 64)) : [];
  }
}

async function openStore(conf: NetConf): Promise<{ nets: NetworkStore; atts: Attachments }> {
  mkdirSync(conf.dataDir, { recursive: true, mode: 0o700 });
  const { native } = await import('../native/binding.js');
  return { nets: new NetworkStore(conf.dataDir, native().flock), atts: new Attachments(conf.dataDir) };
}

/** A core failure as the spec's error: an exhausted subnet or a busy port is "try again later"
 *  (a DEL elsewhere frees them), a config clash is invalid config, the rest the plugin's own. */
function asCni(err: unknown): CniError {
  if (err instanceof CniError) return err;
  const m = err instanceof MinidockError ? err : undefined;
  const msg = (err as Error)?.message ?? String(err);
  const detail = m?.hint ?? '';
  if (m?.step === 'net.ipam' || m?.step === 'net.ports') return new CniError(CODE.tryAgainLater, msg, detail);
  if (m?.step === 'net.config' || m?.step === 'cli.args') return new CniError(CODE.invalidConfig, msg, detail);
  return new CniError(CODE.failed, msg, m?.step ? `step ${m.step}${detail ? `: ${detail}` : ''}` : detail);
}

/** Inside the container's namespace, one `ip -force -batch`: the address on its interface, the
 *  interface up, and the default route through the bridge. What `run`'s child does for itself,
 *  done from outside. */
export function planInside(a: { ifname: string; ip: string; prefix: number; gateway: string }): string[] {
  return [`addr add ${a.ip}/${a.prefix} dev ${a.ifname}`, `link set ${a.ifname} up`, `route add default via ${a.gateway} dev ${a.ifname}`];
}

/** Whether that batch added the default route. -force runs every line and names the failed
 *  ones ("Command failed -:N"): only the route may fail, with "File exists", when the namespace
 *  has a default route already (a second interface gets its subnet's route only, as a second
 *  docker network does). Anything else is the step's failure. Pure. */
export function insideOutcome(r: { code: number; stderr: string }, lines: number): boolean {
  if (r.code === 0) return true;
  const failed = [...r.stderr.matchAll(/Command failed -:(\d+)/g)].map((m) => Number(m[1]));
  if (failed.length === 1 && failed[0] === lines && /File exists/.test(r.stderr)) return false;
  const errors = [...new Set(r.stderr.split('\n').map((l) => l.trim()).filter((l) => l && !/^Command failed/.test(l)))];
  throw new MinidockError(`cni.inside: ip -batch in the container's namespace: ${errors.join('; ') || `exit ${r.code}`}`, { step: 'cni.inside' });
}

/** This namespace's links: each one's MAC and bridge (`ip -j link`; not /sys/class/net, which
 *  shows the namespace of whoever mounted /sys, the host's under nsenter --net). */
async function links(runner: CommandRunner): Promise<Map<string, { mac: string; master?: string }>> {
  const r = await check(runner, 'cni.links', 'ip', ['-j', 'link', 'show']);
  const list = JSON.parse(r || '[]') as Array<{ ifname: string; address?: string; master?: string }>;
  return new Map(list.map((l) => [l.ifname, { mac: l.address ?? '', ...(l.master ? { master: l.master } : {}) }]));
}

export async function add(req: Request, runner: CommandRunner = realRunner): Promise<Result> {
  const { conf } = req;
  if (!existsSync(req.netns)) throw new CniError(CODE.invalidEnvironment, `CNI_NETNS ${req.netns} does not exist`);
  const { nets, atts } = await openStore(conf);
  const id = attachmentId(req.containerId, req.ifname);
  const had = atts.read(id);
  if (had && !had.pending) throw new CniError(CODE.invalidConfig, `container ${req.containerId} already has ${req.ifname} on network ${had.network}`, 'DEL it first');
  const { attach, deleteRules, lease, publish, rulesOwnedBy } = await import('../network/setup.js');
  const base: AttachmentRecord = { containerId: req.containerId, ifname: req.ifname, netns: req.netns, network: conf.name, pending: true };
  atts.write(id, base);
  let leased: Leased | undefined;
  try {
    leased = await lease(nets, runner, {
      containerId: id, network: conf.name, ports: conf.portMappings, env: {}, ifname: req.ifname,
      ...(conf.bandwidth ? { bandwidth: conf.bandwidth } : {}), ...(conf.mtu ? { mtu: conf.mtu } : {}),
      define: { bridge: conf.bridge, subnet: conf.subnet, ...(conf.gateway ? { gateway: conf.gateway } : {}) },
    }, {
      // A lease is live while its attachment is recorded; a stale one's rules go first.
      isLive: (owner) => atts.has(owner),
      reclaim: async (owner) => deleteRules(runner, await rulesOwnedBy(runner, owner)),
    });
    atts.write(id, { ...base, leased });
    await attach(runner, leased, req.netns);
    const a = leased.attachment;
    const inside = planInside({ ifname: req.ifname, ip: a.ip, prefix: a.prefix, gateway: a.gateway });
    const routed = insideOutcome(await runner.run('nsenter', [`--net=${netnsFile(req.netns)}`, 'ip', '-force', '-batch', '-'], inside.join('\n') + '\n'), inside.length);
    await publish(runner, leased);
    const host = await links(runner);
    const result = addResult(conf, {
      bridge: a.bridge, bridgeMac: host.get(a.bridge)?.mac ?? '', hostVeth: a.hostVeth, hostMac: host.get(a.hostVeth)?.mac ?? '',
      ifname: req.ifname, mac: a.mac, netns: req.netns, ip: a.ip, prefix: a.prefix, gateway: a.gateway, defaultRoute: routed,
    });
    const { pending: _, ...done } = base;
    atts.write(id, { ...done, leased, result, defaultRoute: routed });
    if (explaining()) await explainAdd(nets, leased, req, conf, inside);
    return result;
  } catch (err) {
    // Undone as DEL undoes it (from the record, which holds the lease once there is one): the
    // rules and leases, the veth (its container end goes with it), the ifb. The first error
    // is the one reported.
    await undo(nets, atts, id, conf.name, runner).catch(() => atts.remove(id));
    throw asCni(err);
  }
}

/** MINIDOCK_CNI_EXPLAIN=1 (runtimes pass their environment on) or `--explain` by hand: the
 *  steps of an ADD on stderr, as `run --explain` prints a container's (the spec leaves stderr
 *  to the plugin; stdout stays the result). */
const explaining = (): boolean => process.env.MINIDOCK_CNI_EXPLAIN === '1' || process.argv.includes('--explain');

async function explainAdd(nets: NetworkStore, leased: Leased, req: Request, conf: NetConf, inside: string[]): Promise<void> {
  const net = nets.get(conf.name);
  if (!net) return;
  const { explainCniAdd, explainNet, formatSteps } = await import('../explain/steps.js');
  const steps = explainCniAdd(explainNet(net, leased.attachment, req.netns, !leased.bridgeCreated), { root: conf.dataDir, netns: req.netns, inside });
  process.stderr.write(formatSteps(steps, { vars: { ROOT: conf.dataDir } }));
}

export async function del(req: Request, runner: CommandRunner = realRunner): Promise<void> {
  const { conf } = req;
  const { nets, atts } = await openStore(conf);
  const id = attachmentId(req.containerId, req.ifname);
  await undo(nets, atts, id, conf.name, runner).catch((err) => {
    throw asCni(err);
  });
}

/** Everything of attachment `id`, from its record or, without one, by its id: idempotent. */
async function undo(nets: NetworkStore, atts: Attachments, id: string, network: string, runner: CommandRunner): Promise<void> {
  const { deleteRules, detach, rulesOwnedBy } = await import('../network/setup.js');
  const rec = atts.read(id);
  if (rec?.leased) {
    await detach(nets, runner, rec.leased);
  } else {
    await deleteRules(runner, await rulesOwnedBy(runner, id));
    nets.withLock(() => {
      nets.releasePorts(id);
      for (const [ip, owner] of nets.leases(rec?.network ?? network)) if (owner === id) nets.release(rec?.network ?? network, ip, id);
    });
  }
  // The host end: gone already when the namespace went; else deleting it takes the pair. The
  // ifb of egress shaping (detach takes it when the record says so; by name when there is none).
  const veth = rec?.leased?.attachment.hostVeth ?? hostVethName(id);
  if (linkExists(veth)) await check(runner, 'cni.veth', 'ip', ['link', 'del', veth]);
  const { ifbName } = await import('../network/bandwidth.js');
  if (linkExists(ifbName(id))) await check(runner, 'cni.ifb', 'ip', ['link', 'del', ifbName(id)]);
  atts.remove(id);
}

export async function checkAttachment(req: Request, runner: CommandRunner = realRunner): Promise<void> {
  const { conf } = req;
  const { nets, atts } = await openStore(conf);
  const id = attachmentId(req.containerId, req.ifname);
  const rec = atts.read(id);
  if (!rec?.leased || rec.pending) throw new CniError(CODE.unknownContainer, `no attachment of ${req.ifname} for container ${req.containerId} on network ${conf.name}`, 'ADD it first');
  const a = rec.leased.attachment;
  const drift: string[] = [];
  const veth = (await links(runner)).get(a.hostVeth);
  if (!veth) drift.push(`the host end ${a.hostVeth} is gone`);
  else if (veth.master !== a.bridge) drift.push(`${a.hostVeth} is not on bridge ${a.bridge}`);
  const inside = await runner.run('nsenter', [`--net=${netnsFile(req.netns)}`, 'sh', '-c', `ip -o -4 addr show dev ${req.ifname}; echo --; ip -4 route show default`]);
  if (inside.code !== 0) drift.push(`${req.ifname} in ${req.netns}: ${inside.stderr.trim().split('\n')[0]}`);
  else {
    const [addrs = '', routes = ''] = inside.stdout.split('--\n');
    if (!addrs.includes(` ${a.ip}/${a.prefix} `)) drift.push(`${req.ifname} lacks ${a.ip}/${a.prefix}`);
    if (rec.defaultRoute && !new RegExp(`^default via ${a.gateway.replace(/\./g, '\\.')} dev ${req.ifname}\\b`, 'm').test(routes)) drift.push(`no default route via ${a.gateway} on ${req.ifname}`);
  }
  // The attachment's own rules, and the network's chains, jumps and rules (what ADD re-asserts).
  const { existingRules, missingFor, ruleKey } = await import('../network/setup.js');
  const have = await existingRules(runner);
  const net = nets.get(rec.network);
  const ofNet = net ? missingFor(net, have) : { jumps: [], rules: [] };
  const missing = [...rec.leased.rules.filter((r) => !have.rules.has(ruleKey(r))), ...ofNet.jumps, ...ofNet.rules];
  if (missing.length) drift.push(`${missing.length} rule(s) missing, e.g. -t ${missing[0]!.table} -A ${missing[0]!.chain} ${missing[0]!.spec}`);
  if (nets.leases(rec.network).get(a.ip) !== id) drift.push(`the lease of ${a.ip} is not this attachment's`);
  for (const p of a.ports) {
    if (!nets.portLeases().some((l) => l.owner === id && l.proto === p.proto && l.port === p.hostPort)) drift.push(`the lease of host port ${p.hostPort}/${p.proto} is not this attachment's`);
  }
  if (drift.length) throw new CniError(CODE.failed, `CHECK: ${drift.join('; ')}`);
}

/** GC: every attachment of this network that the runtime no longer lists goes. */
export async function gc(req: Request, runner: CommandRunner = realRunner): Promise<void> {
  const { conf } = req;
  const { nets, atts } = await openStore(conf);
  const keep = new Set((conf.validAttachments ?? []).map((v) => attachmentId(v.containerID, v.ifname)));
  for (const id of atts.ids()) {
    if (keep.has(id)) continue;
    const rec = atts.read(id);
    if (rec && rec.network !== conf.name) continue;
    await undo(nets, atts, id, conf.name, runner).catch((err) => {
      throw asCni(err);
    });
  }
}

/** STATUS: ready when the tools ADD needs are there. */
export async function status(runner: CommandRunner = realRunner): Promise<void> {
  for (const [cmd, args] of [['ip', ['-V']], ['iptables-restore', ['--version']], ['nsenter', ['--version']]] as const) {
    const r = await runner.run(cmd, [...args]).catch(() => ({ code: -1, stderr: 'not found', stdout: '' }));
    if (r.code !== 0) throw new CniError(CODE.notAvailable, `${cmd} cannot be run: ${r.stderr.trim().split('\n')[0] ?? ''}`, 'install iproute2, iptables and util-linux');
  }
}
