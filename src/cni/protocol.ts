// The CNI protocol (issue #17), the pure half: what a runtime hands a plugin (the CNI_*
// environment and the network config on stdin) checked and turned into a request, and what the
// plugin answers (a result, or an error JSON with the spec's codes). Spec 1.0.0 (SPEC.md of
// containernetworking/cni), with the 0.3/0.4 result shape and 1.1's STATUS and GC accepted.
//
//   CNI_COMMAND=ADD CNI_CONTAINERID=… CNI_NETNS=/run/netns/x CNI_IFNAME=eth0 CNI_PATH=…
//   stdin: {"cniVersion":"1.0.0","name":"web","type":"minidock","bridge":"mdk1",
//           "subnet":"10.91.0.0/24","runtimeConfig":{"portMappings":[…]}}
//   stdout: {"cniVersion":"1.0.0","interfaces":[bridge, host veth, eth0 with its sandbox],
//            "ips":[{"address":"10.91.0.2/24","gateway":"10.91.0.1","interface":2}],
//            "routes":[{"dst":"0.0.0.0/0","gw":"10.91.0.1"}],"dns":{}}
import type { Bandwidth } from '../network/bandwidth.js';
import type { PortBinding } from '../spec/ports.js';

export const SUPPORTED_VERSIONS = ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] as const;
export const COMMANDS = ['ADD', 'DEL', 'CHECK', 'VERSION', 'STATUS', 'GC'] as const;
export type Command = (typeof COMMANDS)[number];

/** The spec's error codes this plugin answers with (SPEC.md, "Error"). */
export const CODE = {
  incompatibleVersion: 1,
  unsupportedField: 2,
  unknownContainer: 3,
  invalidEnvironment: 4,
  io: 5,
  decode: 6,
  invalidConfig: 7,
  tryAgainLater: 11,
  /** 50: STATUS, the plugin cannot serve ADDs now. */
  notAvailable: 50,
  /** 100 and up: the plugin's own; a step of the network core failed. */
  failed: 100,
} as const;

/** A failure as the spec reports it: `code`, a one-line `msg`, and `details`. */
export class CniError extends Error {
  constructor(readonly code: number, message: string, readonly details = '') {
    super(message);
  }
}

export interface NetConf {
  cniVersion: string;
  name: string;
  bridge: string;
  subnet: string;
  gateway?: string;
  mtu?: number;
  /** The state root of the plugin's networks and leases (a minidock state root). */
  dataDir: string;
  portMappings: PortBinding[];
  /** runtimeConfig.bandwidth: bits per second and bits, as the reference bandwidth plugin. */
  bandwidth?: Bandwidth;
  prevResult?: Result;
  /** GC: the attachments the runtime still has (cni.dev/valid-attachments). */
  validAttachments?: Array<{ containerID: string; ifname: string }>;
}

export interface Request {
  command: Command;
  containerId: string;
  netns: string;
  ifname: string;
  args: Record<string, string>;
  conf: NetConf;
}

export interface Interface { name: string; mac: string; sandbox?: string }
export interface IpConfig { address: string; gateway?: string; interface?: number; version?: '4' }
export interface Route { dst: string; gw?: string }
export interface Result {
  cniVersion: string;
  interfaces?: Interface[];
  ips?: IpConfig[];
  routes?: Route[];
  dns?: Record<string, unknown>;
}

export const DEFAULT_DATA_DIR = '/var/lib/minidock-cni';
const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$/;
// The spec's container id: letters, digits, and _ . - after the first.
const CONTAINER_ID_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A Linux interface name the kernel takes: 1-15 bytes, no '/', ':' or white space, not . or .. */
export function validIfname(name: string): boolean {
  return /^[^\s/:]{1,15}$/.test(name) && name !== '.' && name !== '..';
}

/** CNI_ARGS: "K1=V1;K2=V2". Pure. */
export function parseArgs(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of (text ?? '').split(';').filter(Boolean)) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new CniError(CODE.invalidEnvironment, `CNI_ARGS holds ${JSON.stringify(pair)}, which is no KEY=VALUE`, 'CNI_ARGS is KEY=VALUE pairs separated by ";"');
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

/** runtimeConfig.portMappings as -p bindings. Pure. */
export function portMappings(v: unknown): PortBinding[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new CniError(CODE.invalidConfig, 'runtimeConfig.portMappings is not a list');
  return v.map((m, i) => {
    if (!isObj(m)) throw new CniError(CODE.invalidConfig, `runtimeConfig.portMappings[${i}] is not an object`);
    const port = (x: unknown, what: string): number => {
      if (typeof x !== 'number' || !Number.isInteger(x) || x < 1 || x > 65535) throw new CniError(CODE.invalidConfig, `runtimeConfig.portMappings[${i}].${what} is not a port (1-65535)`);
      return x;
    };
    const proto = String(m.protocol ?? 'tcp').toLowerCase();
    if (proto !== 'tcp' && proto !== 'udp') throw new CniError(CODE.invalidConfig, `runtimeConfig.portMappings[${i}].protocol ${JSON.stringify(m.protocol)} is neither tcp nor udp`);
    const hostIp = m.hostIP === undefined || m.hostIP === '' ? '0.0.0.0' : String(m.hostIP);
    if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(hostIp) || hostIp.split('.').some((o) => Number(o) > 255)) throw new CniError(CODE.invalidConfig, `runtimeConfig.portMappings[${i}].hostIP ${JSON.stringify(m.hostIP)} is no IPv4 address`, 'this plugin publishes on IPv4 only');
    return { proto, hostIp, hostPort: port(m.hostPort, 'hostPort'), containerPort: port(m.containerPort, 'containerPort') };
  });
}

/** runtimeConfig.bandwidth: each field a positive integer (bits per second, bits); a burst
 *  without its rate is refused, a rate without a burst gets a default one. Pure. */
export function bandwidthOf(v: unknown): Bandwidth | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObj(v)) throw new CniError(CODE.invalidConfig, 'runtimeConfig.bandwidth is not an object');
  const out: Bandwidth = {};
  for (const k of ['ingressRate', 'ingressBurst', 'egressRate', 'egressBurst'] as const) {
    const x = v[k];
    if (x === undefined || x === 0) continue;
    if (typeof x !== 'number' || !Number.isInteger(x) || x < 0) throw new CniError(CODE.invalidConfig, `runtimeConfig.bandwidth.${k} ${JSON.stringify(x)} is not a whole number of bits`);
    if (k.endsWith('Rate') && (x < 8000 || x > 2 ** 32 * 8)) throw new CniError(CODE.invalidConfig, `runtimeConfig.bandwidth.${k} ${x} is not from 8000 to 34359738368 bits per second`);
    out[k] = x;
  }
  for (const d of ['ingress', 'egress'] as const) {
    if (out[`${d}Burst`] && !out[`${d}Rate`]) throw new CniError(CODE.invalidConfig, `runtimeConfig.bandwidth.${d}Burst without ${d}Rate`);
  }
  return out.ingressRate || out.egressRate ? out : undefined;
}

/** The network config on stdin, checked. Pure. */
export function parseNetConf(text: string, command: Command): NetConf {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new CniError(CODE.decode, `the network config on stdin is not JSON: ${(err as Error).message}`);
  }
  if (!isObj(raw)) throw new CniError(CODE.decode, 'the network config on stdin is not a JSON object');
  const version = raw.cniVersion;
  if (typeof version !== 'string' || !(SUPPORTED_VERSIONS as readonly string[]).includes(version)) {
    throw new CniError(CODE.incompatibleVersion, `cniVersion ${JSON.stringify(version)} is not one this plugin speaks`, `supported: ${SUPPORTED_VERSIONS.join(', ')}`);
  }
  if ((command === 'STATUS' || command === 'GC') && version !== '1.1.0') {
    throw new CniError(CODE.incompatibleVersion, `${command} needs cniVersion 1.1.0, the config says ${version}`);
  }
  if (typeof raw.name !== 'string' || !NAME_RE.test(raw.name)) throw new CniError(CODE.invalidConfig, `the network name ${JSON.stringify(raw.name)} is not one (letters, digits, "_", "." and "-", at most 64)`);
  if (raw.type !== undefined && raw.type !== 'minidock') throw new CniError(CODE.invalidConfig, `type ${JSON.stringify(raw.type)} is not this plugin (minidock)`);
  const bridge = raw.bridge === undefined ? 'mdkcni0' : raw.bridge;
  if (typeof bridge !== 'string' || !validIfname(bridge)) throw new CniError(CODE.invalidConfig, `bridge ${JSON.stringify(raw.bridge)} is not an interface name (1-15 characters)`);
  // The subnet: this plugin's own key, or host-local's ipam.subnet / ipam.ranges[0][0].subnet.
  const ipam = isObj(raw.ipam) ? raw.ipam : {};
  const range = Array.isArray(ipam.ranges) && Array.isArray(ipam.ranges[0]) && isObj(ipam.ranges[0][0]) ? ipam.ranges[0][0] : {};
  const subnet = raw.subnet ?? ipam.subnet ?? range.subnet;
  if (typeof subnet !== 'string' || !/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(subnet)) throw new CniError(CODE.invalidConfig, `subnet ${JSON.stringify(subnet)} is no IPv4 CIDR`, 'give "subnet": "10.91.0.0/24"');
  const gateway = raw.gateway ?? ipam.gateway ?? range.gateway;
  if (gateway !== undefined && (typeof gateway !== 'string' || !/^\d{1,3}(\.\d{1,3}){3}$/.test(gateway))) throw new CniError(CODE.invalidConfig, `gateway ${JSON.stringify(gateway)} is no IPv4 address`);
  if (raw.ipMasq === false) throw new CniError(CODE.unsupportedField, 'ipMasq false: this plugin always masquerades its subnet (as docker\'s bridge does)', 'leave ipMasq out, or true');
  if (raw.mtu !== undefined && (typeof raw.mtu !== 'number' || !Number.isInteger(raw.mtu) || raw.mtu < 576 || raw.mtu > 65535)) throw new CniError(CODE.invalidConfig, `mtu ${JSON.stringify(raw.mtu)} is not from 576 to 65535`);
  const dataDir = raw.dataDir === undefined ? DEFAULT_DATA_DIR : raw.dataDir;
  if (typeof dataDir !== 'string' || !dataDir.startsWith('/')) throw new CniError(CODE.invalidConfig, `dataDir ${JSON.stringify(raw.dataDir)} is not an absolute path`);
  const rc = isObj(raw.runtimeConfig) ? raw.runtimeConfig : {};
  const bandwidth = bandwidthOf(rc.bandwidth);
  const prev = raw.prevResult;
  if (prev !== undefined && !isObj(prev)) throw new CniError(CODE.invalidConfig, 'prevResult is not an object');
  const valid = raw['cni.dev/valid-attachments'];
  if (valid !== undefined && !(Array.isArray(valid) && valid.every((a) => isObj(a) && typeof a.containerID === 'string' && typeof a.ifname === 'string'))) {
    throw new CniError(CODE.invalidConfig, 'cni.dev/valid-attachments is not a list of {containerID, ifname}');
  }
  return {
    cniVersion: version,
    name: raw.name,
    bridge,
    subnet,
    ...(gateway ? { gateway: gateway as string } : {}),
    ...(raw.mtu !== undefined ? { mtu: raw.mtu as number } : {}),
    dataDir,
    portMappings: portMappings(rc.portMappings),
    ...(bandwidth ? { bandwidth } : {}),
    ...(prev ? { prevResult: prev as unknown as Result } : {}),
    ...(valid ? { validAttachments: valid as Array<{ containerID: string; ifname: string }> } : {}),
  };
}

/** The environment and stdin of one call, checked as the spec asks for each command. Pure. */
export function parseRequest(env: NodeJS.ProcessEnv, stdin: string): Request {
  const command = env.CNI_COMMAND;
  if (!command) throw new CniError(CODE.invalidEnvironment, 'CNI_COMMAND is not set', `one of ${COMMANDS.join(', ')}`);
  if (!(COMMANDS as readonly string[]).includes(command)) throw new CniError(CODE.invalidEnvironment, `CNI_COMMAND ${JSON.stringify(command)} is none of ${COMMANDS.join(', ')}`);
  const cmd = command as Command;
  const conf = cmd === 'VERSION' ? ({} as NetConf) : parseNetConf(stdin, cmd);
  const perAttachment = cmd === 'ADD' || cmd === 'DEL' || cmd === 'CHECK';
  const containerId = env.CNI_CONTAINERID ?? '';
  const ifname = env.CNI_IFNAME ?? '';
  const netns = env.CNI_NETNS ?? '';
  if (perAttachment) {
    if (!containerId) throw new CniError(CODE.invalidEnvironment, 'CNI_CONTAINERID is not set');
    if (!CONTAINER_ID_RE.test(containerId)) throw new CniError(CODE.invalidEnvironment, `CNI_CONTAINERID ${JSON.stringify(containerId.slice(0, 80))} holds characters a container id may not`, 'letters, digits, "_", "." and "-"');
    if (!ifname) throw new CniError(CODE.invalidEnvironment, 'CNI_IFNAME is not set');
    if (!validIfname(ifname)) throw new CniError(CODE.invalidEnvironment, `CNI_IFNAME ${JSON.stringify(ifname)} is not an interface name (1-15 characters, no "/", ":" or spaces)`);
    // DEL may come with the namespace gone (the spec lets CNI_NETNS be empty then).
    if (!netns && cmd !== 'DEL') throw new CniError(CODE.invalidEnvironment, 'CNI_NETNS is not set', 'the path of the container\'s network namespace, e.g. /run/netns/NAME');
    if (netns && !netns.startsWith('/')) throw new CniError(CODE.invalidEnvironment, `CNI_NETNS ${JSON.stringify(netns)} is not an absolute path`);
  }
  return { command: cmd, containerId, netns, ifname, args: parseArgs(env.CNI_ARGS), conf };
}

/** The answer to VERSION. Pure. */
export function versionResult(requested?: string): string {
  return JSON.stringify({ cniVersion: requested && (SUPPORTED_VERSIONS as readonly string[]).includes(requested) ? requested : '1.1.0', supportedVersions: SUPPORTED_VERSIONS });
}

/** The error JSON on stdout. Pure. */
export function errorResult(err: CniError, version = '1.0.0'): string {
  return JSON.stringify({ cniVersion: version, code: err.code, msg: err.message, ...(err.details ? { details: err.details } : {}) });
}

/**
 * The ADD result: the bridge, the host end and the container end of the veth (with its
 * sandbox), the address on the container end, the default route when ADD added it; after what a previous plugin
 * of the chain reported (its interfaces first, so ours are numbered after them). The 0.3/0.4
 * shape adds "version": "4" to each address. Pure.
 */
export function addResult(conf: NetConf, a: { bridge: string; bridgeMac: string; hostVeth: string; hostMac: string; ifname: string; mac: string; netns: string; ip: string; prefix: number; gateway: string; defaultRoute: boolean }): Result {
  const prev = conf.prevResult ?? { cniVersion: conf.cniVersion };
  const interfaces = [...(prev.interfaces ?? []), { name: a.bridge, mac: a.bridgeMac }, { name: a.hostVeth, mac: a.hostMac }, { name: a.ifname, mac: a.mac, sandbox: a.netns }];
  const old = conf.cniVersion.startsWith('0.');
  const ip: IpConfig = { ...(old ? { version: '4' as const } : {}), address: `${a.ip}/${a.prefix}`, gateway: a.gateway, interface: interfaces.length - 1 };
  return {
    cniVersion: conf.cniVersion,
    interfaces,
    ips: [...(prev.ips ?? []), ip],
    routes: [...(prev.routes ?? []), ...(a.defaultRoute ? [{ dst: '0.0.0.0/0', gw: a.gateway }] : [])],
    dns: prev.dns ?? {},
  };
}
