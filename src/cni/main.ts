// minidock-cni: the CNI plugin's entry (bin/minidock-cni). Reads the network config from stdin,
// the request from the CNI_* environment, and answers on stdout: the result (ADD), the version
// list (VERSION), nothing (DEL, CHECK, STATUS, GC), or the spec's error JSON with exit 1.
import { CniError, CODE, SUPPORTED_VERSIONS, errorResult, parseRequest, versionResult } from './protocol.js';

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) return '';
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function main(): Promise<number> {
  const stdin = await readStdin();
  let version = '1.0.0';
  try {
    const v = (JSON.parse(stdin) as { cniVersion?: unknown }).cniVersion;
    if (typeof v === 'string' && (SUPPORTED_VERSIONS as readonly string[]).includes(v)) version = v;
  } catch { /* parseRequest says what is wrong */ }
  try {
    const req = parseRequest(process.env, stdin);
    const plugin = await import('./plugin.js');
    switch (req.command) {
      case 'VERSION':
        process.stdout.write(versionResult(version) + '\n');
        return 0;
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

process.exitCode = await main();
