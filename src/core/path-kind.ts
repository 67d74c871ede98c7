// What is at a host path, for the OCI planner's HostFacts (src/oci/plan.ts): one stat(2),
// following symlinks as mount(2) will. A missing path is common (docker's masked paths that this
// kernel lacks) and costs no exception; any other failure reads as missing too.
import { statSync } from 'node:fs';

export function pathKind(path: string): 'file' | 'dir' | undefined {
  try {
    const st = statSync(path, { throwIfNoEntry: false });
    return st ? (st.isDirectory() ? 'dir' : 'file') : undefined;
  } catch {
    return undefined;
  }
}
