// Loads the native addon (native/build/Release/minidock.node) with typed signatures. The only
// file that imports the .node binary; everything else takes a NativeApi so tests can fake it.
import { createRequire } from 'node:module';
import { MinidockError } from '../core/errors.js';

/** The child's failure report: the step that failed, its errno and the path or value involved. */
export interface ChildFailure {
  step: string;
  errno: number;
  code: string;
  message: string;
  detail: string;
}

/** A created, not yet started, container child. */
export interface ChildHandle {
  pid: number;
  pidfd: number;
  gofd: number;
  reportfd: number;
}

export interface WaitResult {
  exitCode: number | null;
  signal: number | null;
}

export interface NativeApi {
  create(plan: Buffer): ChildHandle;
  start(h: ChildHandle): ChildFailure | null;
  abort(h: ChildHandle): void;
  wait(pid: number): Promise<WaitResult>;
  signal(pidfd: number, sig: number): void;
  /** A pty pair; `nonBlocking` for a master this process relays itself (run.ts relayPty). */
  openPty(nonBlocking?: boolean): { master: number; slave: string };
  setWinsize(fd: number, rows: number, cols: number): void;
  /** Clears OPOST on the terminal at fd (after setRawMode(true)): docker's fully raw terminal. */
  rawOutput(fd: number): void;
  /** A close-on-exec pipe: [read end, write end]. */
  pipe(): [number, number];
  /** The exclusive lock; with `nonBlocking`, false (at once) when another holds it. */
  flock(fd: number, nonBlocking?: boolean): boolean;
  /** null when the process is already gone. */
  pidfdOpen(pid: number): number | null;
  /** Resolves true once the process behind `pidfd` has exited (for PID 1 of a PID namespace:
   *  with everything in it), false after `ms`. Works for a process that is not our child. */
  pidfdWait(pidfd: number, ms: number): Promise<boolean>;
  /** An OCI whiteout in overlay's form, in an unpacked layer below `root` (src/image/unpack.ts
   *  unpackLayer): a 0:0 character device at `rel`, or the opaque xattr on directory `rel`. */
  layerMark(root: string, rel: string, kind: 'whiteout' | 'opaque'): void;
  /** Whether overlay marked the directory opaque (user.overlay.opaque or trusted.overlay.opaque). */
  isOpaque(path: string): boolean;
}

let loaded: NativeApi | undefined;

export function native(): NativeApi {
  if (loaded) return loaded;
  const require = createRequire(import.meta.url);
  // This file runs from the bundle (dist/bundle/*.js, what bin/minidock.js loads) or from tsc's
  // output (dist/src/native/binding.js, what unit tests load): the addon is two or three up.
  const candidates = ['../../native/build/Release/minidock.node', '../../../native/build/Release/minidock.node'];
  let firstError: unknown;
  for (const path of candidates) {
    try {
      loaded = require(path) as NativeApi;
      return loaded;
    } catch (err) {
      firstError ??= err;
    }
  }
  throw new MinidockError('the native helper is not built', {
    step: 'native.load',
    hint: 'run bin/setup, or npm run build:native',
    cause: firstError,
  });
}

function findBuilt(file: string, what: string): string {
  const { existsSync } = createRequire(import.meta.url)('node:fs') as typeof import('node:fs');
  for (const rel of [`../../native/build/${file}`, `../../../native/build/${file}`]) {
    const p = new URL(rel, import.meta.url).pathname;
    if (existsSync(p)) return p;
  }
  throw new MinidockError(`${what} is not built`, { step: 'native.find', hint: 'run bin/setup, or npm run build:native' });
}

/** The shim binary (native/src/shim.c), found the same way as the addon. */
export const shimPath = (): string => findBuilt('Release/minidock-shim', 'the minidock-shim helper');

/** The static init for --init (native/src/init.c, built by native/init.mk). */
export const initPath = (): string => findBuilt('minidock-init', 'minidock-init');
