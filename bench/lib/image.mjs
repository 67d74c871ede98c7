// Turning the sample image tarball into a root filesystem for the OCI
// bundles.  Three layouts are understood, so the bench does not depend on
// how images/busybox/build packs it:
//   rootfs         a plain filesystem tarball (what `docker export` makes)
//   docker-archive `docker save` output: manifest.json + layer tarballs
//   oci-layout     an OCI image layout: oci-layout + index.json + blobs/
// Extraction uses the system tar (it detects gzip/zstd layers by itself).

import fs from 'node:fs';
import path from 'node:path';

function entries(tarFile, sh) {
  const r = sh('tar', ['-tf', tarFile]);
  if (!r.ok) throw new Error(`tar -tf ${tarFile}: ${r.stderr.trim().split('\n')[0]}`);
  return r.stdout.split('\n').filter(Boolean).map((e) => e.replace(/^(\.\/)+/, ''));
}

export function imageKind(tarFile, sh) {
  const names = new Set(entries(tarFile, sh));
  if (names.has('oci-layout') && names.has('index.json')) return 'oci-layout';
  if (names.has('manifest.json')) return 'docker-archive';
  return 'rootfs';
}

function untar(tarFile, dir, sh, extra = []) {
  fs.mkdirSync(dir, { recursive: true });
  const r = sh('tar', ['-xf', tarFile, '-C', dir, '--numeric-owner', ...extra]);
  if (!r.ok) throw new Error(`tar -xf ${tarFile}: ${r.stderr.trim().split('\n')[0]}`);
}

function inside(root, rel) {
  const p = path.resolve(root, rel);
  return p === root || p.startsWith(root + path.sep) ? p : null;
}

// Apply one layer: whiteouts first (.wh.NAME deletes NAME, .wh..wh..opq
// empties its directory), then everything else.
function applyLayer(layer, rootfs, sh) {
  for (const e of entries(layer, sh)) {
    const base = path.posix.basename(e.replace(/\/$/, ''));
    if (!base.startsWith('.wh.')) continue;
    const dir = path.posix.dirname(e);
    if (base === '.wh..wh..opq') {
      const d = inside(rootfs, dir);
      if (d && fs.existsSync(d)) for (const child of fs.readdirSync(d)) fs.rmSync(path.join(d, child), { recursive: true, force: true });
    } else {
      const victim = inside(rootfs, path.posix.join(dir, base.slice(4)));
      if (victim && victim !== rootfs) fs.rmSync(victim, { recursive: true, force: true });
    }
  }
  untar(layer, rootfs, sh, ['--exclude=.wh.*']);
}

function blob(dir, digest) {
  const [alg, hex] = String(digest).split(':');
  const p = inside(dir, path.join('blobs', alg, hex));
  if (!p || !fs.existsSync(p)) throw new Error(`blob ${digest} missing from the OCI layout`);
  return p;
}

function ociLayers(dir) {
  const pick = (list) => list.find((m) => m.platform && m.platform.os === 'linux' && m.platform.architecture === 'amd64') || list[0];
  let doc = JSON.parse(fs.readFileSync(path.join(dir, 'index.json'), 'utf8'));
  for (let depth = 0; depth < 4; depth++) {
    if (Array.isArray(doc.layers)) return doc.layers.map((l) => blob(dir, l.digest));
    if (!Array.isArray(doc.manifests) || doc.manifests.length === 0) break;
    doc = JSON.parse(fs.readFileSync(blob(dir, pick(doc.manifests).digest), 'utf8'));
  }
  throw new Error('no image manifest with layers in index.json');
}

export function extractRootfs(tarFile, kind, rootfs, scratch, sh) {
  fs.mkdirSync(rootfs, { recursive: true });
  if (kind === 'rootfs') { untar(tarFile, rootfs, sh); return; }
  untar(tarFile, scratch, sh);
  let layers;
  if (kind === 'docker-archive') {
    const manifest = JSON.parse(fs.readFileSync(path.join(scratch, 'manifest.json'), 'utf8'));
    if (!Array.isArray(manifest) || !manifest[0] || !Array.isArray(manifest[0].Layers)) throw new Error('manifest.json has no Layers');
    layers = manifest[0].Layers.map((l) => {
      const p = inside(scratch, l);
      if (!p || !fs.existsSync(p)) throw new Error(`layer ${l} missing`);
      return p;
    });
  } else {
    layers = ociLayers(scratch);
  }
  for (const l of layers) applyLayer(l, rootfs, sh);
  fs.rmSync(scratch, { recursive: true, force: true });
}
