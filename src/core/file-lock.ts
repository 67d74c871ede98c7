// An exclusive lock on a file, held for a critical section, released when its descriptor is
// closed (also by the kernel if the process dies). Side-effecting (fs); the flock itself is the
// native addon's, passed in so tests without the addon can run the stores unlocked.
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';

/** flock(2) on a descriptor; with `nonBlocking`, false at once when another holds the lock. */
export type Flock = (fd: number, nonBlocking?: boolean) => boolean | void;

export class FileLock {
  constructor(private readonly path: string, private readonly flock?: Flock) {}

  private open(): number {
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    return openSync(this.path, 'a', 0o600);
  }

  private acquire(): number {
    const fd = this.open();
    try {
      this.flock?.(fd);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    return fd;
  }

  run<T>(fn: () => T): T {
    const fd = this.acquire();
    try {
      return fn();
    } finally {
      closeSync(fd);
    }
  }

  /** Held across awaits. The lock is tried, not waited for (a blocked event loop would stall
   *  this process's other work, and two processes each holding a lock the other wants would
   *  deadlock); `waiting` is called once if another holds it. flock locks belong to the open
   *  file, so two holders in one process exclude each other too. */
  async runAsync<T>(fn: () => Promise<T>, waiting?: () => void): Promise<T> {
    const fd = this.open();
    try {
      for (let told = false; this.flock && this.flock(fd, true) === false; ) {
        if (!told) waiting?.();
        told = true;
        await new Promise((r) => setTimeout(r, 25));
      }
      return await fn();
    } finally {
      closeSync(fd);
    }
  }
}
