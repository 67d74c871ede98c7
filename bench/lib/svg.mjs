// A small SVG writer for the README's plot: start-up distributions side by side, one row per
// contender, on a shared logarithmic time axis (the floors take milliseconds, the engines
// hundreds). Each row shows every sample as a dot, the middle half as a box, the median as a bar
// and min–max as a whisker. No dependency; the output is plain SVG 1.1.

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function quantile(sorted, q) {
  if (sorted.length === 1) return sorted[0];
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  return sorted[lo] + (sorted[Math.min(lo + 1, sorted.length - 1)] - sorted[lo]) * (pos - lo);
}

const COLORS = { minidock: '#1f77b4', crun: '#2ca02c', runc: '#17becf', podman: '#9467bd', docker: '#d62728', floor: '#7f7f7f' };

/**
 * rows: [{ label, group (a COLORS key), samples: [ms] }], grouped in the order given; a row
 * with { heading } instead starts a group. Returns the SVG text.
 */
export function distributionSvg(rows, { title, subtitle = '', unit = 'ms' } = {}) {
  const rowH = 22;
  const headH = 20;
  const left = 300;
  const plotW = 560;
  const right = 90;
  const top = 58;
  const all = rows.flatMap((r) => r.samples || []).filter((x) => x > 0);
  const lo = Math.pow(10, Math.floor(Math.log10(Math.min(...all)) * 2) / 2);
  const hi = Math.pow(10, Math.ceil(Math.log10(Math.max(...all)) * 2) / 2);
  const x = (v) => left + ((Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * plotW;
  let y = top;
  const body = [];
  let seed = 12345;
  const jitter = () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed / 0x7fffffff - 0.5; };
  for (const r of rows) {
    if (r.heading) {
      body.push(`<text x="8" y="${y + 15}" font-weight="bold">${esc(r.heading)}</text>`);
      y += headH;
      continue;
    }
    const mid = y + rowH / 2;
    const color = COLORS[r.group] || '#333';
    body.push(`<text x="${left - 8}" y="${mid + 4}" text-anchor="end">${esc(r.label)}</text>`);
    const s = [...(r.samples || [])].filter((v) => v > 0).sort((a, b) => a - b);
    if (s.length === 0) {
      body.push(`<text x="${left + 4}" y="${mid + 4}" fill="#999">no samples</text>`);
      y += rowH;
      continue;
    }
    const [q1, med, q3] = [quantile(s, 0.25), quantile(s, 0.5), quantile(s, 0.75)];
    body.push(`<line x1="${x(s[0]).toFixed(1)}" x2="${x(s[s.length - 1]).toFixed(1)}" y1="${mid}" y2="${mid}" stroke="${color}" stroke-width="1"/>`);
    body.push(`<rect x="${x(q1).toFixed(1)}" y="${mid - 6}" width="${Math.max(1, x(q3) - x(q1)).toFixed(1)}" height="12" fill="${color}" fill-opacity="0.18" stroke="${color}"/>`);
    for (const v of s) body.push(`<circle cx="${x(v).toFixed(1)}" cy="${(mid + jitter() * 9).toFixed(1)}" r="1.8" fill="${color}" fill-opacity="0.65"/>`);
    body.push(`<line x1="${x(med).toFixed(1)}" x2="${x(med).toFixed(1)}" y1="${mid - 8}" y2="${mid + 8}" stroke="${color}" stroke-width="2.5"/>`);
    const medText = med < 10 ? med.toFixed(2) : med < 100 ? med.toFixed(1) : med.toFixed(0);
    body.push(`<text x="${left + plotW + 8}" y="${mid + 4}">${medText} ${esc(unit)}</text>`);
    y += rowH;
  }
  const bottom = y + 8;
  const axis = [];
  for (let d = Math.floor(Math.log10(lo)); d <= Math.ceil(Math.log10(hi)); d++) {
    for (const m of [1, 2, 5]) {
      const v = m * Math.pow(10, d);
      if (v < lo * 0.999 || v > hi * 1.001) continue;
      const xx = x(v).toFixed(1);
      axis.push(`<line x1="${xx}" x2="${xx}" y1="${top - 4}" y2="${bottom}" stroke="#ddd"/>`);
      axis.push(`<text x="${xx}" y="${bottom + 14}" text-anchor="middle" fill="#555">${v >= 1 ? v : v.toPrecision(1)}</text>`);
    }
  }
  const height = bottom + 40;
  const width = left + plotW + right;
  return `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="12">
<rect width="100%" height="100%" fill="#fff"/>
<text x="8" y="20" font-size="15" font-weight="bold">${esc(title)}</text>
<text x="8" y="38" fill="#555">${esc(subtitle)}</text>
${axis.join('\n')}
${body.join('\n')}
<text x="${left + plotW / 2}" y="${bottom + 32}" text-anchor="middle" fill="#555">${esc(unit)}, logarithmic; dot = one run, box = middle half, bar = median, line = min–max; median at right</text>
</svg>
`;
}
