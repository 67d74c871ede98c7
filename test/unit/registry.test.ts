// The pure parts of pull (issue #16): docker's reference grammar and its normalisation table,
// the plain-HTTP rule, the WWW-Authenticate challenge parser and the token request, and the
// platform chosen from an index.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { apiHost, familiarRepository, fullName, isInsecure, localTag, parseReference } from '../../src/registry/reference.js';
import { parseChallenge, tokenOf, tokenUrl } from '../../src/registry/auth.js';
import { pickFromIndex } from '../../src/image/pull.js';
import { MinidockError } from '../../src/core/errors.js';
import { connectError, nextPage, RegistryClient } from '../../src/registry/client.js';
import { authKey, credentialsFor, decodeAuth, helperCredentials, helperFor, removeCredentials, storeCredentials } from '../../src/registry/credentials.js';
import { manifestOf, mountSource, uploadChunk } from '../../src/image/push.js';
import { Progress, progressBar, renderBlock } from '../../src/registry/progress.js';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const D = `sha256:${'a'.repeat(64)}`;
// docker's own normalisation (distribution/reference ParseNormalizedNamed), as `docker pull` shows it.
const table: Array<[string, string, string | undefined]> = [
  ['busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
  ['busybox:1.36', 'docker.io/library/busybox:1.36', 'busybox:1.36'],
  ['library/busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
  ['docker.io/busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
  ['index.docker.io/library/busybox:1', 'docker.io/library/busybox:1', 'busybox:1'],
  ['user/app:1.2', 'docker.io/user/app:1.2', 'user/app:1.2'],
  ['docker.io/user/app', 'docker.io/user/app:latest', 'user/app:latest'],
  ['localhost/app', 'localhost/app:latest', 'localhost/app:latest'],
  ['localhost:5000/ns/app:v2', 'localhost:5000/ns/app:v2', 'localhost:5000/ns/app:v2'],
  [`host:5000/ns/app@${D}`, `host:5000/ns/app@${D}`, undefined],
  [`app:1@${D}`, `docker.io/library/app:1@${D}`, 'app:1'],
  ['registry.example/org/team/app:tag', 'registry.example/org/team/app:tag', 'registry.example/org/team/app:tag'],
  ['team/sub/app', 'docker.io/team/sub/app:latest', 'team/sub/app:latest'],
];
for (const [input, full, local] of table) {
  test(`parseReference ${input}`, () => {
    const r = parseReference(input);
    assert.is(fullName(r), full);
    assert.is(localTag(r), local);
  });
}

test('parseReference: what docker refuses', () => {
  for (const bad of ['', 'Busybox', 'app:', 'app@sha256:abc', 'app@md5:' + 'a'.repeat(32), 'a'.repeat(64), 'UPPER/app', 'app:bad tag']) {
    assert.throws(() => parseReference(bad), (err: Error) => err instanceof MinidockError && /invalid reference format/.test(err.message), bad);
  }
});

test("Docker Hub's API host and the familiar names", () => {
  assert.is(apiHost(parseReference('busybox')), 'registry-1.docker.io');
  assert.is(apiHost(parseReference('localhost:5000/a')), 'localhost:5000');
  assert.is(familiarRepository(parseReference('docker.io/library/busybox')), 'busybox');
  assert.is(familiarRepository(parseReference('docker.io/library/a/b')), 'library/a/b');
  assert.is(familiarRepository(parseReference('quay.io/x/y')), 'quay.io/x/y');
});

test('plain HTTP only for loopback registries or the listed ones (docker\'s rule)', () => {
  for (const r of ['localhost', 'localhost:5000', '127.0.0.1:5000', '127.1.2.3', '[::1]:5000']) assert.ok(isInsecure(r), r);
  for (const r of ['registry.example', '10.0.0.1:5000', 'docker.io', 'localhost.example']) assert.not.ok(isInsecure(r), r);
  assert.ok(isInsecure('reg.lan:5000', ['reg.lan:5000']));
  assert.ok(isInsecure('reg.lan:5000', ['reg.lan']));
});

test('parseChallenge: Bearer with quoted params (escapes, commas inside), Basic; Bearer wins when both are offered', () => {
  const c = parseChallenge('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull,push"');
  assert.equal(c, { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/busybox:pull,push' } });
  assert.equal(parseChallenge('Basic realm="Registry Realm"'), { scheme: 'basic', params: { realm: 'Registry Realm' } });
  assert.is(parseChallenge('Basic realm="r", Bearer realm="https://t/x",service=s').scheme, 'bearer');
  assert.is(parseChallenge('bearer realm="https://t/\\"q\\""').params.realm, 'https://t/"q"');
  assert.throws(() => parseChallenge('Negotiate abc'), /does not speak/);
  assert.throws(() => parseChallenge('Bearer service="x"'), /names no realm/);
});

test('tokenUrl and tokenOf: the token spec\'s request and both answer forms', () => {
  const c = parseChallenge('Bearer realm="https://auth.example/token?a=1",service="reg"');
  assert.is(tokenUrl(c, 'ns/app'), 'https://auth.example/token?a=1&service=reg&scope=repository%3Ans%2Fapp%3Apull');
  assert.is(tokenUrl(parseChallenge('Bearer realm="https://a/t",scope="repository:x:pull"'), 'other'), 'https://a/t?scope=repository%3Ax%3Apull');
  assert.is(tokenUrl(parseChallenge('Bearer realm="https://a/t",scope="repository:to:pull,push repository:from:pull"'), 'to'), 'https://a/t?scope=repository%3Ato%3Apull%2Cpush&scope=repository%3Afrom%3Apull', 'a mount: each scope its own parameter');
  assert.is(tokenOf({ token: 't1' }), 't1');
  assert.is(tokenOf({ access_token: 't2' }), 't2');
  assert.throws(() => tokenOf({}), /without a token/);
});

test('pickFromIndex: the exact variant, else the first that fits; none: an error naming what there is', () => {
  const m = (digest: string, platform?: object) => ({ mediaType: 'x', digest: `sha256:${digest.repeat(64)}`, size: 1, ...(platform ? { platform } : {}) });
  const index = { manifests: [m('a', { os: 'linux', architecture: 'arm', variant: 'v6' }), m('b', { os: 'linux', architecture: 'arm', variant: 'v7' }), m('c', { os: 'linux', architecture: 'amd64' })] };
  assert.is(pickFromIndex(index, { os: 'linux', architecture: 'amd64' }, 'r'), `sha256:${'c'.repeat(64)}`);
  assert.is(pickFromIndex(index, { os: 'linux', architecture: 'arm', variant: 'v7' }, 'r'), `sha256:${'b'.repeat(64)}`);
  assert.throws(() => pickFromIndex(index, { os: 'linux', architecture: 's390x' }, 'r'), /no image for linux\/s390x \(the index has: linux\/arm\/v6, linux\/arm\/v7, linux\/amd64\)/);
  assert.throws(() => pickFromIndex({ manifests: [] }, { os: 'linux', architecture: 'amd64' }, 'r'), /lists no manifest/);
});

test("credentials: docker's config.json form, minidock's file first then docker's, Hub's key, 0600", () => {
  const dir = mkdtempSync(join(tmpdir(), 'mdk-cred-'));
  try {
    const env = { MINIDOCK_CONFIG: join(dir, 'mdk', 'config.json'), DOCKER_CONFIG: join(dir, 'docker') };
    mkdirSync(env.DOCKER_CONFIG);
    writeFileSync(join(env.DOCKER_CONFIG, 'config.json'), JSON.stringify({ auths: { 'https://index.docker.io/v1/': { auth: Buffer.from('hub:pw:with:colons').toString('base64') }, 'reg:5000': { auth: Buffer.from('d:x').toString('base64') } } }));
    assert.equal(credentialsFor('docker.io', env), { username: 'hub', password: 'pw:with:colons' }, "docker's own login, Hub's key");
    assert.equal(credentialsFor('reg:5000', env), { username: 'd', password: 'x' });
    storeCredentials('reg:5000', { username: 'm', password: 'y' }, env);
    assert.equal(credentialsFor('reg:5000', env), { username: 'm', password: 'y' }, "minidock's file first");
    assert.is((statSync(env.MINIDOCK_CONFIG).mode & 0o777).toString(8), '600');
    assert.is((statSync(join(dir, 'mdk')).mode & 0o777).toString(8), '700');
    assert.is(removeCredentials('reg:5000', env), true);
    assert.is(removeCredentials('reg:5000', env), false);
    assert.equal(credentialsFor('reg:5000', env), { username: 'd', password: 'x' }, "docker's again");
    assert.is(credentialsFor('other', env), undefined);
    assert.is(authKey('registry-1.docker.io'), 'https://index.docker.io/v1/');
    assert.equal(decodeAuth({ username: 'u', password: 'p' }), { username: 'u', password: 'p' });
    assert.is(decodeAuth({ auth: Buffer.from('nocolon').toString('base64') }), undefined);
    // A helper named but not installed is an error naming the file, as docker's is.
    writeFileSync(join(env.DOCKER_CONFIG, 'config.json'), JSON.stringify({ credsStore: 'minidock-absent' }));
    assert.throws(() => credentialsFor('reg:5000', { ...env, PATH: dir }), /^the credential helper docker-credential-minidock-absent \(named in .*docker\/config\.json\) is not on PATH$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('manifestOf: an OCI image manifest of the stored blobs', () => {
  const m = JSON.parse(manifestOf({ digest: D, size: 3 }, [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: D, size: 9 }]).toString());
  assert.equal(m, { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: D, size: 3 }, layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: D, size: 9 }] });
});

test("progress: docker's bar and block; plain output is one line per status change, a terminal's block is redrawn in place", () => {
  assert.is(progressBar(0, 100, 10), '[          ]  0B/100B');
  assert.is(progressBar(50, 100, 10), '[====>     ]  50B/100B');
  assert.is(progressBar(100, 100, 10), '[==========]  100B/100B');
  assert.is(progressBar(1500, -1), '1.5kB');
  const state = new Map([['aaa', { status: 'Downloading', current: 5e5, total: 1e6 }], ['bbb', { status: 'Pull complete' }]]);
  assert.equal(renderBlock(['aaa', 'bbb'], state, 80), ['aaa: Downloading [==============>               ]  500kB/1MB', 'bbb: Pull complete']);
  let plain = '';
  const p = new Progress((t) => (plain += t), false);
  p.update('a', { status: 'Pulling fs layer' });
  for (const n of [1, 2, 3]) p.update('a', { status: 'Downloading', current: n, total: 3 });
  p.update('a', { status: 'Pull complete' });
  p.line('Digest: x');
  assert.is(plain, 'a: Pulling fs layer\na: Downloading\na: Pull complete\nDigest: x\n');
  let tty = '';
  const t = new Progress((x) => (tty += x), true);
  t.update('a', { status: 'Pulling fs layer' });
  t.update('b', { status: 'Pulling fs layer' });
  t.update('a', { status: 'Pull complete' });
  t.line('Digest: x');
  assert.ok(tty.startsWith('\x1b[2K\ra: Pulling fs layer\n'));
  assert.ok(tty.includes('\x1b[1A\x1b[2K\ra: Pulling fs layer\n\x1b[2K\rb: Pulling fs layer\n'), 'the block redrawn from its first line');
  assert.ok(tty.includes('\x1b[2A\x1b[2K\ra: Pull complete\n'));
  assert.ok(tty.endsWith('Digest: x\n'));
});


test('connectError: each network failure one line; a connection dropped before its answer is retried, refused is not', () => {
  const e = (code: string, message: string) => Object.assign(new Error(message), { code });
  const refused = connectError('r:5000', 'r:5000', e('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5000'));
  assert.is(refused.step, 'registry.connect');
  assert.is(refused.message, 'r:5000: connection refused by r:5000');
  for (const dropped of [e('ECONNRESET', 'socket hang up'), e('EPIPE', 'write EPIPE'), new Error('socket hang up')]) {
    const d = connectError('r:5000', 'r:5000', dropped);
    assert.is(d.step, 'registry.dropped', dropped.message);
    assert.match(d.message, /^r:5000: r:5000 dropped the connection before it answered \((ECONNRESET|EPIPE|socket hang up)\)$/);
  }
  assert.is(connectError('h', 'h', e('ENOTFOUND', 'getaddrinfo ENOTFOUND h')).message, 'h: unknown host h');
  assert.is(connectError('h', 'h', e('ERR_TLS_CERT_ALTNAME_INVALID', 'Hostname/IP does not match')).step, 'registry.tls');
});

test('retrying: a dropped connection or a cut body is tried again, other failures at once', async () => {
  const client = new RegistryClient(parseReference('127.0.0.1:5000/a'), { retries: 3 });
  for (const [step, calls] of [['registry.dropped', 3], ['registry.truncated', 3], ['registry.connect', 1], ['registry.digest', 1]] as const) {
    let n = 0;
    await client.retrying(async () => {
      n++;
      throw new MinidockError('x', { step });
    }).catch(() => undefined);
    assert.is(n, calls, step);
  }
});

test('nextPage: the Link header\'s rel="next", resolved against the request; none on the last page', () => {
  const base = 'http://r:5000/v2/a/tags/list?n=2';
  assert.is(nextPage('</v2/a/tags/list?n=2&last=b>; rel="next"', base), 'http://r:5000/v2/a/tags/list?n=2&last=b');
  assert.is(nextPage('<https://x/p1>; rel="prev", <https://x/p3>; rel=next; type="a"', base), 'https://x/p3');
  assert.is(nextPage('</v2/a/tags/list?last=z>; rel="nextish"', base), undefined);
  assert.is(nextPage(null, base), undefined);
  assert.is(nextPage('garbage', base), undefined);
});
test('mountSource: another repository of the same registry the image came from; uploadChunk: bytes, at least 1024', () => {
  const to = parseReference('127.0.0.1:5000/test/mine:1');
  const d = `@sha256:${'a'.repeat(64)}`;
  assert.is(mountSource([`other:5000/x${d}`, `127.0.0.1:5000/test/layers${d}`], to), 'test/layers');
  assert.is(mountSource([`127.0.0.1:5000/test/mine${d}`], to), undefined, 'not its own repository');
  assert.is(mountSource([`busybox${d}`], parseReference('docker.io/me/box:1')), 'library/busybox', "Hub's familiar names");
  assert.is(mountSource(['not a reference'], to), undefined);
  assert.is(uploadChunk({}), undefined);
  assert.is(uploadChunk({ MINIDOCK_UPLOAD_CHUNK: '5242880' }), 5242880);
  for (const bad of ['5M', '12', '-1']) assert.throws(() => uploadChunk({ MINIDOCK_UPLOAD_CHUNK: bad }), /MINIDOCK_UPLOAD_CHUNK=.* is no size/, bad);
});

test("credential helpers: credHelpers before credsStore, a name and never a path; a helper's answers", () => {
  assert.is(helperFor({ credsStore: 'pass', credHelpers: { 'r:5000': 'ecr-login' } }, 'r:5000', 'f'), 'ecr-login');
  assert.is(helperFor({ credsStore: 'pass', credHelpers: { 'r:5000': 'ecr-login' } }, 'other', 'f'), 'pass');
  assert.is(helperFor({ auths: {} }, 'r', 'f'), undefined);
  for (const bad of ['../../tmp/x', '/bin/sh', 3]) assert.throws(() => helperFor({ credsStore: bad }, 'r', '/c.json'), /\/c\.json names the credential helper .* which is no helper name/);
  assert.equal(helperCredentials({ ok: true, out: '{"ServerURL":"r","Username":"u","Secret":"s"}' }, 'h'), { username: 'u', password: 's' });
  assert.is(helperCredentials({ ok: true, out: '{"ServerURL":"r","Username":"","Secret":""}' }, 'h'), undefined, "pass's helper for a server it lacks");
  assert.is(helperCredentials({ ok: false, out: 'credentials not found in native keychain' }, 'h'), undefined);
  assert.throws(() => helperCredentials({ ok: false, out: 'gpg: decryption failed: No secret key\nmore' }, 'docker-credential-pass'), /^the credential helper docker-credential-pass get failed: gpg: decryption failed: No secret key$/);
  assert.throws(() => helperCredentials({ ok: true, out: '{"Username":"<token>","Secret":"t"}' }, 'h'), /identity token/);
  assert.throws(() => helperCredentials({ ok: true, out: 'nope' }, 'h'), /answered no JSON/);
});

test.run();
