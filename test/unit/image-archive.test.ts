// Unit tests for src/image/archive.ts and src/image/whiteout.ts: both archive formats as the
// tools write them, every malformed and hostile case the issue lists, and whiteouts both ways.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MinidockError } from '../../src/core/errors.js';
import {
  MAX_JSON_BYTES, archiveKind, checkCompression, hostPlatform, layerCompression, memberPath, parseDockerArchive, parseOciLayout, platformFits, type ArchiveReader,
} from '../../src/image/archive.js';
import { classifyEntry, upperToLayer } from '../../src/image/whiteout.js';

const hex = (c: string): string => c.repeat(64).slice(0, 64);
const D = (c: string): string => `sha256:${hex(c)}`;
const AMD64 = { os: 'linux', architecture: 'amd64' };

/** An archive as a map of members: strings are JSON or text, numbers a blob of that size. */
function reader(members: Record<string, string | number | object>): ArchiveReader {
  const text = (m: string): string | undefined => {
    const v = members[m];
    return v === undefined ? undefined : typeof v === 'string' ? v : typeof v === 'number' ? '' : JSON.stringify(v);
  };
  return {
    has: (m) => m in members,
    read: text,
    size: (m) => (m in members ? (typeof members[m] === 'number' ? (members[m] as number) : Buffer.byteLength(text(m)!)) : undefined),
  };
}

const refused = (f: () => unknown, re: RegExp): void => {
  assert.throws(f, (e: unknown) => e instanceof MinidockError && re.test(e.message) && e.exitCode === 1 && !e.message.includes('\n'), `expected ${re}`);
};

// ---------------------------------------------------------------- docker-archive

const dockerSave = (): Record<string, string | number | object> => ({
  'manifest.json': [{ Config: `${hex('c')}.json`, RepoTags: ['web:1', 'web:latest'], Layers: [`${hex('1')}/layer.tar`, `${hex('2')}/layer.tar`] }],
  repositories: { web: { 1: hex('2') } },
  [`${hex('c')}.json`]: { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [D('a'), D('b')] } },
  [`${hex('1')}/layer.tar`]: 10240,
  [`${hex('2')}/layer.tar`]: 2048,
});

test('docker-archive (docker save 20.10 / podman save): config, layers in order, tags', () => {
  const r = reader(dockerSave());
  assert.is(archiveKind(r), 'docker');
  assert.equal(parseDockerArchive(r), [{
    configPath: `${hex('c')}.json`,
    configDigest: D('c'),
    layers: [{ path: `${hex('1')}/layer.tar`, compression: 'none' }, { path: `${hex('2')}/layer.tar`, compression: 'none' }],
    tags: ['web:1', 'web:latest'],
  }]);
});

test('docker-archive of docker >= 25: blobs by digest, which states what the bytes must hash to', () => {
  const r = reader({
    'manifest.json': [{ Config: `blobs/sha256/${hex('c')}`, RepoTags: null, Layers: [`blobs/sha256/${hex('1')}`] }],
    [`blobs/sha256/${hex('c')}`]: {},
    [`blobs/sha256/${hex('1')}`]: 100,
  });
  const [img] = parseDockerArchive(r);
  assert.is(img!.configDigest, D('c'));
  assert.equal(img!.layers, [{ path: `blobs/sha256/${hex('1')}`, compression: 'none', digest: D('1') }]);
  assert.equal(img!.tags, [], 'RepoTags null: loaded by id');
});

test('docker-archive: hostile and malformed manifests get one line each', () => {
  const with_ = (edit: (m: Record<string, unknown>) => void, extra: Record<string, string | number | object> = {}) => {
    const members = dockerSave();
    const entry = (members['manifest.json'] as Array<Record<string, unknown>>)[0]!;
    edit(entry);
    return reader({ ...members, ...extra });
  };
  refused(() => parseDockerArchive(with_((e) => { e.Layers = ['../../etc/passwd']; })), /points outside the archive/);
  refused(() => parseDockerArchive(with_((e) => { e.Layers = ['/abs/layer.tar']; })), /points outside the archive/);
  refused(() => parseDockerArchive(with_((e) => { e.Layers = [`${hex('9')}/layer.tar`]; })), /Layers\[0\] names .* which is not in the archive/);
  refused(() => parseDockerArchive(with_((e) => { e.Config = 'missing.json'; })), /Config names missing.json, which is not in the archive/);
  refused(() => parseDockerArchive(with_((e) => { e.Layers = 'x'; })), /Layers is not a list/);
  refused(() => parseDockerArchive(with_((e) => { e.RepoTags = [7]; })), /RepoTags is not a list of names/);
  refused(() => parseDockerArchive(reader({ 'manifest.json': '[]' })), /lists no image/);
  refused(() => parseDockerArchive(reader({ 'manifest.json': '{not json' })), /manifest.json is not JSON/);
  refused(() => parseDockerArchive(reader({ 'manifest.json': MAX_JSON_BYTES + 1 })), /more than any real one/);
  refused(() => parseDockerArchive(with_(() => {}, { [`${hex('c')}.json`]: 10 * 1024 ** 3 })), /Config .* is 10737418240 bytes, more than any real one/);
  refused(() => archiveKind(reader({ 'hello.txt': 'x' })), /neither manifest.json/);
});

// ---------------------------------------------------------------- OCI layout

/** An OCI layout as umoci or skopeo write it: index → (optional image index) → manifest. */
function ociLayout(o: { nested?: boolean; layerType?: string; tag?: string; configBytes?: number } = {}): Record<string, string | number | object> {
  const config = { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [D('a')] } };
  const manifest = {
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: D('c'), size: o.configBytes ?? JSON.stringify(config).length },
    layers: [
      { mediaType: o.layerType ?? 'application/vnd.oci.image.layer.v1.tar+gzip', digest: D('1'), size: 300 },
      { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: D('2'), size: 200 },
    ],
  };
  const members: Record<string, string | number | object> = {
    'oci-layout': { imageLayoutVersion: '1.0.0' },
    [`blobs/sha256/${hex('c')}`]: o.configBytes ?? config,
    [`blobs/sha256/${hex('d')}`]: manifest,
    [`blobs/sha256/${hex('1')}`]: 300,
    [`blobs/sha256/${hex('2')}`]: 200,
  };
  const top = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: D('d'), size: JSON.stringify(manifest).length, annotations: { 'org.opencontainers.image.ref.name': o.tag ?? 'web:1' } };
  if (o.nested) {
    const idx = {
      schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: D('e'), size: 10, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
        { ...top, annotations: undefined, platform: { os: 'linux', architecture: 'amd64' } },
      ],
    };
    members[`blobs/sha256/${hex('e')}`] = 10;
    members[`blobs/sha256/${hex('f')}`] = idx;
    members['index.json'] = { schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.index.v1+json', digest: D('f'), size: JSON.stringify(idx).length, annotations: top.annotations }] };
  } else {
    members['index.json'] = { schemaVersion: 2, manifests: [top] };
  }
  return members;
}

test('OCI layout with a single manifest: config, layers with their compression and digests, the ref.name tag', () => {
  const r = reader(ociLayout());
  assert.is(archiveKind(r), 'oci');
  assert.equal(parseOciLayout(r, AMD64), [{
    configPath: `blobs/sha256/${hex('c')}`, configDigest: D('c'),
    layers: [
      { path: `blobs/sha256/${hex('1')}`, compression: 'gzip', digest: D('1') },
      { path: `blobs/sha256/${hex('2')}`, compression: 'none', digest: D('2') },
    ],
    tags: ['web:1'],
  }]);
});

test('OCI layout with an image index: the host\'s platform is picked, the tag from the top entry', () => {
  const imgs = parseOciLayout(reader(ociLayout({ nested: true })), AMD64);
  assert.is(imgs.length, 1);
  assert.is(imgs[0]!.configDigest, D('c'));
  assert.equal(imgs[0]!.tags, ['web:1']);
  refused(() => parseOciLayout(reader(ociLayout({ nested: true })), { os: 'linux', architecture: 's390x' }), /has no image for linux\/s390x \(it has: linux\/arm64\/v8, linux\/amd64\)/);
});

test('OCI layout: an index that contains itself, a missing blob, a wrong size, a bad digest, a non-layer, zstd', () => {
  const loop = ociLayout({ nested: true });
  const idx = loop[`blobs/sha256/${hex('f')}`] as { manifests: Array<Record<string, unknown>> };
  idx.manifests = [{ mediaType: 'application/vnd.oci.image.index.v1+json', digest: D('f'), platform: AMD64 }];
  (loop['index.json'] as { manifests: Array<Record<string, unknown>> }).manifests[0]!.size = JSON.stringify(idx).length;
  refused(() => parseOciLayout(reader(loop), AMD64), /leads back to index sha256:f+, which contains it/);

  const missing = ociLayout();
  delete missing[`blobs/sha256/${hex('2')}`];
  refused(() => parseOciLayout(reader(missing), AMD64), /layers\[1\] names blob sha256:2+, which is not in the archive/);

  const size = ociLayout();
  size[`blobs/sha256/${hex('1')}`] = 299;
  refused(() => parseOciLayout(reader(size), AMD64), /says 300 bytes, but blob sha256:1+ has 299/);

  const digest = ociLayout();
  (digest['index.json'] as { manifests: Array<Record<string, unknown>> }).manifests[0]!.digest = 'sha256:../../../etc/passwd';
  refused(() => parseOciLayout(reader(digest), AMD64), /is not a sha256 digest/);
  (digest['index.json'] as { manifests: Array<Record<string, unknown>> }).manifests[0]!.digest = `sha512:${'a'.repeat(128)}`;
  refused(() => parseOciLayout(reader(digest), AMD64), /is not a sha256 digest/);

  refused(() => parseOciLayout(reader(ociLayout({ layerType: 'text/html' })), AMD64), /media type "text\/html", which is no image layer/);
  const z = parseOciLayout(reader(ociLayout({ layerType: 'application/vnd.oci.image.layer.v1.tar+zstd' })), AMD64);
  refused(() => checkCompression(z, false), /layer sha256:1+ is zstd-compressed, and this host has no zstd/);
  checkCompression(z, true);

  // "A 10 GB config", its size stated honestly: refused before it is read.
  refused(() => parseOciLayout(reader(ociLayout({ configBytes: 10 * 1024 ** 3 })), AMD64), /is 10737418240 bytes, more than any real one/);

  const version = ociLayout();
  version['oci-layout'] = { imageLayoutVersion: '2.0.0' };
  refused(() => parseOciLayout(reader(version), AMD64), /version "2.0.0" is not 1.x/);
});

test('OCI layout: one image under two tags is one image with both', () => {
  const two = ociLayout();
  const idx = two['index.json'] as { manifests: Array<Record<string, unknown>> };
  idx.manifests.push({ ...idx.manifests[0]!, annotations: { 'io.containerd.image.name': 'docker.io/library/web:2' } });
  const imgs = parseOciLayout(reader(two), AMD64);
  assert.is(imgs.length, 1);
  assert.equal(imgs[0]!.tags, ['web:1', 'docker.io/library/web:2']);
});

test('member names and media types', () => {
  assert.is(memberPath('./a/b/../layer.tar', 'x'), 'a/layer.tar');
  for (const bad of ['', '..', '../x', '/etc', 'a/../../x', 'a\0b', 7]) refused(() => memberPath(bad, 'x'), /x .*|x is not a file name/);
  assert.is(layerCompression('application/vnd.docker.image.rootfs.diff.tar.gzip', 'l'), 'gzip');
  assert.is(layerCompression('application/vnd.oci.image.layer.v1.tar', 'l'), 'none');
  assert.equal(hostPlatform('x64'), AMD64);
  assert.ok(platformFits(undefined, AMD64));
  assert.ok(platformFits({ os: 'linux', architecture: 'amd64', variant: 'v2' }, AMD64));
  assert.not.ok(platformFits({ os: 'windows', architecture: 'amd64' }, AMD64));
  assert.not.ok(platformFits({ os: 'linux', architecture: 'arm64', variant: 'v8' }, { os: 'linux', architecture: 'arm64', variant: 'v9' }));
});

// ---------------------------------------------------------------- whiteouts

test('OCI whiteouts become overlay\'s: .wh.NAME deletes NAME, .wh..wh..opq makes the directory opaque', () => {
  assert.equal(classifyEntry('etc/passwd'), { kind: 'plain', path: 'etc/passwd' });
  assert.equal(classifyEntry('./etc/.wh.shadow'), { kind: 'whiteout', path: 'etc/shadow' });
  assert.equal(classifyEntry('.wh.tmp'), { kind: 'whiteout', path: 'tmp' });
  assert.equal(classifyEntry('usr/share/doc/.wh..wh..opq'), { kind: 'opaque', dir: 'usr/share/doc' });
  assert.equal(classifyEntry('.wh..wh..opq'), { kind: 'opaque', dir: '' });
  assert.equal(classifyEntry('a/.wh..wh.plnk/123'), { kind: 'plain', path: 'a/.wh..wh.plnk/123' });
  assert.equal(classifyEntry('a/.wh..wh.aufs'), { kind: 'skip', path: 'a/.wh..wh.aufs' });
  // Nothing after the prefix, or "." / "..": it would delete the directory or its parent.
  for (const bad of ['a/.wh.', 'a/.wh..', 'a/.wh...']) refused(() => classifyEntry(bad), /is a whiteout of nothing/);
});

test('overlay\'s whiteouts become OCI\'s for commit; a real .wh. file is refused', () => {
  assert.equal(upperToLayer('etc/shadow', { charDev00: true }), { kind: 'whiteout', member: 'etc/.wh.shadow' });
  assert.equal(upperToLayer('tmp', { charDev00: true }), { kind: 'whiteout', member: '.wh.tmp' });
  assert.equal(upperToLayer('usr/share/doc', { dir: true, opaque: true }), { kind: 'opaque', path: 'usr/share/doc', marker: 'usr/share/doc/.wh..wh..opq' });
  assert.equal(upperToLayer('srv/data', { dir: true }), { kind: 'plain', path: 'srv/data' });
  refused(() => upperToLayer('srv/.wh.trick', {}), /reserved for whiteouts/);
  // Round trip: what commit writes, unpack reads back as the same deletion.
  const w = upperToLayer('var/log/old', { charDev00: true });
  assert.equal(classifyEntry((w as { member: string }).member), { kind: 'whiteout', path: 'var/log/old' });
  const o = upperToLayer('opt/app', { dir: true, opaque: true });
  assert.equal(classifyEntry((o as { marker: string }).marker), { kind: 'opaque', dir: 'opt/app' });
});

test.run();
