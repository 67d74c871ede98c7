// --explain on a real run: the same text as --dry-run --explain, read off the plans the run
// carried out (with the real pid and address), on stderr so the command's output stays clean.
// The CLI hands this to the runtime (RunOptions.explain), which never imports the explainer.
import { readFileSync } from 'node:fs';
import type { RanContainer } from '../runtime/run.js';
import { ImageStore } from '../image/store.js';
import { explain, explainNet } from './steps.js';

export async function explainRun(r: RanContainer): Promise<void> {
  let net;
  if (r.net.leased) {
    const { NetworkStore } = await import('../network/store.js');
    const config = new NetworkStore(r.root, r.api.flock).get(r.net.leased.attachment.network);
    if (config) net = explainNet(config, r.net.leased.attachment, r.pid, !r.net.leased.bridgeCreated);
  }
  const files = [r.paths.hostname, r.paths.hosts, r.paths.resolvConf].map((path) => ({ path, content: readFileSync(path, 'utf8') }));
  const layers = r.spec.image.layers && r.spec.image.id ? new ImageStore(r.root).layerStack(r.spec.image.id) : undefined;
  process.stderr.write(explain({ spec: r.spec, child: r.child, config: r.config(), files, root: r.root, pid: r.pid, cgroup: r.cgroups, ...(net ? { net } : {}), ...(layers ? { layers } : {}) }));
}
