// Order statistics, the format of a figure, and the suite's one table.

export function summarize(samples) {
  const s = [...samples].filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return null;
  const median = n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  // p90 by nearest rank: the smallest sample with at least 90% of the samples at or below it.
  const p90 = s[Math.ceil(0.9 * n) - 1];
  const r = (x) => +x.toFixed(3);
  return { n, median: r(median), min: r(s[0]), max: r(s[n - 1]), p90: r(p90), mean: r(s.reduce((a, b) => a + b, 0) / n) };
}

/** Three significant figures or so: 3.92, 36.7, 195, 1234. */
export function fmt(x) {
  if (x == null || !Number.isFinite(x)) return '-';
  const a = Math.abs(x);
  return a < 10 ? x.toFixed(2) : a < 100 ? x.toFixed(1) : x.toFixed(0);
}

/** A table cell: "median (min–max)", the value alone for one sample, or a cell's own text. */
export function formatCell(cell) {
  if (!cell) return '';
  if (cell.text != null) return cell.text;
  if (cell.dropped) return 'failed';
  const st = cell.stats;
  if (!st) return '';
  return st.n === 1 ? fmt(st.median) : `${fmt(st.median)} (${fmt(st.min)}–${fmt(st.max)})`;
}

/** A markdown table: the first column left-aligned, the rest right-aligned, padded for a terminal. */
export function markdownTable(head, rows) {
  const width = head.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i] ?? '').length)));
  const line = (cells) => `| ${cells.map((c, i) => (i === 0 ? String(c ?? '').padEnd(width[i]) : String(c ?? '').padStart(width[i]))).join(' | ')} |`;
  const rule = `| ${width.map((w, i) => (i === 0 ? '-'.repeat(w) : `${'-'.repeat(Math.max(1, w - 1))}:`)).join(' | ')} |`;
  return [line(head), rule, ...rows.map(line)].join('\n');
}
