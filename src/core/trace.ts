// MINIDOCK_TRACE=1 prints how long each step of a command took, on stderr: where the
// milliseconds of `minidock run` go. Costs one environment lookup a step when off. The
// environment is read at each call, never at load: the bundle's modules are loaded once, into
// the startup snapshot that bin/minidock starts from (dist/bundle/main.blob), long before the
// command's own environment exists.
let last = 0;

export function trace(step: string): void {
  if (process.env.MINIDOCK_TRACE !== '1') return;
  // `performance` is loaded on first use (perf_hooks, ~1 ms): only when tracing. The first
  // step's delta is counted from the process's start.
  const now = performance.now();
  process.stderr.write(`trace: ${now.toFixed(1).padStart(7)} ms  +${(now - last).toFixed(1).padStart(5)}  ${step}\n`);
  last = now;
}

/**
 * A named point in a command where a test may crash it: MINIDOCK_TEST_CRASH_AT=<name> makes
 * the process SIGKILL itself there, as a power cut or an OOM kill would, so the tests can prove
 * that `minidock gc` (or the next command) leaves nothing behind whatever the moment.
 */
/** MINIDOCK_TEST_PAUSE_AT=<name>:<ms> stalls the process there instead (a slow machine at the
 *  worst moment), so a test can make a race with another process happen every time. */
export function checkpoint(name: string): void {
  trace(name);
  if (process.env.MINIDOCK_TEST_CRASH_AT === name) process.kill(process.pid, 'SIGKILL');
  const pauseAt = process.env.MINIDOCK_TEST_PAUSE_AT?.match(/^(.+):(\d+)$/);
  if (pauseAt?.[1] === name) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Number(pauseAt[2]));
}
