// `minidock top` and the namespace part of `inspect`: reading a container's processes and
// namespaces from /proc. Side-effecting (reads /proc); the parsers are pure and exported.
//
// A container's processes are every process in PID 1's pid namespace: /proc/PID/ns/pid links to
// the same `pid:[inode]`. docker top instead lists the container's cgroup and runs ps -ef over
// it; minidock shows fewer columns, with both pids:
//
//   PID (host)   CONTAINER PID   PPID   UID   CMD
//   41200        1               41187  0     sh -c sleep 100
//
// PID and PPID are as the host sees them (as in docker top), CONTAINER PID as the container
// does (the last NSpid field), UID is the effective uid as a number. A process in a pid
// namespace nested inside the container's is not listed.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { MinidockError, errnoOf } from '../core/errors.js';
import { renderTable } from './format.js';
import { NAMESPACE_ORDER } from './inspect.js';

export interface ContainerProcess {
  hostPid: number;
  containerPid: number;
  ppid: number;
  uid: number;
  cmd: string;
}

/** `mnt:[4026531841]` → { type: 'mnt', inode: 4026531841 }; undefined for anything else. */
export function parseNsLink(link: string): { type: string; inode: number } | undefined {
  const m = /^([a-z_]+):\[([0-9]+)\]$/.exec(link);
  return m ? { type: m[1] as string, inode: Number(m[2]) } : undefined;
}

/** The namespace inodes of a process (mnt, uts, ipc, pid, net, user, cgroup); a namespace the
 *  kernel does not have or that cannot be read is left out, so a gone process gives {}. */
export function readNamespaceInodes(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const ns of NAMESPACE_ORDER) {
    try {
      const parsed = parseNsLink(readlinkSync(`/proc/${pid}/ns/${ns}`));
      if (parsed) out[ns] = parsed.inode;
    } catch {
      // ENOENT (gone, or no such namespace type on this kernel), EACCES (not ours to read)
    }
  }
  return out;
}

export interface ProcStatus {
  ppid: number;
  /** Effective uid: the second field of `Uid:`. */
  uid: number;
  /** `NSpid:`, outermost namespace first; empty on kernels before 4.1. */
  nspid: number[];
}

/** The fields top needs from /proc/PID/status. */
export function parseProcStatus(text: string): ProcStatus {
  const field = (name: string): number[] => {
    const line = text.split('\n').find((l) => l.startsWith(`${name}:`));
    return line === undefined ? [] : line.slice(name.length + 1).trim().split(/\s+/).filter(Boolean).map(Number);
  };
  return { ppid: field('PPid')[0] ?? 0, uid: field('Uid')[1] ?? field('Uid')[0] ?? 0, nspid: field('NSpid') };
}

/** /proc/PID/cmdline with its NULs as spaces; `[comm]` when empty (a zombie or kernel thread). */
export function commandLine(cmdline: string, comm: string): string {
  const cmd = cmdline.replace(/\0+$/, '').replace(/\0/g, ' ');
  return cmd === '' ? `[${comm.trim()}]` : cmd;
}

/** One row of top from what /proc/PID/{status,cmdline,comm} hold: the container pid is the
 *  innermost (last) NSpid field, 0 on kernels without NSpid. */
export function toContainerProcess(hostPid: number, status: string, cmdline: string, comm: string): ContainerProcess {
  const st = parseProcStatus(status);
  return { hostPid, containerPid: st.nspid[st.nspid.length - 1] ?? 0, ppid: st.ppid, uid: st.uid, cmd: commandLine(cmdline, comm) };
}

/** Every process in `pid1`'s pid namespace, by host pid; for a container in the host's (--pid
 *  host), every process in its mount namespace, which is the container's own. Processes that
 *  end while being read, or that may not be inspected, are skipped. */
export function containerProcesses(pid1: number, ns: 'pid' | 'mnt' = 'pid'): ContainerProcess[] {
  let target: string;
  try {
    target = readlinkSync(`/proc/${pid1}/ns/${ns}`);
  } catch (err) {
    throw new MinidockError(`cannot read the pid namespace of process ${pid1}`, {
      step: 'top.ns',
      errno: errnoOf(err),
      cause: err,
      hint: errnoOf(err) === 'ENOENT' ? 'the container is not running' : undefined,
    });
  }
  const out: ContainerProcess[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(entry)) continue;
    const hostPid = Number(entry);
    try {
      if (readlinkSync(`/proc/${entry}/ns/${ns}`) !== target) continue;
      const status = readFileSync(`/proc/${entry}/status`, 'utf8');
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      const comm = cmdline === '' ? readFileSync(`/proc/${entry}/comm`, 'utf8') : '';
      out.push(toContainerProcess(hostPid, status, cmdline, comm));
    } catch {
      // gone, or not ours to read
    }
  }
  return out.sort((a, b) => a.hostPid - b.hostPid);
}

export function renderTop(procs: ContainerProcess[]): string {
  return renderTable(
    ['PID (host)', 'CONTAINER PID', 'PPID', 'UID', 'CMD'],
    procs.map((p) => [String(p.hostPid), String(p.containerPid), String(p.ppid), String(p.uid), p.cmd]),
  );
}
