// How many bytes a directory tree holds: a container's writable layer (ps -s, system df,
// container prune) or a volume. Side-effecting (reads the tree).
import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** The bytes of the files under `dir` (a hard link counted once), 0 when it is not there. */
export function treeBytes(dir: string): number {
  const seen = new Set<string>();
  let total = 0;
  const walk = (d: string): void => {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      return;
    }
    for (const n of names) {
      const p = join(d, n);
      const st = lstatSync(p, { throwIfNoEntry: false });
      if (!st) continue;
      if (st.isDirectory()) walk(p);
      else if (!seen.has(`${st.dev}:${st.ino}`)) {
        seen.add(`${st.dev}:${st.ino}`);
        total += st.size;
      }
    }
  };
  walk(dir);
  return total;
}
