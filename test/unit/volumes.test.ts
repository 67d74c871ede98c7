// -v and --tmpfs parsing: docker's forms, the catalogue's bad inputs.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { usageMessage } from '../helpers/usage-error.js';
import { checkDestinations, parseTmpfs, parseVolume } from '../../src/spec/volumes.js';

const ROOT = '/var/lib/minidock';

test('accepted forms', () => {
  assert.equal(parseVolume('/srv/data:/data', ROOT), { src: '/srv/data', dst: '/data', ro: false });
  assert.equal(parseVolume('/srv/data/:/data/:ro', ROOT), { src: '/srv/data', dst: '/data', ro: true });
  assert.equal(parseVolume('/srv:/a/../b:rw', ROOT), { src: '/srv', dst: '/b', ro: false });
  assert.equal(parseVolume('/tmp:/data/../../etc', ROOT), { src: '/tmp', dst: '/etc', ro: false }, 'cleaned, then resolved inside the rootfs by the child');
  assert.equal(parseTmpfs('/run'), { dst: '/run', data: 'mode=1777', ro: false });
  assert.equal(parseTmpfs('/tmp:size=64m,mode=1777'), { dst: '/tmp', data: 'size=64m,mode=1777', ro: false });
  assert.equal(parseTmpfs('/cache:ro'), { dst: '/cache', data: 'mode=1777', ro: true });
  // docker's mount flags and tmpfs's own options, in the order given (exec undoes the default noexec).
  assert.equal(parseTmpfs('/x:noexec,nosuid,uid=1000,gid=1000,size=10m'), { dst: '/x', data: 'mode=1777,noexec,nosuid,uid=1000,gid=1000,size=10m', ro: false });
  assert.equal(parseTmpfs('/x:exec,mode=700,nr_inodes=1k,noatime'), { dst: '/x', data: 'exec,mode=700,nr_inodes=1k,noatime', ro: false });
});

test('-v :z and :Z (SELinux relabelling, no SELinux here) are accepted and ignored, as docker does', () => {
  assert.equal(parseVolume('/srv:/data:z', ROOT), { src: '/srv', dst: '/data', ro: false });
  assert.equal(parseVolume('/srv:/data:ro,Z', ROOT), { src: '/srv', dst: '/data', ro: true });
});

const bad: Array<[string, RegExp]> = [
  ['relative:/data', /^invalid volume spec "relative:\/data": the host path must be absolute$/],
  ['./x:/data', /the host path must be absolute/],
  ['/tmp:relative', /the container path must be absolute/],
  ['/tmp:', /^invalid volume spec "\/tmp:"$/],
  [':/data', /^invalid volume spec ":\/data"$/],
  ['a:b:c:d', /^invalid volume spec "a:b:c:d"$/],
  ['/tmp:/', /cannot mount over runtime-managed path \/$/],
  ['/tmp:/proc', /runtime-managed path \/proc$/],
  ['/tmp:/proc/sys', /runtime-managed path \/proc\/sys$/],
  ['/tmp:/sys', /runtime-managed path \/sys$/],
  ['/tmp:/dev', /runtime-managed path \/dev$/],
  ['/tmp:/dev/pts', /runtime-managed path \/dev\/pts$/],
  ['/proc:/x', /refusing to mount \/proc/],
  ['/sys/kernel:/x', /refusing to mount \/sys\/kernel/],
  ['/:/host', /refusing to mount \/ into a container/],
  [`${ROOT}:/x`, /refusing to mount \/var\/lib\/minidock/],
  [`${ROOT}/containers:/x`, /refusing to mount/],
  ['/var:/x', /refusing to mount \/var into a container/, ],
  ['/tmp:/data:rw,ro', /both ro and rw/],
  ['/tmp:/data:foo', /^invalid mount option "foo"/],
  ['/tmp:/data:rshared', /^invalid mount option "rshared"/],
];
for (const [spec, msg] of bad) {
  test(`-v ${spec} is refused`, () => {
    assert.match(usageMessage(() => parseVolume(spec, ROOT)), msg);
  });
}

test('--tmpfs refusals and duplicate destinations', () => {
  assert.match(usageMessage(() => parseTmpfs('/run:bogus')), /^invalid tmpfs option "bogus"/);
  assert.match(usageMessage(() => parseTmpfs('/run:uid=root')), /^invalid tmpfs option "uid=root"/);
  assert.match(usageMessage(() => parseTmpfs('run')), /container path must be absolute/);
  assert.match(usageMessage(() => parseTmpfs('/proc')), /runtime-managed path \/proc/);
  assert.match(usageMessage(() => checkDestinations(['/a', '/b', '/a'])), /^duplicate mount destination \/a$/);
  checkDestinations(['/a', '/b']);
});

test.run();
