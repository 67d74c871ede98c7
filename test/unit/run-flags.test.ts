// Unit tests for src/spec/run-flags.ts: --sysctl, --domainname, --ulimit and --mount.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MinidockError } from '../../src/core/errors.js';
import { parseVolumeFlag } from '../../src/spec/volumes.js';
import { sysctlNamespace } from '../../src/oci/plan.js';
import { parseDeviceFlag, parseDomainname, parseMount, parseSysctls, parseUlimits, parseNamespaceModes } from '../../src/spec/run-flags.js';

const message = (fn: () => unknown): string => {
  try { fn(); } catch (err) { assert.instance(err, MinidockError); return (err as MinidockError).message; }
  throw new Error('expected an error');
};
const bridge = { hostNetwork: false, namespaceOf: sysctlNamespace };

test('parseSysctls: namespaced keys only; net.* not on the host network; slashes read as dots', () => {
  assert.equal(parseSysctls(['net.ipv4.ip_forward=1', 'kernel.shmmax=1000', 'net/core/somaxconn=512'], bridge), { 'net.ipv4.ip_forward': '1', 'kernel.shmmax': '1000', 'net.core.somaxconn': '512' });
  assert.match(message(() => parseSysctls(['kernel.core_pattern=|/x'], bridge)), /sysctl 'kernel.core_pattern' is not whitelisted/);
  assert.match(message(() => parseSysctls(['net.ipv4.ip_forward=1'], { ...bridge, hostNetwork: true })), /not whitelisted/);
  assert.match(message(() => parseSysctls(['kernel.hostname=x'], bridge)), /not whitelisted/, 'the hostname is -h\'s');
  assert.match(message(() => parseSysctls(['net.ipv4.ip_forward'], bridge)), /is not in the form key=value/);
});

test('parseDomainname: at most 64 bytes of a host name\'s characters', () => {
  assert.is(parseDomainname('example.test'), 'example.test');
  assert.match(message(() => parseDomainname('a'.repeat(65))), /invalid domainname/);
  assert.match(message(() => parseDomainname('bad name')), /invalid domainname/);
});

test('parseUlimits: NAME=SOFT[:HARD], the last of a name wins; soft above hard, bad names and -1 refused', () => {
  assert.equal(parseUlimits(['nofile=512:1024', 'nproc=100', 'nofile=256:512']), [
    { type: 'RLIMIT_NOFILE', soft: 256, hard: 512 }, { type: 'RLIMIT_NPROC', soft: 100, hard: 100 },
  ]);
  assert.match(message(() => parseUlimits(['nofile=2:1'])), /soft limit must be less than or equal to hard limit/);
  assert.match(message(() => parseUlimits(['bogus=1'])), /invalid ulimit type: bogus/);
  assert.match(message(() => parseUlimits(['nofile'])), /invalid ulimit argument/);
  assert.match(message(() => parseUlimits(['core=-1'])), /-1 is not a limit minidock can set/);
});

test('parseMount: bind and tmpfs as -v and --tmpfs; what is missing or unknown is named', () => {
  assert.equal(parseMount('type=bind,src=/srv,dst=/data'), { volume: '/srv:/data', bindSource: '/srv' });
  assert.equal(parseMount('type=bind,source=/srv,target=/data,readonly'), { volume: '/srv:/data:ro', bindSource: '/srv' });
  assert.equal(parseMount('type=bind,src=/srv,destination=/data,ro=false'), { volume: '/srv:/data', bindSource: '/srv' });
  assert.equal(parseMount('type=tmpfs,dst=/cache,tmpfs-size=1m,tmpfs-mode=700'), { tmpfs: '/cache:size=1m,mode=700' });
  assert.equal(parseMount('type=tmpfs,dst=/cache'), { tmpfs: '/cache' });
  assert.match(message(() => parseMount('type=bind,dst=/data')), /source is required/);
  assert.match(message(() => parseMount('type=bind,src=/srv')), /target is required/);
  assert.match(message(() => parseMount('type=bind,src=/a,dst=/b,colour=red')), /unexpected key 'colour'/);
  assert.match(message(() => parseMount('type=nfs,dst=/b')), /invalid mount type: nfs/);
  assert.match(message(() => parseMount('type=bind,src=/a,dst=/b,bind-propagation=shared')), /rprivate/);
  // type=volume (the default): -v's NAME:DST[:opts], or DST alone for an anonymous volume.
  assert.equal(parseMount('dst=/b'), { volume: '/b' });
  assert.equal(parseMount('type=volume,src=data,dst=/b,readonly,volume-nocopy'), { volume: 'data:/b:ro,nocopy' });
});

test('parseDeviceFlag: HOST[:CTR[:PERMS]], a lone PERMS after HOST, docker\'s errors', () => {
  assert.equal(parseDeviceFlag('/dev/fuse'), { host: '/dev/fuse', path: '/dev/fuse', perms: 'rwm' });
  assert.equal(parseDeviceFlag('/dev/sdb:/dev/xvdc'), { host: '/dev/sdb', path: '/dev/xvdc', perms: 'rwm' });
  assert.equal(parseDeviceFlag('/dev/sdb:/dev/xvdc:r'), { host: '/dev/sdb', path: '/dev/xvdc', perms: 'r' });
  assert.equal(parseDeviceFlag('/dev/fuse:rw'), { host: '/dev/fuse', path: '/dev/fuse', perms: 'rw' });
  assert.match(message(() => parseDeviceFlag('/dev/a:/dev/b:rx')), /invalid device mode: rx/);
  assert.match(message(() => parseDeviceFlag('dev/a')), /is not an absolute path/);
  assert.match(message(() => parseDeviceFlag('/dev/a:/b:r:x')), /bad format for path/);
});

test('--pid, --ipc, --uts: host, the defaults, and docker\'s refusals', () => {
  assert.equal(parseNamespaceModes({}), {});
  assert.equal(parseNamespaceModes({ pid: 'host', ipc: 'host', uts: 'host' }), { pidMode: 'host', ipcMode: 'host', utsMode: 'host' });
  assert.equal(parseNamespaceModes({ pid: '', ipc: 'private', uts: '' }), {});
  assert.equal(parseNamespaceModes({ ipc: 'shareable' }), {});
  const refused = (o: Parameters<typeof parseNamespaceModes>[0], re: RegExp): void => {
    try {
      parseNamespaceModes(o);
      assert.unreachable();
    } catch (err) {
      assert.instance(err, MinidockError);
      assert.is((err as MinidockError).exitCode, 125);
      assert.match((err as Error).message, re);
    }
  };
  refused({ uts: 'host', hostname: 'h' }, /conflicting options: hostname and the UTS mode/);
  refused({ uts: 'host', domainname: 'd' }, /conflicting options: domainname and the UTS mode/);
  refused({ pid: 'container:web' }, /not supported yet/);
  refused({ ipc: 'none' }, /invalid --ipc "none"/);
  refused({ pid: 'private' }, /invalid --pid "private"/);
});

test('--sysctl of the IPC namespace is refused with --ipc host', () => {
  assert.throws(() => parseSysctls(['kernel.shmmax=1'], { hostNetwork: false, hostIpc: true, namespaceOf: sysctlNamespace }), /not allowed with --ipc=host/);
  assert.equal(parseSysctls(['kernel.shmmax=1'], { hostNetwork: false, namespaceOf: sysctlNamespace }), { 'kernel.shmmax': '1' });
});

test('-v: HOST:CTR a bind, NAME:CTR a named volume, CTR alone an anonymous one', () => {
  assert.equal(parseVolumeFlag('/srv:/data:ro', '/var/lib/minidock'), { kind: 'bind', src: '/srv', dst: '/data', ro: true });
  assert.equal(parseVolumeFlag('web-data:/data', '/var/lib/minidock'), { kind: 'named', name: 'web-data', dst: '/data', ro: false, nocopy: false });
  assert.equal(parseVolumeFlag('v1:/data:ro,nocopy', '/var/lib/minidock'), { kind: 'named', name: 'v1', dst: '/data', ro: true, nocopy: true });
  assert.equal(parseVolumeFlag('/data', '/var/lib/minidock'), { kind: 'anonymous', dst: '/data' });
  assert.throws(() => parseVolumeFlag('a:/data', '/x'), /includes invalid characters for a local volume name/);
  assert.throws(() => parseVolumeFlag('we$b:/data', '/x'), /includes invalid characters/);
  assert.throws(() => parseVolumeFlag('./rel:/data', '/x'), /the host path must be absolute/);
  assert.throws(() => parseVolumeFlag('v1:data', '/x'), /absolute/);
});

test.run();
