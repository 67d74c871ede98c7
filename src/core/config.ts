// Reads minidock's environment once, so the rest of the code takes plain values. Pure apart
// from reading process.env at the call.

export interface Config {
  /** Root of all state: images, containers, names. `MINIDOCK_ROOT`, default /var/lib/minidock. */
  root: string;
  /** Print stack traces and causes (`MINIDOCK_DEBUG=1`). */
  debug: boolean;
}

export function readConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const root = env.MINIDOCK_ROOT && env.MINIDOCK_ROOT.length > 0 ? env.MINIDOCK_ROOT : '/var/lib/minidock';
  return { root: root.replace(/\/+$/, '') || '/', debug: env.MINIDOCK_DEBUG === '1' };
}
