// An exclusive lock on a file, held for a critical section, released when its descriptor is
// closed (also by the kernel if the process dies). Side-effecting (fs); the flock itself is the
// native addon's, passed in so tests without the addon can run the stores unlocked.
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';

export class FileLock {
  constructor(private readonly path: string, private readonly flock?: (fd: number) => void) {}

  private acquire(): number {
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    const fd = openSync(this.path, 'a', 0o600);
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

  /** Held across awaits: flock blocks only this process, until the holder closes its fd. */
  async runAsync<T>(fn: () => Promise<T>): Promise<T> {
    const fd = this.acquire();
    try {
      return await fn();
    } finally {
      closeSync(fd);
    }
  }
}
