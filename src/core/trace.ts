// MINIDOCK_TRACE=1 prints how long each step of a command took, on stderr: where the
// milliseconds of `minidock run` go. Costs one environment lookup when off.
const on = process.env.MINIDOCK_TRACE === '1';
let last = performance.now();

export function trace(step: string): void {
  if (!on) return;
  const now = performance.now();
  process.stderr.write(`trace: ${now.toFixed(1).padStart(7)} ms  +${(now - last).toFixed(1).padStart(5)}  ${step}\n`);
  last = now;
}
