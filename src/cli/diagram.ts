// `minidock network diagram [--svg FILE]` and `minidock inspect --net NAME`: gathers what the
// picture shows (the state store, `iptables-save -c`, `ip -j addr`, and each container's eth0
// read inside its network namespace) and hands it to the pure renderers in network/diagram.ts.
import { writeFileSync } from 'node:fs';
import { MinidockError } from '../core/errors.js';
import { StateStore } from '../runtime/state.js';
import { isSameProcess } from '../runtime/proc.js';
import { NetworkStore } from '../network/store.js';
import { check, realRunner } from '../network/runner.js';
import { parseSave } from '../network/counters.js';
import { buildDiagram, onlyContainer, renderSvg, renderText, type DiagramInputs, type IpLink } from '../network/diagram.js';

const json = <T>(text: string, fallback: T): T => {
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
};

/** eth0 as the container sees it: `ip` run in the container's network namespace only (its
 *  mount namespace stays the host's, so it is the host's `ip` binary that runs). */
async function containerEth0(pid: number, pidStart: number | undefined): Promise<IpLink | undefined> {
  if (pidStart === undefined || !isSameProcess(pid, pidStart)) return undefined;
  const r = await realRunner.run('nsenter', [`--net=/proc/${pid}/ns/net`, 'ip', '-j', 'addr', 'show', 'dev', 'eth0']);
  return r.code === 0 ? json<IpLink[]>(r.stdout, [])[0] : undefined;
}

export async function gatherDiagram(root: string): Promise<DiagramInputs> {
  const store = new StateStore(root);
  const save = parseSave(await check(realRunner, 'diagram.iptables-save', 'iptables-save', ['-c']));
  const links = json<IpLink[]>(await check(realRunner, 'diagram.ip', 'ip', ['-j', 'addr']), []);
  const route = json<Array<{ dev: string; gateway?: string }>>((await realRunner.run('ip', ['-j', 'route', 'show', 'default'])).stdout, [])[0];
  const containers: DiagramInputs['containers'] = [];
  for (const rec of store.list()) {
    const st = rec.state;
    if (!rec.spec || st?.status !== 'running' || !st.net) continue;
    containers.push({
      id: rec.id,
      name: rec.spec.name,
      pid: st.pid,
      status: st.status,
      attachment: st.net.attachment,
      eth0: st.pid ? await containerEth0(st.pid, st.pidStart) : undefined,
    });
  }
  return {
    save,
    links,
    defaultRoute: route?.dev ? { dev: route.dev, gateway: route.gateway } : undefined,
    networks: new NetworkStore(root).list().sort((a, b) => a.name.localeCompare(b.name)),
    containers: containers.sort((a, b) => a.name.localeCompare(b.name)),
  };
}

/** Prints the diagram; with `svg`, also writes it as SVG to that file (`-`: SVG on stdout instead). */
export async function diagramCommand(root: string, o: { svg?: string; container?: string }): Promise<void> {
  let model = buildDiagram(await gatherDiagram(root));
  if (o.container !== undefined) {
    const rec = new StateStore(root).resolve(o.container);
    if (rec.state?.status !== 'running' || !rec.state.net) {
      throw new MinidockError(`container ${o.container} has no network of its own to draw`, {
        step: 'diagram', hint: 'only a running container on a bridge network has a veth, an address and ports', exitCode: 1,
      });
    }
    model = onlyContainer(model, rec.id);
  }
  if (o.svg === '-') {
    process.stdout.write(renderSvg(model));
    return;
  }
  process.stdout.write(renderText(model));
  if (o.svg !== undefined) {
    writeFileSync(o.svg, renderSvg(model));
    // On stderr, so that stdout stays the drawing alone.
    process.stderr.write(`SVG written to ${o.svg}: open it in a browser, hover a rule to see it whole\n`);
  }
}
