// MINIDOCK_TRACE=1 prints how long each step of a command took, on stderr: where the
// milliseconds of `minidock run` go. Costs one environment lookup when off.
const on = process.env.MINIDOCK_TRACE === '1';
// `performance` is loaded on first use (perf_hooks, ~1 ms): only when tracing.
let last = on ? performance.now() : 0;

export function trace(step: string): void {
  if (!on) return;
  const now = performance.now();
  process.stderr.write(`trace: ${now.toFixed(1).padStart(7)} ms  +${(now - last).toFixed(1).padStart(5)}  ${step}\n`);
  last = now;
}

/**
 * A named point in a command where a test may crash it: MINIDOCK_TEST_CRASH_AT=<name> makes
 * the process SIGKILL itself there, as a power cut or an OOM kill would, so the tests can prove
 * that `minidock gc` (or the next command) leaves nothing behind whatever the moment.
 */
const crashAt = process.env.MINIDOCK_TEST_CRASH_AT;
/** MINIDOCK_TEST_PAUSE_AT=<name>:<ms> stalls the process there instead (a slow machine at the
 *  worst moment), so a test can make a race with another process happen every time. */
const pauseAt = process.env.MINIDOCK_TEST_PAUSE_AT?.match(/^(.+):(\d+)$/);
export function checkpoint(name: string): void {
  trace(name);
  if (crashAt === name) process.kill(process.pid, 'SIGKILL');
  if (pauseAt?.[1] === name) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Number(pauseAt[2]));
}
