// `minidock run --dry-run`: the spec and every plan of a run, computed the way `run` computes
// them, with nothing created: no container directory or name, no lease file, no cgroup, no
// bridge, veth or rule. What is only read: the image store (a tarball given as IMAGE is
// imported first, as `run` would), the network's config and its current leases (the address is
// the one IPAM would pick now), the host's routes, MTU and cgroup layout. The host ports are
// probed by binding them for a moment, as `run` does.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MinidockError, usageError } from '../core/errors.js';
import { hostVethName, pickAddress, type Attachment, type NetworkConfig } from '../network/plan.js';
import type { NetworkStore } from '../network/store.js';
import type { ChildNet, ContainerPaths } from '../runtime/child-plan.js';
import { planRunChild } from '../runtime/run-plan.js';
import { hostnameFile, hostsFile, resolvConf } from '../runtime/etc-files.js';
import { decideRun, type RunDeps, type RunOptions } from '../runtime/run.js';
import { prepareNetwork } from '../runtime/run-network.js';
import { StateStore } from '../runtime/state.js';
import type { ContainerSpec } from '../spec/container-spec.js';
import type { PortBinding } from '../spec/ports.js';
import { explainNet, type ExplainInput, type ExplainNet } from './steps.js';

/** Where a generated script keeps its container's files: under MINIDOCK_ROOT (so a leak shows
 *  where minidock's own would), beside minidock's containers/, never among them. */
export const scriptDir = (root: string, id: string): string => join(root, 'scripts', id.slice(0, 12));

/** The same layout as the state store's, moved to another directory. */
function movePaths(paths: ContainerPaths, dir: string): ContainerPaths {
  const moved = { ...paths };
  for (const [k, v] of Object.entries(paths)) (moved as Record<string, string>)[k] = v === paths.dir ? dir : v.startsWith(`${paths.dir}/`) ? dir + v.slice(paths.dir.length) : v;
  return moved;
}

/** The address and ports a bridge container would get now, and the network's config (the one
 *  `run` would create on first use when there is none yet). */
async function planBridge(spec: ContainerSpec, n: { network: string; ports: PortBinding[]; bandwidth?: import('../network/bandwidth.js').Bandwidth }, root: string, state: StateStore): Promise<ExplainNet> {
  const { NetworkStore } = await import('../network/store.js');
  const { ensureNetworkConfig, resolvePorts } = await import('../network/setup.js');
  const { linkExists, uplinkMtu } = await import('../network/host.js');
  const { macFor } = await import('../network/ipv4.js');
  const nets = new NetworkStore(root);
  // ensureNetworkConfig decides the default network's bridge and subnet; this view of the store
  // lets it decide without recording anything.
  const readOnly = { get: (name: string) => nets.get(name), isRemoving: (name: string) => nets.isRemoving(name), scope: nets.scope, add: () => undefined } as unknown as NetworkStore;
  const config: NetworkConfig = await ensureNetworkConfig(readOnly, n.network, { bridge: process.env.MINIDOCK_BRIDGE, subnet: process.env.MINIDOCK_SUBNET });
  // A lease whose owner is gone is reclaimed by the next run: its address counts as free (one
  // whose owner cannot be read never is).
  const taken = new Set([...nets.leases(config.name)].filter(([, id]) => id === null || state.isLive(id)).map(([ip]) => ip));
  const ip = pickAddress(config, taken);
  if (!ip) {
    throw new MinidockError(`no free address in ${config.subnet} on network ${config.name}`, { step: 'net.ipam', hint: 'remove containers, or create a network with a larger --subnet' });
  }
  const ports = await resolvePorts(n.ports);
  for (const p of ports) {
    const other = nets.portLeases().find((l) => l.proto === p.proto && l.port === p.hostPort && (l.owner === null || state.isLive(l.owner)) && (l.hostIp === p.hostIp || l.hostIp === '0.0.0.0' || p.hostIp === '0.0.0.0'));
    if (other) {
      const who = other.owner === null ? 'a container whose lease file names no readable owner' : `container ${other.owner.slice(0, 12)}`;
      throw new MinidockError(`host port ${p.hostPort}/${p.proto} is already published by ${who}`, { step: 'net.ports', hint: 'choose another host port, or remove that container' });
    }
  }
  const attachment: Attachment = {
    containerId: spec.id,
    network: config.name,
    bridge: config.bridge,
    ip,
    prefix: config.prefix,
    gateway: config.gateway,
    mac: macFor(ip),
    hostVeth: hostVethName(spec.id),
    mtu: uplinkMtu(),
    ports,
    ...(n.bandwidth ? { bandwidth: n.bandwidth } : {}),
  };
  return explainNet(config, attachment, 0, linkExists(config.bridge));
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/**
 * Everything `minidock run` would do, as plans. With `script`, the container's files are placed
 * where a generated script keeps them (scriptDir) and what a script cannot do is refused here,
 * with a clear message, rather than in the middle of the script.
 */
export async function planRun(o: RunOptions, deps: RunDeps, mode: { script?: boolean } = {}): Promise<ExplainInput> {
  if (mode.script) {
    if (o.tty) throw usageError('--script cannot give the container a terminal (-t)', 'drop -t; the script\'s container uses the script\'s stdin, stdout and stderr');
    if (o.detach) throw usageError('--script runs the container in the foreground (-d)', 'drop -d, and run the script in the background instead');
  }
  // The same decisions as the real run: image, network mode, spec, limits and cgroups.
  const decided = await decideRun(o, deps);
  const { spec, cgroups, warnings } = await decided.spec();
  for (const w of [...decided.warnings, ...warnings]) process.stderr.write(`WARNING: ${w}\n`);
  const state = new StateStore(deps.root);
  const paths = mode.script ? movePaths(state.paths(spec.id), scriptDir(deps.root, spec.id)) : state.paths(spec.id);

  let childNet: ChildNet = { kind: 'own' };
  let net: ExplainNet | undefined;
  let hostsText: string | undefined;
  let resolvText: string | undefined;
  if (spec.network.mode === 'bridge') {
    net = await planBridge(spec, spec.network, deps.root, state);
    childNet = { kind: 'own', eth: { ip: net.attachment.ip, prefix: net.attachment.prefix, gateway: net.attachment.gateway } };
  } else {
    // none, host and container:NAME reserve nothing: prepareNetwork only reads for them.
    const { native } = await import('../native/binding.js');
    const prepared = await prepareNetwork(spec, state, deps.root, deps.native ?? native());
    childNet = prepared.child;
    ({ hostsText, resolvText } = prepared);
  }
  // The container's cgroups as run plans them (this host's layout, the limits given); the child
  // plan mounts them at /sys/fs/cgroup.
  const { cgroupParent } = await import('../runtime/run-cgroup.js');
  const { cgroupOpsOf } = await import('../oci/cgroups-apply.js');
  const cgroup = { ...cgroups.plan, ops: cgroupOpsOf(cgroups) };
  const init = spec.init ? (await import('../native/binding.js')).initPath() : undefined;
  // The OCI config and child plan run itself builds (src/runtime/run-plan.ts).
  const { child, config } = planRunChild(spec, paths, { stdio: [0, 1, 2], init, cgroups: cgroup.dirs }, childNet, { cgroupParent: cgroupParent() });
  const files = [
    { path: paths.hostname, content: hostnameFile(spec.hostname) },
    { path: paths.hosts, content: hostsText ?? hostsFile(spec.hostname, net?.attachment.ip, spec.extraHosts) },
    { path: paths.resolvConf, content: resolvText !== undefined && !spec.dns ? resolvText : resolvConf(resolvText ?? readText('/etc/resolv.conf'), spec.dns) },
  ];
  const { ImageStore } = await import('../image/store.js');
  const layers = spec.image.layers && spec.image.id ? new ImageStore(deps.root).layerStack(spec.image.id) : undefined;
  return { spec, child, config: config(), files, root: deps.root, net, cgroup, ...(layers ? { layers } : {}) };
}

/**
 * What `minidock run --dry-run [--explain | --script]` runs in place of runContainer: the same
 * options, the plans computed as above, and the explanation or the script on stdout. (`--explain`
 * without --dry-run is a real run: run.ts prints the same explanation, from the plans it ran.)
 */
export function dryRun(flags: { dryRun?: boolean; explain?: boolean; script?: boolean; bundle?: string }): (o: RunOptions, deps: RunDeps) => Promise<number> {
  return async (o, deps) => {
    if (!flags.dryRun) {
      if (flags.bundle !== undefined) throw usageError('--bundle needs --dry-run', 'minidock run --dry-run --bundle DIR ...');
      throw usageError('--script needs --dry-run', 'minidock run --dry-run --script ...');
    }
    if (flags.script && flags.explain) throw usageError('--explain and --script print different things: choose one');
    if (flags.bundle !== undefined) {
      // --bundle: the OCI bundle of this run (src/explain/bundle.ts), nothing printed.
      if (flags.script || flags.explain) throw usageError('--bundle writes a bundle: drop --script and --explain');
      const { checkBundleDir, writeBundle } = await import('./bundle.js');
      checkBundleDir(flags.bundle); // before the image is resolved (a tarball would be imported)
      const input = await planRun({ ...o, pull: o.pull ?? 'never' }, deps);
      const { cgroupParent } = await import('../runtime/run-cgroup.js');
      const init = input.spec.init ? (await import('../native/binding.js')).initPath() : undefined;
      await writeBundle(flags.bundle, input, { cgroupParent: cgroupParent(deps.callerEnv ?? process.env), init });
      return 0;
    }
    // --dry-run makes nothing, a pulled image included: a missing image is an error, unless
    // --pull asks for it.
    o = { ...o, pull: o.pull ?? 'never' };
    const input = await planRun(o, deps, { script: flags.script });
    if (flags.script) {
      const { containerScript } = await import('./script.js');
      process.stdout.write(containerScript(input));
    } else {
      const { explain } = await import('./steps.js');
      process.stdout.write(explain(input));
    }
    return 0;
  };
}
