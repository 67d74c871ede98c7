// Checking a shaped rate with iperf3 (the CNI and run bandwidth tests). Shaping promises a
// ceiling: a rate above the asked one by more than 10% is a failure at once. Below it, a busy
// host (two cores, a CI run) can starve the sender for a moment, so up to three measurements are
// taken and one within 10% is enough.
import * as assert from 'uvu/assert';

export function assertShaped(what: string, measure: () => number, want: number): void {
  const seen: number[] = [];
  for (let i = 0; i < 3; i++) {
    const bits = measure();
    seen.push(bits);
    assert.ok(bits < want * 1.1, `${what} ${(bits / 1e6).toFixed(2)} Mbit/s: above ${(want / 1e6).toFixed(0)} by more than 10%, the shaping does not hold`);
    if (bits > want * 0.9) return;
  }
  assert.unreachable(`${what}: ${seen.map((b) => (b / 1e6).toFixed(2)).join(', ')} Mbit/s, never within 10% of ${(want / 1e6).toFixed(0)}`);
}
