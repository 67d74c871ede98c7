// Unit tests for src/runtime/inspect.ts (docker inspect's JSON from hand-built records) and
// src/runtime/top.ts (its /proc parsers, and the readers run on this test's own process: no root).
import { spawn } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MinidockError } from '../../src/core/errors.js';
import { dockerPortMap, goTime, inspectContainer, networkMode, ZERO_TIME } from '../../src/runtime/inspect.js';
import { renderTemplate } from '../../src/runtime/go-template.js';
import type { ContainerRecord, ContainerState } from '../../src/runtime/state.js';
import {
  commandLine, containerProcesses, parseNsLink, parseProcStatus, readNamespaceInodes, renderTop, toContainerProcess,
} from '../../src/runtime/top.js';
import { IDENTITY_MAP, type ContainerSpec, type NetworkSpec } from '../../src/spec/container-spec.js';
import type { PortBinding } from '../../src/spec/ports.js';

const ID = '3f4e5d6c7b8a'.padEnd(64, '0');
const IMAGE_ID = 'ab12'.padEnd(64, 'c');
const CREATED = Date.UTC(2024, 4, 1, 10, 20, 30, 120); // 2024-05-01T10:20:30.12Z
const STARTED = Date.UTC(2024, 4, 1, 10, 20, 31, 0);
const FINISHED = Date.UTC(2024, 4, 1, 10, 25, 0, 5);

const requested: PortBinding[] = [
  { hostIp: '0.0.0.0', hostPort: 8080, containerPort: 80, proto: 'tcp' },
  { hostIp: '127.0.0.1', hostPort: 0, containerPort: 53, proto: 'udp', ipGiven: true },
];
const resolved: PortBinding[] = [
  { hostIp: '0.0.0.0', hostPort: 8080, containerPort: 80, proto: 'tcp' },
  { hostIp: '127.0.0.1', hostPort: 32768, containerPort: 53, proto: 'udp' },
];

const spec = (network: NetworkSpec, over: Partial<ContainerSpec> = {}): ContainerSpec => ({
  id: ID,
  name: 'web',
  hostname: 'web',
  image: { ref: 'nginx:1.25', id: IMAGE_ID, rootfs: '/var/lib/minidock/images/x/rootfs' },
  argv: ['nginx', '-g', 'daemon off;'],
  env: ['PATH=/usr/bin:/bin', 'NGINX_VERSION=1.25'],
  cwd: '/srv',
  user: { uid: 101, gid: 102, additionalGids: [5] },
  tty: false,
  interactive: true,
  network,
  autoRemove: true,
  idMap: IDENTITY_MAP,
  createdAt: CREATED,
  ...over,
});

const BRIDGE: NetworkSpec = { mode: 'bridge', network: 'bridge', ports: requested };

const leased = {
  attachment: {
    containerId: ID,
    network: 'bridge',
    bridge: 'mdk0',
    ip: '10.88.0.2',
    prefix: 16,
    gateway: '10.88.0.1',
    mac: '02:42:0a:58:00:02',
    hostVeth: 'mdk3f4e5d6c7b8a',
    mtu: 1500,
    ports: resolved,
  },
  rules: [],
};

/** The fields the runtime is adding to ContainerState, typed here until state.ts has them. */
type State = ContainerState & { oomKilled?: boolean; restartCount?: number; monitorPid?: number };
const rec = (s: ContainerSpec, state: State): ContainerRecord => ({ id: ID, spec: s, state });

const NS = { user: 4026531837, mnt: 4026532201, uts: 4026532202, ipc: 4026532203, pid: 4026532204, net: 4026532206, cgroup: 4026532207 };
const NS_ORDERED = { mnt: 4026532201, uts: 4026532202, ipc: 4026532203, pid: 4026532204, net: 4026532206, user: 4026531837, cgroup: 4026532207 };
const LOG = `/var/lib/minidock/containers/${ID}/container.log`;

const emptyEndpoint = { Gateway: '', IPAddress: '', IPPrefixLen: 0, MacAddress: '' };

test('a running bridge container with published ports: the whole object, in docker order', () => {
  const out = inspectContainer(
    rec(spec(BRIDGE), { status: 'running', pid: 4242, pidStart: 99, startedAt: STARTED, net: leased, monitorPid: 4200 }),
    { nsInodes: NS, logPath: LOG, now: STARTED + 5000 },
  );
  const want = {
    Id: ID,
    Created: '2024-05-01T10:20:30.12Z',
    Path: 'nginx',
    Args: ['-g', 'daemon off;'],
    State: {
      Status: 'running',
      Running: true,
      Paused: false,
      Restarting: false,
      OOMKilled: false,
      Dead: false,
      Pid: 4242,
      ExitCode: 0,
      Error: '',
      StartedAt: '2024-05-01T10:20:31Z',
      FinishedAt: ZERO_TIME,
    },
    Image: IMAGE_ID,
    LogPath: LOG,
    Name: '/web',
    RestartCount: 0,
    HostConfig: {
      Binds: null,
      NetworkMode: 'bridge',
      // As given: no address for -p 8080:80 (docker's ""), 127.0.0.1 where -p named it.
      PortBindings: {
        '53/udp': [{ HostIp: '127.0.0.1', HostPort: '' }],
        '80/tcp': [{ HostIp: '', HostPort: '8080' }],
      },
      IpcMode: 'private',
      PidMode: '',
      UTSMode: '',
      AutoRemove: true,
      Privileged: false,
      PublishAllPorts: false,
      ReadonlyRootfs: false,
      Memory: 0,
      MemorySwap: 0,
      NanoCpus: 0,
      CpuShares: 0,
      CpusetCpus: '',
      PidsLimit: null,
      CpuQuota: 0,
      CpuPeriod: 0,
      MemoryReservation: 0,
      OomKillDisable: false,
      UsernsMode: 'host',
      Dns: [],
      DnsOptions: [],
      DnsSearch: [],
      ExtraHosts: null,
      ShmSize: 67108864,
    },
    Mounts: [],
    Config: {
      Hostname: 'web',
      User: '101:102',
      Tty: false,
      OpenStdin: true,
      Env: ['PATH=/usr/bin:/bin', 'NGINX_VERSION=1.25'],
      Cmd: ['nginx', '-g', 'daemon off;'],
      Image: 'nginx:1.25',
      WorkingDir: '/srv',
      Labels: {},
    },
    NetworkSettings: {
      Bridge: 'mdk0',
      Ports: {
        '53/udp': [{ HostIp: '127.0.0.1', HostPort: '32768' }],
        '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }],
      },
      Gateway: '10.88.0.1',
      IPAddress: '10.88.0.2',
      IPPrefixLen: 16,
      MacAddress: '02:42:0a:58:00:02',
      Networks: { bridge: { Gateway: '10.88.0.1', IPAddress: '10.88.0.2', IPPrefixLen: 16, MacAddress: '02:42:0a:58:00:02' } },
      HostVeth: 'mdk3f4e5d6c7b8a',
      ContainerInterface: 'eth0',
      IngressRate: 0,
      EgressRate: 0,
    },
    Namespaces: NS_ORDERED,
  };
  // Compared as text so that key order counts too.
  assert.is(JSON.stringify(out, null, 2), JSON.stringify(want, null, 2));
});

test('an exited container: pid 0, exit code and finish time, network fields emptied', () => {
  const out = inspectContainer(
    // pid and net outlive the process in state.json (a reconciled record keeps them): ignored.
    rec(spec(BRIDGE), { status: 'exited', pid: 4242, startedAt: STARTED, finishedAt: FINISHED, exitCode: 3, net: leased }),
    { nsInodes: NS, logPath: LOG },
  ) as Record<string, any>;
  assert.equal(out.State, {
    Status: 'exited',
    Running: false,
    Paused: false,
    Restarting: false,
    OOMKilled: false,
    Dead: false,
    Pid: 0,
    ExitCode: 3,
    Error: '',
    StartedAt: '2024-05-01T10:20:31Z',
    FinishedAt: '2024-05-01T10:25:00.005Z',
  });
  assert.equal(out.NetworkSettings, {
    Bridge: '',
    Ports: {},
    ...emptyEndpoint,
    Networks: { bridge: emptyEndpoint },
    HostVeth: '',
    ContainerInterface: '',
    IngressRate: 0,
    EgressRate: 0,
  });
  // What was asked for stays in HostConfig, as in docker.
  assert.equal(Object.keys(out.HostConfig.PortBindings), ['53/udp', '80/tcp']);
  assert.equal(out.Namespaces, {});
});

test('a created container on the host network: zero times, no pid, no ports', () => {
  const out = inspectContainer(rec(spec({ mode: 'host' }, { autoRemove: false, image: { ref: '/srv/rootfs', rootfs: '/srv/rootfs' } }), { status: 'created' }), {}) as Record<string, any>;
  assert.is(out.State.Status, 'created');
  assert.is(out.State.Running, false);
  assert.is(out.State.Pid, 0);
  assert.is(out.State.ExitCode, 0);
  assert.is(out.State.StartedAt, '0001-01-01T00:00:00Z');
  assert.is(out.State.FinishedAt, '0001-01-01T00:00:00Z');
  assert.is(out.Image, '/srv/rootfs', 'a directory used in place has no id: the ref stands in');
  assert.is(out.LogPath, '');
  assert.equal(out.HostConfig, {
    Binds: null, NetworkMode: 'host', PortBindings: {}, IpcMode: 'private', PidMode: '', UTSMode: '', AutoRemove: false, Privileged: false, PublishAllPorts: false, ReadonlyRootfs: false,
    Memory: 0, MemorySwap: 0, NanoCpus: 0, CpuShares: 0, CpusetCpus: '', PidsLimit: null, CpuQuota: 0, CpuPeriod: 0, MemoryReservation: 0, OomKillDisable: false, UsernsMode: 'host',
    Dns: [], DnsOptions: [], DnsSearch: [], ExtraHosts: null, ShmSize: 67108864,
  });
  assert.equal(out.NetworkSettings.Networks, { host: emptyEndpoint });
  assert.equal(out.NetworkSettings.Ports, {});
  assert.equal(out.Namespaces, {});
});

test('limits and the user namespace mode show in HostConfig as docker names them', () => {
  const out = inspectContainer(
    rec(spec({ mode: 'none' }, { idMap: { uidMap: '0 100000 65536', gidMap: '0 100000 65536' }, resources: { memory: 67108864, memorySwap: 134217728, nanoCpus: 500000000, cpuShares: 512, cpusetCpus: '0', pidsLimit: 50 } }), { status: 'exited', exitCode: 137, oomKilled: true }),
    {},
  ) as { HostConfig: Record<string, unknown>; State: Record<string, unknown> };
  assert.equal(
    [out.HostConfig.Memory, out.HostConfig.MemorySwap, out.HostConfig.NanoCpus, out.HostConfig.CpuShares, out.HostConfig.CpusetCpus, out.HostConfig.PidsLimit, out.HostConfig.UsernsMode],
    [67108864, 134217728, 500000000, 512, '0', 50, ''],
  );
  assert.is(out.State.OOMKilled, true);
});

test('a broken record: only its id and why', () => {
  assert.equal(inspectContainer({ id: ID, broken: 'ENOENT' }, {}), { Id: ID, State: { Status: 'broken', Error: 'ENOENT' } });
  assert.equal(inspectContainer({ id: ID }, {}), { Id: ID, State: { Status: 'broken', Error: 'missing config.json or state.json' } });
});

test('network modes: none and container', () => {
  const none = inspectContainer(rec(spec({ mode: 'none' }), { status: 'running', pid: 7, startedAt: STARTED }), {}) as Record<string, any>;
  assert.is(none.HostConfig.NetworkMode, 'none');
  assert.equal(none.NetworkSettings.Networks, { none: emptyEndpoint });
  assert.is(none.NetworkSettings.ContainerInterface, '');
  const shared = inspectContainer(rec(spec({ mode: 'container', container: 'db' }), { status: 'running', pid: 7, startedAt: STARTED }), {}) as Record<string, any>;
  assert.is(shared.HostConfig.NetworkMode, 'container:db');
  assert.equal(shared.NetworkSettings.Networks, {});
  assert.is(networkMode({ mode: 'bridge', network: 'backend', ports: [] }), 'backend');
});

test('a running container without namespace inodes shows {}; the runtime fields are read when present', () => {
  const out = inspectContainer(
    rec(spec(BRIDGE), { status: 'running', pid: 9, startedAt: STARTED, finishedAt: FINISHED, exitCode: 137, oomKilled: true, restartCount: 2, net: leased }),
    { logPath: LOG },
  ) as Record<string, any>;
  assert.equal(out.Namespaces, {});
  assert.is(out.State.OOMKilled, true);
  assert.is(out.RestartCount, 2);
  assert.is(out.State.ExitCode, 0, 'a running container has no exit code yet');
  assert.is(out.State.FinishedAt, '2024-05-01T10:25:00.005Z', 'the previous run ended then (docker keeps it too)');
});

test('an inferred exit code carries its note', () => {
  const note = 'exited while no minidock process watched it';
  const out = inspectContainer(rec(spec(BRIDGE), { status: 'exited', startedAt: STARTED, exitCode: 255, note }), {}) as Record<string, any>;
  assert.is(out.State.Note, note);
  assert.is(out.State.FinishedAt, ZERO_TIME);
  const plain = inspectContainer(rec(spec(BRIDGE), { status: 'exited', startedAt: STARTED, exitCode: 0 }), {}) as Record<string, any>;
  assert.not.ok('Note' in plain.State);
});

test('goTime: RFC3339Nano, trailing zeros dropped, zero time when unset', () => {
  assert.is(goTime(Date.UTC(2024, 0, 2, 3, 4, 5, 0)), '2024-01-02T03:04:05Z');
  assert.is(goTime(Date.UTC(2024, 0, 2, 3, 4, 50, 0)), '2024-01-02T03:04:50Z');
  assert.is(goTime(Date.UTC(2024, 0, 2, 3, 4, 5, 100)), '2024-01-02T03:04:05.1Z');
  assert.is(goTime(Date.UTC(2024, 0, 2, 3, 4, 5, 7)), '2024-01-02T03:04:05.007Z');
  assert.is(goTime(Date.UTC(2024, 0, 2, 3, 4, 0, 0)), '2024-01-02T03:04:00Z');
  assert.is(goTime(undefined), '0001-01-01T00:00:00Z');
  assert.is(goTime(NaN), '0001-01-01T00:00:00Z');
});

test('dockerPortMap: Go key order, several bindings of one port, random host port as ""', () => {
  const map = dockerPortMap([
    { hostIp: '0.0.0.0', hostPort: 8080, containerPort: 80, proto: 'tcp' },
    { hostIp: '127.0.0.1', hostPort: 9090, containerPort: 80, proto: 'tcp' },
    { hostIp: '0.0.0.0', hostPort: 0, containerPort: 443, proto: 'tcp' },
    { hostIp: '0.0.0.0', hostPort: 5353, containerPort: 80, proto: 'udp' },
  ]);
  assert.is(
    JSON.stringify(map),
    '{"443/tcp":[{"HostIp":"0.0.0.0","HostPort":""}],' +
      '"80/tcp":[{"HostIp":"0.0.0.0","HostPort":"8080"},{"HostIp":"127.0.0.1","HostPort":"9090"}],' +
      '"80/udp":[{"HostIp":"0.0.0.0","HostPort":"5353"}]}',
  );
  assert.equal(dockerPortMap([]), {});
});

test('binds, --privileged, --read-only, -P and exposed ports: HostConfig, Config.ExposedPorts, Ports with null', () => {
  const volumes = [
    { src: '/srv/data', dst: '/data', ro: true, file: false },
    { src: '/var/lib/minidock/volumes/v1/_data', dst: '/cache', ro: false, file: false, anonymous: 'v1' },
    { src: '/etc/app.conf', dst: '/app.conf', ro: false, file: true },
  ];
  const s = spec(BRIDGE, { volumes, privileged: true, readOnly: true, publishAll: true, exposedPorts: ['53/udp', '80/tcp', '443/tcp'] });
  const out = JSON.parse(JSON.stringify(inspectContainer(rec(s, { status: 'running', pid: 4242, startedAt: STARTED, net: leased })))) as {
    HostConfig: Record<string, unknown>; Config: Record<string, unknown>; NetworkSettings: { Ports: Record<string, unknown> }; Mounts: unknown[];
  };
  assert.equal(out.HostConfig.Binds, ['/srv/data:/data:ro', '/etc/app.conf:/app.conf'], 'the -v binds only, not the anonymous volume');
  assert.is(out.HostConfig.Privileged, true);
  assert.is(out.HostConfig.ReadonlyRootfs, true);
  assert.is(out.HostConfig.PublishAllPorts, true);
  assert.equal(out.Config.ExposedPorts, { '53/udp': {}, '80/tcp': {}, '443/tcp': {} });
  assert.equal(out.NetworkSettings.Ports, {
    '443/tcp': null,
    '53/udp': [{ HostIp: '127.0.0.1', HostPort: '32768' }],
    '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }],
  }, 'an exposed port nothing publishes is a key with null, in Go key order');
  assert.is(out.Mounts.length, 3);
  const plain = inspectContainer(rec(spec(BRIDGE), { status: 'created' })) as { Config: Record<string, unknown> };
  assert.not.ok('ExposedPorts' in plain.Config, 'no exposed ports: the key is left out, as docker omits it');
});

test('strict templates over inspect: a misspelt field is an error, a missing map key or omitted field is not', () => {
  const out = inspectContainer(rec(spec(BRIDGE, { labels: { a: '1' } }), { status: 'created' }));
  assert.throws(() => renderTemplate('{{.Nmae}}', out, { strict: true }), /executing "" at <\.Nmae>: map has no entry for key "Nmae"/);
  assert.throws(() => renderTemplate('{{.State.Pidd}}', out, { strict: true }), /map has no entry for key "Pidd"/);
  assert.is(renderTemplate('{{.Nmae}}', out), '<no value>', 'not strict: <no value>');
  assert.is(renderTemplate('{{.Config.Labels.b}}|{{.Config.Labels.a}}', out, { strict: true }), '<no value>|1', 'Labels is a Go map');
  assert.is(renderTemplate('{{.Config.ExposedPorts}}|{{.Config.StopSignal}}', out, { strict: true }), '<no value>|<no value>', 'omitempty fields');
  assert.is(renderTemplate('{{range $p, $_ := .Config.ExposedPorts}}{{$p}}{{end}}.', out, { strict: true }), '.');
  assert.is(renderTemplate('{{.Namespaces.net}}', out, { strict: true }), '<no value>', 'Namespaces is a map');
  assert.is(renderTemplate('{{.NetworkSettings.Networks.other}}', out, { strict: true }), '<no value>');
});

test('inspect output works with the usual --format templates', () => {
  const data = JSON.parse(JSON.stringify(inspectContainer(rec(spec(BRIDGE), { status: 'running', pid: 4242, startedAt: STARTED, net: leased }), { nsInodes: NS })));
  assert.is(renderTemplate('{{.State.Pid}}', data), '4242');
  assert.is(renderTemplate('{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', data), '10.88.0.2');
  assert.is(renderTemplate('{{(index (index .NetworkSettings.Ports "80/tcp") 0).HostPort}}', data), '8080');
  assert.is(renderTemplate('{{.Namespaces.net}}', data), '4026532206');
  assert.is(renderTemplate('{{.Name}} {{.Config.User}}', data), '/web 101:102');
});

// ---- top.ts ----------------------------------------------------------------------------------

test('parseNsLink', () => {
  assert.equal(parseNsLink('mnt:[4026531841]'), { type: 'mnt', inode: 4026531841 });
  assert.equal(parseNsLink('pid_for_children:[4026531836]'), { type: 'pid_for_children', inode: 4026531836 });
  assert.is(parseNsLink('mnt:4026531841'), undefined);
  assert.is(parseNsLink('/proc/1/ns/mnt'), undefined);
  assert.is(parseNsLink('mnt:[]'), undefined);
});

test('parseProcStatus: PPid, effective uid, NSpid', () => {
  const status = 'Name:\tsh\nState:\tS (sleeping)\nTgid:\t4242\nPid:\t4242\nPPid:\t4200\nUid:\t1000\t1001\t1000\t1000\nGid:\t0\t0\t0\t0\nNSpid:\t4242\t17\t1\n';
  assert.equal(parseProcStatus(status), { ppid: 4200, uid: 1001, nspid: [4242, 17, 1] });
  assert.equal(parseProcStatus('PPid:\t0\nUid:\t0\t0\t0\t0\n'), { ppid: 0, uid: 0, nspid: [] });
});

test('toContainerProcess: the innermost NSpid is the container pid', () => {
  const status = 'Name:\tsleep\nPPid:\t4242\nUid:\t0\t1000\t0\t0\nNSpid:\t4250\t7\n';
  assert.equal(toContainerProcess(4250, status, 'sleep\x00100\x00', ''), { hostPid: 4250, containerPid: 7, ppid: 4242, uid: 1000, cmd: 'sleep 100' });
  assert.equal(toContainerProcess(9, 'PPid:\t2\nUid:\t0\t0\t0\t0\n', '', 'kthreadd\n'), { hostPid: 9, containerPid: 0, ppid: 2, uid: 0, cmd: '[kthreadd]' });
});

test('commandLine: NULs become spaces; an empty cmdline shows [comm]', () => {
  assert.is(commandLine('sh\0-c\0sleep 100\0', ''), 'sh -c sleep 100');
  assert.is(commandLine('nginx: worker process\0\0\0', ''), 'nginx: worker process');
  assert.is(commandLine('', 'kworker/0:1\n'), '[kworker/0:1]');
});

test('readNamespaceInodes on this process: the seven namespaces, as /proc links them', () => {
  const ns = readNamespaceInodes(process.pid);
  assert.equal(Object.keys(ns), ['mnt', 'uts', 'ipc', 'pid', 'net', 'user', 'cgroup']);
  for (const [name, inode] of Object.entries(ns)) {
    assert.is(readlinkSync(`/proc/${process.pid}/ns/${name}`), `${name}:[${inode}]`);
  }
  assert.equal(readNamespaceInodes(2 ** 22 + 12345), {}, 'a pid no process has');
});

test('containerProcesses on our own pid namespace lists us and a child, sorted by pid', async () => {
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  try {
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    // spawn fires after fork; wait until the child has exec'd sleep.
    let procs = containerProcesses(process.pid);
    for (let i = 0; i < 100 && procs.find((p) => p.hostPid === child.pid)?.cmd !== 'sleep 30'; i++) {
      await new Promise((r) => setTimeout(r, 10));
      procs = containerProcesses(process.pid);
    }
    const me = procs.find((p) => p.hostPid === process.pid);
    assert.ok(me, 'this process is listed');
    assert.is(me!.containerPid, process.pid, 'in the namespace /proc belongs to, both pids agree');
    assert.is(me!.ppid, process.ppid);
    assert.is(me!.uid, process.geteuid!());
    const kid = procs.find((p) => p.hostPid === child.pid);
    assert.ok(kid, 'the child is listed');
    assert.is(kid!.ppid, process.pid);
    assert.is(kid!.cmd, 'sleep 30');
    const pids = procs.map((p) => p.hostPid);
    assert.equal(pids, [...pids].sort((a, b) => a - b));
  } finally {
    child.kill('SIGKILL');
  }
});

test('containerProcesses of a pid no process has is an error', () => {
  try {
    containerProcesses(2 ** 22 + 12345);
    assert.unreachable('expected an error');
  } catch (err) {
    assert.instance(err, MinidockError);
    assert.is((err as MinidockError).errno, 'ENOENT');
    assert.match((err as MinidockError).message, /pid namespace of process 4206649/);
  }
});

test('renderTop: docker table layout', () => {
  const out = renderTop([
    { hostPid: 41200, containerPid: 1, ppid: 41187, uid: 0, cmd: 'sh -c sleep 100' },
    { hostPid: 41230, containerPid: 7, ppid: 41200, uid: 1000, cmd: 'sleep 100' },
  ]);
  assert.is(
    out,
    'PID (host)   CONTAINER PID   PPID      UID       CMD\n' +
      '41200        1               41187     0         sh -c sleep 100\n' +
      '41230        7               41200     1000      sleep 100\n',
  );
});

test.run();
