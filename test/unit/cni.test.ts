// The CNI protocol's pure half (src/cni/protocol.ts): the environment and config checked with
// the spec's error codes, CNI_ARGS, port mappings, and the result in both shapes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CODE, CniError, addResult, errorResult, parseArgs, parseNetConf, parseRequest, portMappings, validIfname, versionResult } from '../../src/cni/protocol.js';
import { attachmentId, insideOutcome, planInside } from '../../src/cni/plugin.js';

const CONF = { cniVersion: '1.0.0', name: 'web', type: 'minidock', bridge: 'mdk1', subnet: '10.91.0.0/24' };
const ENV = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'abc123', CNI_NETNS: '/run/netns/x', CNI_IFNAME: 'eth0', CNI_PATH: '/opt/cni/bin' };
const code = (fn: () => unknown): number => {
  try {
    fn();
  } catch (err) {
    if (err instanceof CniError) return err.code;
    throw err;
  }
  return 0;
};

test('parseRequest: each missing or bad variable is code 4 (invalid environment); DEL may come without a namespace', () => {
  const stdin = JSON.stringify(CONF);
  assert.is(parseRequest(ENV, stdin).command, 'ADD');
  for (const drop of ['CNI_COMMAND', 'CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME'] as const) {
    const env: Record<string, string> = { ...ENV };
    delete env[drop];
    assert.is(code(() => parseRequest(env, stdin)), CODE.invalidEnvironment, drop);
  }
  assert.is(code(() => parseRequest({ ...ENV, CNI_COMMAND: 'ATTACH' }, stdin)), CODE.invalidEnvironment);
  assert.is(code(() => parseRequest({ ...ENV, CNI_IFNAME: 'a/b' }, stdin)), CODE.invalidEnvironment);
  assert.is(code(() => parseRequest({ ...ENV, CNI_IFNAME: 'sixteen-chars-xx' }, stdin)), CODE.invalidEnvironment);
  assert.is(code(() => parseRequest({ ...ENV, CNI_CONTAINERID: '../x' }, stdin)), CODE.invalidEnvironment);
  assert.is(code(() => parseRequest({ ...ENV, CNI_NETNS: 'relative' }, stdin)), CODE.invalidEnvironment);
  const { CNI_NETNS: _, ...noNetns } = ENV;
  assert.is(parseRequest({ ...noNetns, CNI_COMMAND: 'DEL' }, stdin).netns, '');
  assert.is(parseRequest({ CNI_COMMAND: 'VERSION' }, '').command, 'VERSION', 'VERSION needs nothing else');
});

test('parseNetConf: bad JSON is 6, an unknown cniVersion 1, a bad field 7, an unsupported one 2; host-local\'s ipam subnet is taken', () => {
  assert.is(code(() => parseNetConf('{', 'ADD')), CODE.decode);
  assert.is(code(() => parseNetConf('[]', 'ADD')), CODE.decode);
  assert.is(code(() => parseNetConf(JSON.stringify({ ...CONF, cniVersion: '2.0.0' }), 'ADD')), CODE.incompatibleVersion);
  assert.is(code(() => parseNetConf(JSON.stringify({ ...CONF, cniVersion: '1.0.0' }), 'GC')), CODE.incompatibleVersion, 'GC is 1.1');
  for (const bad of [{ name: 'a b' }, { bridge: 'way-too-long-bridge' }, { subnet: '10.0.0.0' }, { type: 'bridge' }, { mtu: 100 }, { dataDir: 'rel' }, { gateway: 'x' }]) {
    assert.is(code(() => parseNetConf(JSON.stringify({ ...CONF, ...bad }), 'ADD')), CODE.invalidConfig, JSON.stringify(bad));
  }
  assert.is(code(() => parseNetConf(JSON.stringify({ ...CONF, ipMasq: false }), 'ADD')), CODE.unsupportedField);
  assert.is(code(() => parseNetConf(JSON.stringify({ ...CONF, runtimeConfig: { bandwidth: { ingressRate: 1 } } }), 'ADD')), CODE.invalidConfig, 'below 8kbit');
  assert.is(code(() => parseNetConf(JSON.stringify({ ...CONF, runtimeConfig: { bandwidth: { egressBurst: 1000 } } }), 'ADD')), CODE.invalidConfig, 'a burst without its rate');
  assert.is(code(() => parseNetConf(JSON.stringify({ ...CONF, runtimeConfig: { bandwidth: { egressRate: '10mbit' } } }), 'ADD')), CODE.invalidConfig, 'bits, not tc units');
  assert.equal(parseNetConf(JSON.stringify({ ...CONF, runtimeConfig: { bandwidth: { ingressRate: 10_000_000, ingressBurst: 262144, egressRate: 0 } } }), 'ADD').bandwidth, { ingressRate: 10_000_000, ingressBurst: 262144 });
  const { subnet: _, ...noSubnet } = CONF;
  assert.is(parseNetConf(JSON.stringify({ ...noSubnet, ipam: { type: 'host-local', ranges: [[{ subnet: '10.92.0.0/24', gateway: '10.92.0.1' }]] } }), 'ADD').subnet, '10.92.0.0/24');
  const c = parseNetConf(JSON.stringify({ ...CONF, runtimeConfig: { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }] } }), 'ADD');
  assert.equal(c.portMappings, [{ proto: 'tcp', hostIp: '0.0.0.0', hostPort: 8080, containerPort: 80 }]);
  assert.is(c.dataDir, '/var/lib/minidock-cni');
});

test('portMappings and CNI_ARGS', () => {
  assert.equal(portMappings([{ hostPort: 53, containerPort: 5353, protocol: 'UDP', hostIP: '127.0.0.1' }]), [{ proto: 'udp', hostIp: '127.0.0.1', hostPort: 53, containerPort: 5353 }]);
  for (const bad of [[{ hostPort: 0, containerPort: 1 }], [{ hostPort: 1, containerPort: 70000 }], [{ hostPort: 1, containerPort: 1, protocol: 'sctp' }], [{ hostPort: 1, containerPort: 1, hostIP: '::1' }], {}]) {
    assert.is(code(() => portMappings(bad)), CODE.invalidConfig, JSON.stringify(bad));
  }
  assert.equal(parseArgs('IgnoreUnknown=1;K8S_POD_NAME=web'), { IgnoreUnknown: '1', K8S_POD_NAME: 'web' });
  assert.equal(parseArgs(undefined), {});
  assert.is(code(() => parseArgs('novalue')), CODE.invalidEnvironment);
  assert.ok(validIfname('eth0') && !validIfname('') && !validIfname('..') && !validIfname('a b'));
});

test('addResult: interfaces with the sandbox, the address on the container end, numbered after a previous plugin\'s; 0.4.0 adds version 4', () => {
  const a = { bridge: 'mdk1', bridgeMac: 'aa', hostVeth: 'mdkx', hostMac: 'bb', ifname: 'eth0', mac: 'cc', netns: '/run/netns/x', ip: '10.91.0.2', prefix: 24, gateway: '10.91.0.1', defaultRoute: true };
  const conf = parseNetConf(JSON.stringify(CONF), 'ADD');
  assert.equal(addResult(conf, a), {
    cniVersion: '1.0.0',
    interfaces: [{ name: 'mdk1', mac: 'aa' }, { name: 'mdkx', mac: 'bb' }, { name: 'eth0', mac: 'cc', sandbox: '/run/netns/x' }],
    ips: [{ address: '10.91.0.2/24', gateway: '10.91.0.1', interface: 2 }],
    routes: [{ dst: '0.0.0.0/0', gw: '10.91.0.1' }],
    dns: {},
  });
  const chained = parseNetConf(JSON.stringify({ ...CONF, cniVersion: '0.4.0', prevResult: { cniVersion: '0.4.0', interfaces: [{ name: 'lo', mac: '00' }], dns: { nameservers: ['10.0.0.1'] } } }), 'ADD');
  const r = addResult(chained, a);
  assert.is(r.ips![0]!.interface, 3);
  assert.is(r.ips![0]!.version, '4');
  assert.equal(r.dns, { nameservers: ['10.0.0.1'] });
  assert.equal(addResult(conf, { ...a, defaultRoute: false }).routes, [], 'a second interface: no default route of its own');
});

test('errors, VERSION, the attachment id and the commands inside the namespace', () => {
  assert.equal(JSON.parse(errorResult(new CniError(7, 'bad', 'fix it'))), { cniVersion: '1.0.0', code: 7, msg: 'bad', details: 'fix it' });
  assert.equal(JSON.parse(versionResult('0.4.0')), { cniVersion: '0.4.0', supportedVersions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] });
  assert.match(attachmentId('c1', 'eth0'), /^[0-9a-f]{64}$/);
  assert.is.not(attachmentId('c1', 'eth0'), attachmentId('c1', 'eth1'));
  assert.is.not(attachmentId('c1e', 'th0'), attachmentId('c1', 'eth0'), 'the separator keeps the two apart');
  assert.equal(planInside({ ifname: 'net1', ip: '10.91.0.2', prefix: 24, gateway: '10.91.0.1' }), ['addr add 10.91.0.2/24 dev net1', 'link set net1 up', 'route add default via 10.91.0.1 dev net1']);
  assert.is(insideOutcome({ code: 0, stderr: '' }, 3), true);
  assert.is(insideOutcome({ code: 1, stderr: 'RTNETLINK answers: File exists\nCommand failed -:3\n' }, 3), false, 'a default route there already');
  assert.throws(() => insideOutcome({ code: 1, stderr: 'RTNETLINK answers: File exists\nCommand failed -:1\n' }, 3), /cni\.inside/, 'the address clashing is a failure');
  assert.throws(() => insideOutcome({ code: 1, stderr: 'Cannot find device "net1"\nCommand failed -:1\nCommand failed -:2\nCommand failed -:3\n' }, 3), /Cannot find device/);
});

test.run();
