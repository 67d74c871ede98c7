// minidock pull against a real registry (issue #16, its first part): Debian's docker-registry
// (distribution 2.8) started by this file on 127.0.0.1 in the test network namespace, its config
// and storage in a temporary directory, stopped by its pid at the end; images pushed into it by
// Debian's skopeo, one of them as a two-platform OCI index and as a Docker manifest list. Pull by tag and by digest, the same
// image id and manifest digest skopeo reports, up to date on a second pull, run pulling what is
// missing (docker's "Unable to find image"), the platform chosen from an index (--platform, and
// a one-line error naming the platforms there are), a 404 and a refused connection: one line
// each, and nothing half-stored. Nothing is left: no registry process, layer, blob or file.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUSYBOX_TAR, TEST_NETNS, ensureTestNetns, leakChecked, mdk, mdkSpawn, newRoot, removeRoot, requireRootAndImages, snapshot } from '../helpers/cli.js';
import { layerTar, ociLayout } from '../helpers/image-layout.js';

requireRootAndImages();
for (const tool of ['/usr/bin/docker-registry', '/usr/bin/skopeo', '/usr/bin/pass', join(dirname(fileURLToPath(import.meta.url)), '../../../.tools/bin/docker-credential-pass')]) if (!existsSync(tool)) throw new Error(`${tool} is missing: run bin/setup (it installs it)`);
ensureTestNetns();
const work = mkdtempSync(join(tmpdir(), 'mdk-registry-'));
const REPO = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const root = newRoot('registry');
const PORT = 5000 + (process.pid % 1000);
const REG = `127.0.0.1:${PORT}`;
const netns = `--net=/run/netns/${TEST_NETNS}`;
writeFileSync(join(work, 'config.yml'), `version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: ${join(work, 'data')}\n  delete:\n    enabled: true\nhttp:\n  addr: ${REG}\nlog:\n  level: warn\n`);
let registry = spawn('nsenter', [netns, '/usr/bin/docker-registry', 'serve', join(work, 'config.yml')], { stdio: ['ignore', 'ignore', 'pipe'] });
const waitUp = (): void => {
  for (let i = 0; i < 100; i++) {
    if (spawnSync('nsenter', [netns, 'curl', '-sf', `http://${REG}/v2/`]).status === 0) return;
    spawnSync('sleep', ['0.1']);
  }
  throw new Error('the registry did not start');
};
waitUp();
const skopeo = (args: string[]): string => {
  const r = spawnSync('nsenter', [netns, 'skopeo', ...args], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`skopeo ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};

// The images: a three-layer image (busybox, two layers with a whiteout), and the same layers as a
// two-platform index (amd64, arm64: configs that differ only in architecture).
const L2 = layerTar(work, 'l2', { 't/a': 'one\n', 't/b': 'b\n' });
const L3 = layerTar(work, 'l3', { 't/.wh.b': '', 't/c': 'c\n' }, true);
const layout = ociLayout(join(work, 'oci'), [BUSYBOX_TAR, L2, L3], { tag: 'x:1' });
skopeo(['copy', '--quiet', '--dest-tls-verify=false', `oci:${layout.dir}`, `docker://${REG}/test/layers:1`]);
// The same image as Docker's schema 2 manifest (docker's layer media types).
skopeo(['copy', '--quiet', '--format', 'v2s2', '--dest-tls-verify=false', `oci:${layout.dir}`, `docker://${REG}/test/v2s2:1`]);
const sha = (b: string | Buffer): string => createHash('sha256').update(b).digest('hex');
const multi = ociLayout(join(work, 'oci-multi'), [BUSYBOX_TAR, L2], { tag: 'x:1' });
const blobs = join(multi.dir, 'blobs/sha256');
const amdManifest = readFileSync(join(blobs, multi.manifestDigest));
const armConfig = readFileSync(join(blobs, multi.configDigest), 'utf8').replace('"architecture":"amd64"', '"architecture":"arm64"');
writeFileSync(join(blobs, sha(armConfig)), armConfig);
const armManifest = amdManifest.toString().replace(multi.configDigest, sha(armConfig)).replace(/"size":\d+/, `"size":${Buffer.byteLength(armConfig)}`);
writeFileSync(join(blobs, sha(armManifest)), armManifest);
const index = JSON.stringify({
  schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json',
  manifests: [
    { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${multi.manifestDigest}`, size: amdManifest.length, platform: { architecture: 'amd64', os: 'linux' } },
    { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${sha(armManifest)}`, size: Buffer.byteLength(armManifest), platform: { architecture: 'arm64', os: 'linux', variant: 'v8' } },
  ],
});
writeFileSync(join(blobs, sha(index)), index);
writeFileSync(join(multi.dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.index.v1+json', digest: `sha256:${sha(index)}`, size: Buffer.byteLength(index), annotations: { 'org.opencontainers.image.ref.name': 'multi' } }] }));
skopeo(['copy', '--quiet', '--all', '--dest-tls-verify=false', `oci:${multi.dir}:multi`, `docker://${REG}/test/multi:1`]);
// The same two platforms as a Docker manifest list (skopeo converts the index and manifests).
skopeo(['copy', '--quiet', '--all', '--format', 'v2s2', '--dest-tls-verify=false', `oci:${multi.dir}:multi`, `docker://${REG}/test/list:1`]);

const before = snapshot(root);
const R = suite('registry');
R.after(() => {
  registry.kill('SIGTERM'); // nsenter execs the registry: this pid is the registry's own
  removeRoot(root);
  rmSync(work, { recursive: true, force: true });
});
const T = leakChecked(R, root, before);
// A test that failed half-way leaves its images: removed here, so that the next test starts from
// an empty store and reports its own failure, not this one's.
R.after.each(() => {
  const ids = mdk(root, ['images', '-a', '-q', '--no-trunc']).stdout.split('\n').filter(Boolean);
  if (ids.length) mdk(root, ['rmi', '-f', ...new Set(ids)]);
});
const ok = (args: string[]): string => {
  const r = mdk(root, args);
  assert.is(r.code, 0, `minidock ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
const layers = (): string[] => (existsSync(join(root, 'images/layers')) ? readdirSync(join(root, 'images/layers')).filter((n) => n !== 'l') : []);
const blobsLeft = (): string[] => (existsSync(join(root, 'images/blobs/sha256')) ? readdirSync(join(root, 'images/blobs/sha256')) : []);

T('pull by tag: docker\'s lines, the config\'s id, the manifest digest skopeo reports; a second pull is up to date', () => {
  const digest = (JSON.parse(skopeo(['inspect', '--tls-verify=false', `docker://${REG}/test/layers:1`])) as { Digest: string }).Digest;
  const out = ok(['pull', `${REG}/test/layers:1`]);
  const lines = out.trim().split('\n');
  assert.is(lines[0], '1: Pulling from test/layers');
  // skopeo gzips the uncompressed layers it pushes: the registry's blobs are the manifest's.
  const manifest = JSON.parse(skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${REG}/test/layers:1`])) as { layers: Array<{ digest: string }> };
  for (const { digest: d } of manifest.layers) assert.ok(lines.includes(`${d.slice(7, 19)}: Pull complete`), `${d.slice(7, 19)} pulled: ${out}`);
  assert.equal(lines.slice(-3), [`Digest: ${digest}`, `Status: Downloaded newer image for ${REG}/test/layers:1`, `${REG}/test/layers:1`]);
  assert.is(ok(['images', '-q', '--no-trunc', `${REG}/test/layers:1`]), `sha256:${layout.id}\n`);
  const [img] = JSON.parse(ok(['image', 'inspect', `${REG}/test/layers:1`])) as Array<{ RepoDigests: string[] }>;
  assert.equal(img!.RepoDigests, [`${REG}/test/layers@${digest}`]);
  const again = ok(['pull', `${REG}/test/layers:1`]).trim().split('\n');
  assert.is(again.filter((l) => l.endsWith(': Already exists')).length, 3);
  assert.is(again.at(-2), `Status: Image is up to date for ${REG}/test/layers:1`);
  assert.is(ok(['run', '--rm', '--network', 'none', `${REG}/test/layers:1`, 'sh', '-c', 'ls /t; cat /t/c']), 'a\nc\nc\n');
  // Docker's schema 2 form of it: the same image.
  const v2 = JSON.parse(skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${REG}/test/v2s2:1`])) as { mediaType: string };
  assert.is(v2.mediaType, 'application/vnd.docker.distribution.manifest.v2+json');
  ok(['pull', '-q', `${REG}/test/v2s2:1`]);
  assert.is(ok(['images', '-q', '--no-trunc', `${REG}/test/v2s2:1`]), `sha256:${layout.id}\n`);
  ok(['rmi', `${REG}/test/v2s2:1`]);
  // By digest: the same image, no tag of its own (docker's rule).
  assert.is(ok(['pull', '-q', `${REG}/test/layers@${digest}`]), `${REG}/test/layers@${digest}\n`);
  ok(['rmi', `${REG}/test/layers:1`]);
  assert.equal(layers(), []);
  assert.equal(blobsLeft(), []);
});

T('push under another name: the layers mounted from the repository they came from, the blobs the registry has skipped, skopeo sees the same manifest digest and config, and it pulls back to the same id', () => {
  ok(['pull', '-q', `${REG}/test/layers:1`]);
  ok(['tag', `${REG}/test/layers:1`, `${REG}/test/copy:2`]);
  const out = ok(['push', `${REG}/test/copy:2`]).trim().split('\n');
  assert.is(out[0], `The push refers to repository [${REG}/test/copy]`);
  // The image came from test/layers of this registry: each layer mounted from there, no byte sent.
  assert.is(out.filter((l) => l.endsWith(': Mounted from test/layers')).length, 3, out.join('\n'));
  const last = /^2: digest: (sha256:[0-9a-f]{64}) size: \d+$/.exec(out.at(-1)!);
  assert.ok(last, out.at(-1));
  const pushed = JSON.parse(skopeo(['inspect', '--tls-verify=false', `docker://${REG}/test/copy:2`])) as { Digest: string };
  assert.is(pushed.Digest, last![1]);
  const raw = JSON.parse(skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${REG}/test/copy:2`])) as { config: { digest: string } };
  assert.is(raw.config.digest, `sha256:${layout.id}`, 'the config (so the image id) is the one pulled');
  // Pushed again: everything is there.
  assert.is(ok(['push', `${REG}/test/copy:2`]).split('\n').filter((l) => l.endsWith(': Layer already exists')).length, 3);
  const other = newRoot('registry-other');
  try {
    assert.is(mdk(other, ['pull', '-q', `${REG}/test/copy:2`]).stdout, `${REG}/test/copy:2\n`);
    assert.is(mdk(other, ['images', '-q', '--no-trunc']).stdout, `sha256:${layout.id}\n`);
  } finally {
    removeRoot(other);
  }
  const missing = mdk(root, ['push', `${REG}/test/nope:1`]);
  assert.is(missing.code, 1);
  assert.match(missing.stderr, /An image does not exist locally with the tag: 127\.0\.0\.1:\d+\/test\/nope/);
  ok(['rmi', `${REG}/test/copy:2`, `${REG}/test/layers:1`]);
  assert.equal(layers(), []);
});

T('run and create pull an image they do not have, saying so on stderr as docker does; --pull never does not', () => {
  const never = mdk(root, ['run', '--rm', '--network', 'none', '--pull', 'never', `${REG}/test/layers:1`, 'true']);
  assert.is(never.code, 125);
  assert.match(never.stderr, /not found/);
  const r = mdk(root, ['run', '--rm', '--network', 'none', `${REG}/test/layers:1`, 'cat', '/t/a']);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, 'one\n');
  assert.match(r.stderr, new RegExp(`^Unable to find image '${REG.replace(/\./g, '\\.')}/test/layers:1' locally\\n1: Pulling from test/layers\\n`));
  ok(['rmi', `${REG}/test/layers:1`]);
  // create pulls the same way; the container waits, Created, for start.
  const c = mdk(root, ['create', '--name', 'pulled', '--network', 'none', `${REG}/test/layers:1`, 'cat', '/t/a']);
  assert.is(c.code, 0, c.stderr);
  assert.match(c.stdout, /^[0-9a-f]{64}\n$/);
  assert.match(c.stderr, new RegExp(`^Unable to find image '${REG.replace(/\./g, '\\.')}/test/layers:1' locally\\n`));
  assert.match(ok(['ps', '-a']), /Created\s+pulled\n/);
  const started = mdk(root, ['start', '-a', 'pulled']);
  assert.is(started.stdout, 'one\n', started.stderr);
  ok(['rm', 'pulled']);
  ok(['rmi', `${REG}/test/layers:1`]);
});

T('an index: this host\'s platform by default, another with --platform, and a one-line error naming what there is', () => {
  ok(['pull', '-q', `${REG}/test/multi:1`]);
  assert.is(ok(['images', '-q', '--no-trunc']), `sha256:${multi.id}\n`, 'the amd64 image');
  ok(['pull', '-q', '--platform', 'linux/arm64', `${REG}/test/multi:1`]);
  assert.is(ok(['images', '-q', '--no-trunc', `${REG}/test/multi:1`]), `sha256:${sha(armConfig)}\n`, 'the tag moved to the arm64 image (the amd64 one is dangling)');
  const none = mdk(root, ['pull', '--platform', 'linux/s390x', `${REG}/test/multi:1`]);
  assert.is(none.code, 1);
  assert.match(none.stderr, /no image for linux\/s390x \(the index has: linux\/amd64, linux\/arm64\/v8\)/);
  ok(['image', 'prune', '-a', '-f']);
  assert.equal(layers(), []);
});

T('a Docker manifest list: the same choice of platform, the same image ids (the configs are the same), the list\'s digest recorded', () => {
  const raw = skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${REG}/test/list:1`]);
  assert.is((JSON.parse(raw) as { mediaType: string }).mediaType, 'application/vnd.docker.distribution.manifest.list.v2+json');
  const out = ok(['pull', `${REG}/test/list:1`]);
  assert.match(out, new RegExp(`Digest: sha256:${sha(raw)}\n`));
  assert.is(ok(['images', '-q', '--no-trunc', `${REG}/test/list:1`]), `sha256:${multi.id}\n`);
  assert.match(ok(['image', 'inspect', '-f', '{{json .RepoDigests}}', `${REG}/test/list:1`]), new RegExp(`${REG}/test/list@sha256:${sha(raw)}`));
  ok(['pull', '-q', '--platform', 'linux/arm64/v8', `${REG}/test/list:1`]);
  assert.is(ok(['images', '-q', '--no-trunc', `${REG}/test/list:1`]), `sha256:${sha(armConfig)}\n`);
  ok(['image', 'prune', '-a', '-f']);
  assert.equal(layers(), []);
});

/** login with a wrong password (refused; `afterRefused` checks what it left), then the right
 *  one (accepted). */
function refusedThenLoggedIn(md: (args: string[], input?: string) => ReturnType<typeof mdk>, reg: string, user: string, password: string, afterRefused?: () => void): ReturnType<typeof mdk> {
  const wrong = md(['login', '-u', user, '--password-stdin', reg], 'nope\n');
  assert.is(wrong.code, 1);
  assert.match(wrong.stderr, /the credentials were refused \(401 Unauthorized\)/);
  afterRefused?.();
  const good = md(['login', '-u', user, '--password-stdin', reg], `${password}\n`);
  assert.is(good.code, 0, good.stderr);
  return good;
}

T('basic auth (htpasswd): a 401 without credentials, login refuses a wrong password, login stores the right one, pull and push work, logout forgets it', () => {
  // A second registry on the same storage, behind htpasswd (bcrypt, as the registry wants).
  const AUTH = `127.0.0.1:${PORT + 1}`;
  const htpasswd = join(work, 'htpasswd');
  const h = spawnSync('htpasswd', ['-Bbc', htpasswd, 'alice', 's3cret'], { encoding: 'utf8' });
  assert.is(h.status, 0, h.stderr);
  writeFileSync(join(work, 'auth.yml'), readFileSync(join(work, 'config.yml'), 'utf8').replace(`addr: ${REG}`, `addr: ${AUTH}`) + `auth:\n  htpasswd:\n    realm: minidock-test\n    path: ${htpasswd}\n`);
  const authReg = spawn('nsenter', [netns, '/usr/bin/docker-registry', 'serve', join(work, 'auth.yml')], { stdio: ['ignore', 'ignore', 'pipe'] });
  try {
    for (let i = 0; i < 100 && spawnSync('nsenter', [netns, 'curl', '-s', '-o', '/dev/null', `http://${AUTH}/v2/`]).status !== 0; i++) spawnSync('sleep', ['0.1']);
    const cfg = { MINIDOCK_CONFIG: join(work, 'client', 'config.json'), DOCKER_CONFIG: join(work, 'no-docker') };
    const md = (args: string[], input = ''): ReturnType<typeof mdk> => mdk(root, args, { env: cfg, input });
    const anon = md(['pull', `${AUTH}/test/layers:1`]);
    assert.is(anon.code, 1);
    assert.match(anon.stderr, /pull access denied for test\/layers: repository does not exist or may require 'minidock login' \(minidock login 127\.0\.0\.1:\d+\)\n$/);
    const good = refusedThenLoggedIn(md, AUTH, 'alice', 's3cret', () => assert.not.ok(existsSync(cfg.MINIDOCK_CONFIG), 'nothing stored for a refused login'));
    assert.is(good.stdout, 'Login Succeeded\n');
    assert.is((spawnSync('stat', ['-c', '%a', cfg.MINIDOCK_CONFIG], { encoding: 'utf8' }).stdout.trim()), '600');
    const pulled = md(['pull', '-q', `${AUTH}/test/layers:1`]);
    assert.is(pulled.code, 0, pulled.stderr);
    assert.is(md(['tag', `${AUTH}/test/layers:1`, `${AUTH}/test/mine:1`]).code, 0);
    const pushed = md(['push', `${AUTH}/test/mine:1`]);
    assert.is(pushed.code, 0, pushed.stderr);
    assert.is(md(['logout', AUTH]).stdout, `Removing login credentials for ${AUTH}\n`);
    assert.is(md(['pull', `${AUTH}/test/mine:1`]).code, 1, 'a 401 again after logout');
    // A credential helper (docker's docker-credential-pass, over a pass store with its own GnuPG
    // key): login stores the password there and the file keeps only an empty entry; pull asks
    // the helper; logout erases it. Then docker's file naming it in credHelpers serves as well.
    const gpgHome = join(work, 'gnupg');
    const helperEnv = { ...cfg, PATH: `${join(REPO, '.tools/bin')}:${process.env.PATH}`, GNUPGHOME: gpgHome, PASSWORD_STORE_DIR: join(work, 'pass-store') };
    const sh = (cmd: string, args: string[]): string => {
      const r = spawnSync(cmd, args, { env: { ...process.env, ...helperEnv }, encoding: 'utf8' });
      assert.is(r.status, 0, `${cmd} ${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    };
    mkdirSync(gpgHome, { mode: 0o700 });
    try {
      sh('gpg', ['--batch', '--passphrase', '', '--quick-gen-key', 'minidock-test@invalid', 'default', 'default', 'never']);
      sh('pass', ['init', /^fpr:+([0-9A-F]+):/m.exec(sh('gpg', ['--list-keys', '--with-colons']))![1]!]);
      writeFileSync(cfg.MINIDOCK_CONFIG, JSON.stringify({ credsStore: 'pass' }));
      const hm = (args: string[], input = ''): ReturnType<typeof mdk> => mdk(root, args, { env: helperEnv, input });
      const stored = hm(['login', '-u', 'alice', '--password-stdin', AUTH], 's3cret\n');
      assert.is(stored.code, 0, stored.stderr);
      assert.equal(JSON.parse(readFileSync(cfg.MINIDOCK_CONFIG, 'utf8')), { credsStore: 'pass', auths: { [AUTH]: {} } }, 'no secret in the file');
      assert.equal(JSON.parse(sh('docker-credential-pass', ['list'])), { [AUTH]: 'alice' }, 'the login is in pass');
      const viaHelper = hm(['pull', '-q', `${AUTH}/test/mine:1`]);
      assert.is(viaHelper.code, 0, viaHelper.stderr);
      assert.is(hm(['logout', AUTH]).stdout, `Removing login credentials for ${AUTH}\n`);
      assert.equal(JSON.parse(sh('docker-credential-pass', ['list'])), {}, 'erased from pass');
      assert.is(hm(['pull', `${AUTH}/test/mine:1`]).code, 1, 'a 401 once erased');
      // docker's file: credHelpers for this registry; the helper holds the login docker made.
      sh('sh', ['-c', `printf '%s' '{"ServerURL":"${AUTH}","Username":"alice","Secret":"s3cret"}' | docker-credential-pass store`]);
      rmSync(cfg.MINIDOCK_CONFIG);
      mkdirSync(cfg.DOCKER_CONFIG, { recursive: true });
      writeFileSync(join(cfg.DOCKER_CONFIG, 'config.json'), JSON.stringify({ credHelpers: { [AUTH]: 'pass' } }));
      const viaDocker = hm(['pull', '-q', `${AUTH}/test/mine:1`]);
      assert.is(viaDocker.code, 0, viaDocker.stderr);
      rmSync(cfg.DOCKER_CONFIG, { recursive: true });
    } finally {
      spawnSync('gpgconf', ['--kill', 'gpg-agent'], { env: { ...process.env, GNUPGHOME: gpgHome } }); // the agent this test's gpg started
    }
    assert.is(md(['rmi', `${AUTH}/test/layers:1`, `${AUTH}/test/mine:1`]).code, 0);
    assert.equal(layers(), []);
  } finally {
    authReg.kill('SIGTERM');
  }
});

T('token auth (a token server signing ES256 JWTs the registry checks against its certificate): one token per pull, reused for every blob; push denied without login, allowed after it', () => {
  const TOKREG = `127.0.0.1:${PORT + 2}`;
  const TOKSRV = `127.0.0.1:${PORT + 3}`;
  const key = join(work, 'token-key.pem');
  const cert = join(work, 'token-cert.pem');
  const o = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=minidock-test-token'], { encoding: 'utf8' });
  assert.is(o.status, 0, o.stderr);
  writeFileSync(join(work, 'token.yml'), readFileSync(join(work, 'config.yml'), 'utf8').replace(`addr: ${REG}`, `addr: ${TOKREG}`)
    + `auth:\n  token:\n    realm: http://${TOKSRV}/token\n    service: minidock-test\n    issuer: minidock-test-issuer\n    rootcertbundle: ${cert}\n`);
  const log = join(work, 'token.log');
  writeFileSync(log, '');
  const server = spawn('nsenter', [netns, process.execPath, join(dirname(fileURLToPath(import.meta.url)), '../helpers/token-server.js'), String(PORT + 3), key, cert, 'minidock-test-issuer', 'minidock-test', 'bob:pa55', log], { stdio: 'ignore' });
  const reg = spawn('nsenter', [netns, '/usr/bin/docker-registry', 'serve', join(work, 'token.yml')], { stdio: ['ignore', 'ignore', 'pipe'] });
  try {
    for (let i = 0; i < 100 && (spawnSync('nsenter', [netns, 'curl', '-s', '-o', '/dev/null', `http://${TOKREG}/v2/`]).status !== 0 || !readFileSync(log, 'utf8').includes('listening')); i++) spawnSync('sleep', ['0.1']);
    const tokens = (): string[] => readFileSync(log, 'utf8').trim().split('\n').filter((l) => l.startsWith('token '));
    const cfg = { MINIDOCK_CONFIG: join(work, 'token-client', 'config.json'), DOCKER_CONFIG: join(work, 'no-docker') };
    const md = (args: string[], input = ''): ReturnType<typeof mdk> => mdk(root, args, { env: cfg, input });
    const pulled = md(['pull', '-q', `${TOKREG}/test/layers:1`]);
    assert.is(pulled.code, 0, pulled.stderr);
    assert.equal(tokens(), ['token repository:test/layers:pull - test/layers:pull'], 'one anonymous token, for the manifest and all three layers');
    assert.is(md(['images', '-q', '--no-trunc', `${TOKREG}/test/layers:1`]).stdout, `sha256:${layout.id}\n`);
    assert.is(md(['tag', `${TOKREG}/test/layers:1`, `${TOKREG}/test/tok:1`]).code, 0);
    const denied = md(['push', `${TOKREG}/test/tok:1`]);
    assert.is(denied.code, 1);
    assert.match(denied.stderr, /push access denied for test\/tok: repository does not exist or may require 'minidock login' \(minidock login 127\.0\.0\.1:\d+\)\n$/);
    refusedThenLoggedIn(md, TOKREG, 'bob', 'pa55');
    const pushed = md(['push', `${TOKREG}/test/tok:1`]);
    assert.is(pushed.code, 0, pushed.stderr);
    // (The registry's challenge names the actions, and the scopes, in either order.) The layers came from
    // test/layers: mounted, with a token for both repositories.
    assert.ok(tokens().some((l) => / bob /.test(l) && /test\/tok:(pull,push|push,pull)( |$)/.test(l) && /test\/layers:pull( |$)/.test(l)), tokens().join('\n'));
    assert.is(pushed.stdout.split('\n').filter((l) => l.endsWith(': Mounted from test/layers')).length, 3, pushed.stdout);
    // What bob pushed is what skopeo reads back (anonymously: a pull token).
    assert.match(pushed.stdout, new RegExp(`1: digest: sha256:${sha(skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${TOKREG}/test/tok:1`]))} size: \\d+`));
    assert.is(md(['logout', TOKREG]).code, 0);
    assert.is(md(['rmi', `${TOKREG}/test/layers:1`, `${TOKREG}/test/tok:1`]).code, 0);
    assert.equal(layers(), []);
  } finally {
    reg.kill('SIGTERM');
    server.kill('SIGKILL');
  }
});

// The proxy (test/helpers/registry-proxy.ts) in front of the registry, one per fault, its own
// process in the test namespace; stopped by its pid.
const PROXY = join(dirname(fileURLToPath(import.meta.url)), '../helpers/registry-proxy.js');

let proxies = 0;
const proxy = (mode: string, digest: string): { host: string; log: () => string[]; stop: () => void; pid: number } => {
  const port = PORT + 10 + proxies++;
  const log = join(work, `proxy-${port}.log`);
  writeFileSync(log, '');
  const p = spawn('nsenter', [netns, process.execPath, PROXY, String(port), REG, mode, digest, log], { stdio: 'ignore' });
  for (let i = 0; i < 100 && !readFileSync(log, 'utf8').includes('listening'); i++) spawnSync('sleep', ['0.05']);
  return { host: `127.0.0.1:${port}`, log: () => readFileSync(log, 'utf8').trim().split('\n'), stop: () => p.kill('SIGKILL'), pid: p.pid! };
};
const layerDigests = (name: string): string[] =>
  (JSON.parse(skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${REG}/${name}`])) as { layers: Array<{ digest: string }> }).layers.map((l) => l.digest);
const nothingStored = (): void => {
  assert.equal(layers(), [], 'no layer');
  assert.equal(blobsLeft(), [], 'no blob');
  assert.equal(readdirSync(join(root, 'tmp')), [], 'no scratch file');
};

T('faults: a blob altered on its way is a digest error; a body cut once is downloaded again; a registry killed mid-download is one line; nothing half-stored', async () => {
  const [, second] = layerDigests('test/layers:1');
  const bad = proxy('corrupt', second!);
  try {
    const r = mdk(root, ['pull', '-q', `${bad.host}/test/layers:1`]);
    assert.is(r.code, 1);
    assert.match(r.stderr, new RegExp(`blob ${second} does not match its digest \\(it is sha256:[0-9a-f]{64}\\) \\(the registry or a proxy altered it; nothing was stored\\)\\n$`));
    assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
    nothingStored();
  } finally {
    bad.stop();
  }
  const cut = proxy('truncate-once', second!);
  try {
    const r = mdk(root, ['pull', '-q', `${cut.host}/test/layers:1`]);
    assert.is(r.code, 0, r.stderr);
    assert.is(cut.log().filter((l) => l === `GET /v2/test/layers/blobs/${second}`).length, 2, 'fetched again after the cut');
    assert.is(ok(['images', '-q', '--no-trunc', `${cut.host}/test/layers:1`]), `sha256:${layout.id}\n`);
    ok(['rmi', `${cut.host}/test/layers:1`]);
    nothingStored();
  } finally {
    cut.stop();
  }
  const dying = proxy('stall', second!);
  const pull = mdkSpawn(root, ['pull', '-q', `${dying.host}/test/layers:1`]);
  let stderr = '';
  pull.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number>((resolve) => pull.on('close', (code) => resolve(code ?? -1)));
  for (let i = 0; i < 200 && !dying.log().includes('stalled'); i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(dying.log().includes('stalled'), 'the download began');
  dying.stop();
  assert.is(await exited, 1);
  assert.match(stderr, /connection refused|broke off/, stderr);
  assert.is(stderr.trim().split('\n').length, 1, stderr);
  nothingStored();
});

T('Ctrl-C during a pull: the requests end, what the pull stored is taken back, exit 130 (a TERM: 143), one line', async () => {
  const [, second] = layerDigests('test/layers:1');
  const stalled = proxy('stall', second!);
  try {
    for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
      const before = stalled.log().filter((l) => l === 'stalled').length;
      const pull = mdkSpawn(root, ['pull', `${stalled.host}/test/layers:1`]);
      let stderr = '';
      let stdout = '';
      pull.stderr.on('data', (d) => (stderr += d));
      pull.stdout.on('data', (d) => (stdout += d));
      const exited = new Promise<number>((resolve) => pull.on('close', (c, s) => resolve(c ?? (s ? -1 : -2))));
      for (let i = 0; i < 200 && stalled.log().filter((l) => l === 'stalled').length === before; i++) await new Promise((r) => setTimeout(r, 50));
      assert.ok(stalled.log().filter((l) => l === 'stalled').length > before, 'the download began');
      // Wait for another layer to be in: the interrupt must take back what this pull stored.
      for (let i = 0; i < 200 && layers().length === 0; i++) await new Promise((r) => setTimeout(r, 50));
      assert.ok(layers().length > 0, 'a layer was stored before the interrupt');
      pull.kill(sig);
      assert.is(await exited, code, stderr);
      assert.match(stdout, /Pulling fs layer/);
      assert.is(stderr, `minidock: pull of ${stalled.host}/test/layers:1 interrupted by ${sig}: nothing of it was stored\n`);
      nothingStored();
    }
  } finally {
    stalled.stop();
  }
});

T('push in chunks (MINIDOCK_UPLOAD_CHUNK): PATCH after PATCH with Content-Range; a chunk cut off before any of it landed resumes from the Range the registry holds; one cut after half of it landed (distribution gives that session up) begins again; skopeo reads back the same image', () => {
  ok(['pull', '-q', `${REG}/test/layers:1`]);
  for (const [landed, posts] of [['none', 4], ['half', 5]] as const) {
    const cut = proxy('drop-patch-once', landed);
    try {
      // Through the proxy the registry has another name: nothing to mount from, every blob goes up.
      const name = `${cut.host}/test/chunked-${landed}:1`;
      ok(['tag', `${REG}/test/layers:1`, name]);
      const r = mdk(root, ['push', name], { env: { MINIDOCK_UPLOAD_CHUNK: '262144' } });
      assert.is(r.code, 0, r.stderr);
      const log = cut.log();
      assert.ok(log.includes('dropped'), 'a chunk was cut off');
      const up = `/v2/test/chunked-${landed}/blobs/uploads/`;
      const patches = log.filter((l) => l.startsWith(`PATCH ${up}`)).length;
      assert.ok(patches >= 4, `several chunks (${patches})`);
      assert.is(log.filter((l) => l.startsWith(`GET ${up}`)).length, 1, 'the upload status asked once, after the cut');
      assert.is(log.filter((l) => l.startsWith(`POST ${up}`)).length, posts, `${landed}: a session per blob (the config too), and one more when the registry gave one up`);
      const digest = /^1: digest: (sha256:[0-9a-f]{64}) size: \d+$/m.exec(r.stdout)?.[1];
      assert.is((JSON.parse(skopeo(['inspect', '--tls-verify=false', `docker://${REG}/test/chunked-${landed}:1`])) as { Digest: string }).Digest, digest);
      const other = newRoot('registry-chunked');
      try {
        assert.is(mdk(other, ['pull', '-q', `${REG}/test/chunked-${landed}:1`]).code, 0);
        assert.is(mdk(other, ['images', '-q', '--no-trunc']).stdout, `sha256:${layout.id}\n`);
      } finally {
        removeRoot(other);
      }
      ok(['rmi', name]);
    } finally {
      cut.stop();
    }
  }
  const bad = mdk(root, ['push', `${REG}/test/layers:1`], { env: { MINIDOCK_UPLOAD_CHUNK: '5M' } });
  assert.is(bad.code, 1);
  assert.match(bad.stderr, /^minidock: MINIDOCK_UPLOAD_CHUNK="5M" is no size \(give bytes/);
  ok(['rmi', `${REG}/test/layers:1`]);
  nothingStored();
});

T('two pulls at once of images sharing layers: each shared layer is downloaded once, and both succeed', async () => {
  const log = proxy('pass', '-');
  try {
    const a = mdkSpawn(root, ['pull', '-q', `${log.host}/test/layers:1`]);
    const b = mdkSpawn(root, ['pull', '-q', `${log.host}/test/multi:1`]);
    const done = (p: typeof a): Promise<number> => new Promise((resolve) => p.on('close', (code) => resolve(code ?? -1)));
    assert.equal(await Promise.all([done(a), done(b)]), [0, 0]);
    const idx = JSON.parse(skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${REG}/test/multi:1`])) as { manifests: Array<{ digest: string; platform: { architecture: string } }> };
    const amd = idx.manifests.find((m) => m.platform.architecture === 'amd64')!.digest;
    const wanted = new Set([...layerDigests('test/layers:1'), ...layerDigests(`test/multi@${amd}`)]);
    const gets = log.log().filter((l) => /^GET \/v2\/.*\/blobs\//.test(l)).map((l) => l.slice(l.lastIndexOf('/') + 1)).filter((d) => wanted.has(d));
    // Three chains in all (busybox and l2 shared, l3 layers:1's own); the blob digests of the
    // shared ones are the same in both repositories (skopeo compressed the same tars alike).
    assert.is(gets.length, 3, gets.join(' '));
    assert.is(new Set(gets).size, 3);
    ok(['image', 'prune', '-a', '-f']);
    nothingStored();
  } finally {
    log.stop();
  }
});

T('pull -a: every tag, the tag list followed page after page (Link rel="next"), one Status line for the repository; a tag with -a is refused', () => {
  const raw = join(work, 'many.json');
  writeFileSync(raw, skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${REG}/test/layers:1`]));
  // The blobs into the repository once (a manifest may name only blobs it has), then tags.
  skopeo(['copy', '--quiet', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${REG}/test/layers:1`, `docker://${REG}/test/many:e`]);
  for (const t of ['a', 'c', 'b', 'd']) {
    const put = spawnSync('nsenter', [netns, 'curl', '-sf', '-X', 'PUT', '-H', 'content-type: application/vnd.oci.image.manifest.v1+json', '--data-binary', `@${raw}`, `http://${REG}/v2/test/many/manifests/${t}`]);
    assert.is(put.status, 0, `PUT tag ${t}`);
  }
  const pages = proxy('paginate', '2');
  try {
    const out = ok(['pull', '-a', `${pages.host}/test/many`]).split('\n');
    assert.equal(out.filter((l) => l.endsWith(': Pulling from test/many')), ['a', 'b', 'c', 'd', 'e'].map((t) => `${t}: Pulling from test/many`));
    assert.equal(out.filter((l) => l.startsWith('Status: ')), [`Status: Downloaded newer image for ${pages.host}/test/many`]);
    assert.is(out.filter((l) => l.startsWith('Digest: ')).length, 5);
    assert.is(out.at(-2), `${pages.host}/test/many`);
    assert.is(pages.log().filter((l) => l.startsWith('GET /v2/test/many/tags/list')).length, 3, 'three pages of two');
    const rows = ok(['images', `${pages.host}/test/many`]).trim().split('\n').slice(1).map((l) => l.split(/\s+/));
    assert.equal(rows.map((r) => `${r[0]}:${r[1]}`).sort(), ['a', 'b', 'c', 'd', 'e'].map((t) => `${pages.host}/test/many:${t}`));
    assert.is(ok(['pull', '-a', '-q', `${pages.host}/test/many`]), `${pages.host}/test/many\n`);
    const again = ok(['pull', '-a', `${pages.host}/test/many`]);
    assert.match(again, new RegExp(`Status: Image is up to date for ${pages.host.replace(/\./g, '\\.')}/test/many\n`));
    const tagged = mdk(root, ['pull', '-a', `${pages.host}/test/many:a`]);
    assert.is(tagged.code, 1);
    assert.match(tagged.stderr, /^minidock: tag can't be used with --all-tags\/-a: .*\(minidock pull -a .*\/test\/many\)\n$/);
    ok(['rmi', ...['a', 'b', 'c', 'd', 'e'].map((t) => `${pages.host}/test/many:${t}`)]);
    nothingStored();
  } finally {
    pages.stop();
  }
});

T('a 404 and a refused connection: one line each, nothing stored', () => {
  const missing = mdk(root, ['pull', `${REG}/test/nothing:1`]);
  assert.is(missing.code, 1);
  assert.match(missing.stderr, /manifest 1 not found: manifest unknown, or the repository test\/nothing does not exist or may require 'minidock login'\n$/);
  assert.is(missing.stderr.trim().split('\n').length, 1);
  registry.kill('SIGTERM');
  spawnSync('sleep', ['0.3']);
  const refused = mdk(root, ['pull', `${REG}/test/layers:1`]);
  assert.is(refused.code, 1);
  assert.match(refused.stderr, new RegExp(`connection refused by ${REG.replace(/\./g, '\\.')} \\(is the registry running on that port\\?\\)\\n$`));
  assert.equal(layers(), []);
  assert.equal(readdirSync(join(root, 'tmp')), []);
  registry = spawn('nsenter', [netns, '/usr/bin/docker-registry', 'serve', join(work, 'config.yml')], { stdio: ['ignore', 'ignore', 'pipe'] });
  waitUp();
});

R.run();
