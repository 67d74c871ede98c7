// `minidock images`, `import` and `rmi`.
import { formatForUser } from '../core/errors.js';
import { ImageStore } from '../image/store.js';
import { applyChanges } from '../spec/image-change.js';
import { parseImageRef } from '../spec/image-ref.js';
import { createdText, humanSize, renderTable } from '../runtime/format.js';
import { StateStore } from '../runtime/state.js';

export function imagesCommand(root: string, repo: string | undefined, o: { quiet: boolean; noTrunc: boolean }): string {
  const store = new ImageStore(root);
  const now = Date.now();
  const id = (full: string): string => (o.noTrunc ? `sha256:${full}` : full.slice(0, 12));
  const rows: string[][] = [];
  for (const img of store.list().sort((a, b) => b.created - a.created)) {
    const tags = img.tags.length ? img.tags.map((t) => parseImageRef(t)) : [{ name: '<none>', tag: '<none>' }];
    for (const t of tags) {
      if (repo !== undefined && t.name !== repo) continue;
      rows.push([t.name, t.tag, id(img.id), createdText(img.created, now), humanSize(img.size)]);
    }
  }
  if (o.quiet) return [...new Set(rows.map((r) => r[2]))].map((r) => r + '\n').join('');
  return renderTable(['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE'], rows);
}

export async function importCommand(root: string, source: string, name: string | undefined, changes: string[]): Promise<string> {
  const config = applyChanges({}, changes);
  const meta = await new ImageStore(root).import(source, name, config);
  return `sha256:${meta.id}\n`;
}

export async function rmiCommand(root: string, refs: string[]): Promise<number> {
  const images = new ImageStore(root);
  const containers = new StateStore(root);
  const inUse = (id: string): string | undefined => containers.list().find((c) => c.spec?.image.id === id)?.id;
  let failed = false;
  for (const ref of refs) {
    try {
      const r = images.remove(ref, inUse);
      for (const t of r.untagged) process.stdout.write(`Untagged: ${t}\n`);
      if (r.deleted) process.stdout.write(`Deleted: sha256:${r.deleted}\n`);
    } catch (err) {
      failed = true;
      process.stderr.write(formatForUser(err) + '\n');
    }
  }
  return failed ? 1 : 0;
}
