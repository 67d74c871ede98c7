// Named volumes (issue #19): `volume create|ls|inspect|rm|prune` and -v NAME:/path, against the
// real kernel: data that outlives containers and is shared between them, docker's copy-up on
// first use, a volume in use never removed, and nothing of them left behind.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BUSYBOX_TAR, leakChecked, mdk, newRoot, removeRoot, requireRootAndImages, snapshot } from '../helpers/cli.js';

requireRootAndImages();
const root = newRoot('vol');
const md = (...args: string[]) => mdk(root, args);
assert.is(md('import', '-c', 'CMD ["sh"]', BUSYBOX_TAR, 'busybox').code, 0);
const before = snapshot(root);
const Vol = suite('volumes');
Vol.after(() => removeRoot(root));
const T = leakChecked(Vol, root, before);
const volumes = (): string[] => (existsSync(join(root, 'volumes')) ? readdirSync(join(root, 'volumes')).sort() : []);
const run = (...args: string[]) => md('run', '--rm', '--network', 'none', ...args);

T('volume create, ls, inspect: docker\'s fields and filters; the data belongs to the remapped root', () => {
  assert.is(md('volume', 'create', '--label', 'team=web', 'data1').stdout, 'data1\n');
  assert.is(md('volume', 'create', 'data1').stdout, 'data1\n', 'one that exists is kept');
  const anon = md('volume', 'create').stdout.trim();
  try {
    assert.match(anon, /^[0-9a-f]{64}$/);
    // By name, as docker's ls sorts them.
    assert.is(md('volume', 'ls').stdout, `DRIVER    VOLUME NAME\n${[anon, 'data1'].sort().map((n) => `local     ${n}\n`).join('')}`);
    assert.is(md('volume', 'ls', '-q', '-f', 'label=team=web').stdout, 'data1\n');
    assert.is(md('volume', 'ls', '-q', '-f', 'name=ata').stdout, 'data1\n');
    assert.is(md('volume', 'ls', '--format', '{{.Name}} {{.Driver}} {{.Labels}}', '-f', 'dangling=true', '-f', 'name=data').stdout, 'data1 local team=web\n');
    const [v] = JSON.parse(md('volume', 'inspect', 'data1').stdout);
    assert.equal(Object.keys(v), ['CreatedAt', 'Driver', 'Labels', 'Mountpoint', 'Name', 'Options', 'Scope']);
    assert.equal({ ...v, CreatedAt: '' }, { CreatedAt: '', Driver: 'local', Labels: { team: 'web' }, Mountpoint: join(root, 'volumes/data1/_data'), Name: 'data1', Options: {}, Scope: 'local' });
    assert.is(md('inspect', '--type', 'volume', '-f', '{{.Mountpoint}}', 'data1').stdout, `${join(root, 'volumes/data1/_data')}\n`);
    assert.is(statSync(v.Mountpoint).uid, 100000, 'container root owns the data');
    assert.is(statSync(join(root, 'volumes')).mode & 0o007, 0, 'no other user reaches it');
    const missing = md('volume', 'inspect', 'nope');
    assert.is(missing.code, 1);
    assert.match(missing.stderr, /No such volume: nope/);
    const bad = md('volume', 'create', 'a b');
    assert.is(bad.code, 1, 'outside run, docker exits 1 for what is not a flag error');
    assert.match(bad.stderr, /includes invalid characters for a local volume name/);
  } finally {
    assert.is(md('volume', 'rm', 'data1', anon).stdout, `data1\n${anon}\n`);
  }
  assert.equal(volumes(), []);
});

T('-v NAME:/path: made on first use, filled from the image when empty, shared, kept after the container; rm refused while a container names it', async () => {
  // First use: created, and the image's /etc copied in (docker's copy-up).
  const first = run('-v', 'conf:/etc', 'busybox', 'sh', '-c', 'cat /etc/passwd | head -1; echo mine > /etc/marker');
  assert.is(first.code, 0, first.stderr);
  assert.match(first.stdout, /^root:/);
  // Not empty now: nothing copied over what is there; the data outlived the container.
  assert.is(run('-v', 'conf:/etc:ro', 'busybox', 'cat', '/etc/marker').stdout, 'mine\n');
  // Two containers at once see each other's writes.
  assert.is(md('run', '-d', '--name', 'writer', '--network', 'none', '-v', 'shared:/s', 'busybox', 'sleep', '60').code, 0);
  try {
    assert.is(run('-v', 'shared:/s', 'busybox', 'sh', '-c', 'echo from-b > /s/b').code, 0);
    assert.is(md('exec', 'writer', 'cat', '/s/b').stdout, 'from-b\n');
    const inUse = md('volume', 'rm', 'shared');
    assert.is(inUse.code, 1);
    assert.match(inUse.stderr, /remove shared: volume is in use - \[[0-9a-f]{64}\]/);
    const mounts = JSON.parse(md('inspect', '-f', '{{json .Mounts}}', 'writer').stdout);
    assert.equal(mounts, [{ Type: 'volume', Name: 'shared', Source: join(root, 'volumes/shared/_data'), Destination: '/s', Driver: 'local', Mode: 'z', RW: true, Propagation: '' }]);
    assert.is(md('volume', 'ls', '-q', '-f', 'dangling=false').stdout, 'shared\n');
  } finally {
    assert.is(md('rm', '-f', '-v', 'writer').code, 0);
  }
  // rm -v took no named volume; a stopped container still holds one.
  assert.equal(volumes(), ['conf', 'shared']);
  assert.is(md('run', '--name', 'stopped', '--network', 'none', '-v', 'conf:/etc', 'busybox', 'true').code, 0);
  assert.is(md('volume', 'rm', 'conf').code, 1);
  // --mount type=volume is the same; -v /path alone an anonymous volume, gone with --rm.
  assert.is(run('--mount', 'type=volume,src=shared,dst=/m,readonly', '-v', '/anon', 'busybox', 'sh', '-c', 'cat /m/b; touch /anon/x; touch /m/y 2>&1 | grep -c Read-only').stdout, 'from-b\n1\n');
  assert.equal(volumes(), ['conf', 'shared']);
  // gc takes no named volume, used or not.
  assert.is(md('gc').code, 0);
  assert.equal(volumes(), ['conf', 'shared']);
  assert.is(md('rm', 'stopped').code, 0);
  const pruned = md('volume', 'prune', '-f');
  assert.is(pruned.code, 0);
  assert.match(pruned.stdout, /^Deleted Volumes:\nconf\nshared\n\nTotal reclaimed space: /);
  assert.equal(volumes(), []);
});

Vol.run();
