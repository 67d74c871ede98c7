// Drives bin/minidock-runc.js against a test-private state root, with busybox bundles made from
// `minidock-runc spec`. Shared by the OCI integration tests.
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUSYBOX_TAR, REPO, sh } from './cli.js';

export const RUNC = join(REPO, 'bin/minidock-runc.js');

export interface Runc {
  (args: string[]): { code: number; stdout: string; stderr: string };
  list(): string[];
}

/** One minidock-runc per call, `--root STATE`. Its output goes through files, not pipes: the
 *  container inherits create's stdout and stderr (as runc's does), and a pipe would stay open
 *  until the container exits. */
export function runcIn(work: string): Runc {
  const state = join(work, 'state');
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS; // ~100 ms per start on these machines, irrelevant to behaviour
  const runc = ((args: string[]) => {
    const out = join(work, 'runc.out');
    const err = join(work, 'runc.err');
    const fds = [openSync(out, 'w'), openSync(err, 'w')];
    try {
      const r = spawnSync(process.execPath, [RUNC, '--root', state, ...args], { stdio: ['ignore', fds[0]!, fds[1]!], env, timeout: 30_000 });
      return { code: r.status ?? 255, stdout: readFileSync(out, 'utf8'), stderr: readFileSync(err, 'utf8') };
    } finally {
      for (const fd of fds) closeSync(fd);
    }
  }) as Runc;
  runc.list = () => runc(['list', '-q']).stdout.split('\n').filter(Boolean);
  return runc;
}

/** A busybox bundle in WORK/NAME whose config is `minidock-runc spec`'s (runc's) with `edit`
 *  applied. The command's output goes to out/log in the bundle (the container's stdout would be
 *  the test runner's), a directory any uid may write. `extra` runs in the bundle directory
 *  after the rootfs is unpacked (a marker file, say). */
export function ociBundle(work: string, name: string, script: string, edit: (c: any) => void = () => {}, extra = ''): string {
  const dir = join(work, name);
  mkdirSync(join(dir, 'rootfs'), { recursive: true });
  sh(`tar -xf ${BUSYBOX_TAR} -C ${dir}/rootfs && mkdir -p ${dir}/rootfs/out ${dir}/out && chmod 0777 ${dir}/out${extra ? ` && cd ${dir} && ${extra}` : ''}`);
  assert.is(spawnSync(process.execPath, [RUNC, 'spec', '--bundle', dir]).status, 0);
  const c = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  c.process.terminal = false;
  c.root.readonly = false;
  c.mounts.push({ destination: '/out', type: 'bind', source: join(dir, 'out'), options: ['rbind', 'rw'] });
  c.process.args = ['sh', '-c', `exec >/out/log 2>&1; ${script}`];
  edit(c);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(c, null, 1));
  return dir;
}

/**
 * A console-socket receiver as conmon is one (python3: Node cannot take a descriptor off a unix
 * socket): it listens on `sock`, takes the pty master sent with SCM_RIGHTS, and reads the
 * terminal until `until` appears. `ready` resolves once it listens; `done` with what it saw:
 * "name <pty> <descriptors>" and the terminal's text.
 */
export function consoleReceiver(sock: string, until: string): { ready: Promise<void>; done: Promise<string> } {
  const receiver = spawn('python3', ['-c', `
import socket, os, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.bind(${JSON.stringify(sock)}); s.listen(1)
print('listening', flush=True)
c, _ = s.accept()
msg, fds, _, _ = socket.recv_fds(c, 1024, 1)
print('name', msg.decode(), len(fds), flush=True)
out, end = b'', time.time() + 10
while time.time() < end and ${JSON.stringify(until)}.encode() not in out:
    try: d = os.read(fds[0], 1024)
    except OSError: break
    if not d: break
    out += d
print(out.decode(errors='replace'), flush=True)
`], { stdio: ['ignore', 'pipe', 'inherit'] });
  let said = '';
  let listening: () => void;
  const ready = new Promise<void>((r) => (listening = r));
  receiver.stdout.on('data', (d) => {
    said += d;
    if (said.includes('listening')) listening();
  });
  const done = new Promise<string>((r) => receiver.on('close', () => r(said)));
  return { ready, done };
}

/** Ended: gone from /proc, or a zombie. create exited, so the container's process was
 *  re-parented to this machine's PID 1 (or a subreaper), which reaps it in its own time; a zombie
 *  holds no root, cwd or mount any more. Waits up to 5 s. */
export async function ended(pid: number): Promise<boolean> {
  for (let i = 0; i < 200; i++) {
    try {
      if (/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))) return true;
    } catch {
      return true;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return false;
}

/** A file only this bundle's root has at its top (ociBundle's `extra` makes it): a process that
 *  sees it through /proc/PID/root is rooted in the bundle, whatever path its root shows. */
export const bundleMarker = (name: string): string => `.mdk-oci-${name}-${process.pid}`;

/** Processes whose cwd or root is in the bundle DIR (by path, or by NAME's marker at their root). */
export function processesIn(dir: string, name: string): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const paths = ['cwd', 'root'].map((l) => readlinkSync(`/proc/${e}/${l}`));
      if (paths.some((p) => p.startsWith(dir)) || existsSync(`/proc/${e}/root/${bundleMarker(name)}`)) out.push(Number(e));
    } catch { /* gone, or a kernel thread */ }
  }
  return out;
}

/** Runs ARGV under script(1), which gives it a terminal of its own (as a user's would), waits
 *  for the shell's "# " prompt, types `line` and a carriage return, and resolves with the exit
 *  status and everything the terminal showed. For clients' -it/-t runs (podman, ctr). */
export async function typedAtPrompt(argv: string[], line: string, env: NodeJS.ProcessEnv): Promise<{ code: number; seen: string }> {
  const cmd = argv.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const p = spawn('script', ['-qfec', cmd, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'inherit'] });
  let seen = '';
  p.stdout.on('data', (d) => (seen += d));
  const closed = new Promise<number>((r) => p.on('close', (code) => r(code ?? 255)));
  for (let i = 0; i < 200 && !seen.includes('# '); i++) await new Promise((r) => setTimeout(r, 25));
  p.stdin.write(`${line}\r`);
  return { code: await closed, seen };
}
