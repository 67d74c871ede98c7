// Order statistics and the results table.

export function summarize(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return null;
  const median = n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  // p90 by nearest rank: the smallest sample with at least 90% of the
  // samples at or below it.
  const p90 = s[Math.ceil(0.9 * n) - 1];
  const r = (x) => +x.toFixed(3);
  return { n, median: r(median), min: r(s[0]), max: r(s[n - 1]), p90: r(p90), mean: r(s.reduce((a, b) => a + b, 0) / n) };
}

function fmt(ms) {
  if (ms == null) return '-';
  return ms < 10 ? ms.toFixed(2) : ms < 1000 ? ms.toFixed(1) : ms.toFixed(0);
}

export function formatTable(contenders, ref) {
  const head = ['contender', 'runs', 'median', 'min', 'p90', 'max', 'x minidock'];
  const rows = contenders.map((c) => {
    if (!c.stats) return [c.label, '-', 'dropped', '', '', '', ''];
    const st = c.stats;
    return [c.label, String(st.n), fmt(st.median), fmt(st.min), fmt(st.p90), fmt(st.max), ref ? (st.median / ref).toFixed(2) : '-'];
  });
  const width = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(width[i]) : c.padStart(width[i]))).join('  ');
  return [line(head), width.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
