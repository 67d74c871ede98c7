// minidock-cni: the CNI plugin's entry (bin/minidock-cni, bundled into dist/bundle/minidock-cni.cjs). Reads the network config from stdin,
// the request from the CNI_* environment, and answers on stdout: the result (ADD), the version
// list (VERSION), nothing (DEL, CHECK, STATUS, GC), or the spec's error JSON with exit 1.
import { readFileSync } from 'node:fs';
import { snapshotEntry } from '../core/snapshot.js';
import { CniError, CODE, SUPPORTED_VERSIONS, errorResult, parseRequest, versionResult } from './protocol.js';

/** All of stdin, read from fd 0 directly: process.stdin would load the stream and net
 *  modules (~9 ms of an ADD) for a config of a few hundred bytes. */
function readStdin(): string {
  try {
    return readFileSync(0, 'utf8');
  } catch (err) {
    // A terminal or nothing attached: no config (parseRequest says what is missing).
    if (['EAGAIN', 'EISDIR', 'ENXIO', 'EBADF'].includes((err as NodeJS.ErrnoException).code ?? '')) return '';
    throw err;
  }
}

async function main(): Promise<number> {
  const stdin = readStdin();
  let version = '1.0.0';
  try {
    const v = (JSON.parse(stdin) as { cniVersion?: unknown }).cniVersion;
    if (typeof v === 'string' && (SUPPORTED_VERSIONS as readonly string[]).includes(v)) version = v;
  } catch { /* parseRequest says what is wrong */ }
  try {
    const req = parseRequest(process.env, stdin);
    if (req.command === 'VERSION') {
      process.stdout.write(versionResult(version) + '\n');
      return 0;
    }
    const plugin = await import('./plugin.js');
    switch (req.command) {
      case 'ADD':
        process.stdout.write(JSON.stringify(await plugin.add(req)) + '\n');
        return 0;
      case 'DEL':
        await plugin.del(req);
        return 0;
      case 'CHECK':
        await plugin.checkAttachment(req);
        return 0;
      case 'GC':
        await plugin.gc(req);
        return 0;
      case 'STATUS':
        await plugin.status();
        return 0;
    }
  } catch (err) {
    const e = err instanceof CniError ? err : new CniError(CODE.failed, (err as Error)?.message ?? String(err));
    process.stdout.write(errorResult(e, version) + '\n');
    return 1;
  }
}

// The startup snapshot (src/core/snapshot.ts), as the CLI's: bin/minidock-cni starts from it.
snapshotEntry('minidock-cni.cjs', {
  warm: () => Promise.all([import('./plugin.js'), import('../network/setup.js'), import('../network/bandwidth.js'), import('../native/binding.js')]),
  run: () => {
    void main().then((code) => {
      process.exitCode = code;
    });
  },
});
