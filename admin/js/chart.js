// A bar chart in SVG, drawn with the DOM (no inline style: the CSP allows none).
const NS = 'http://www.w3.org/2000/svg';

function s(tag, attrs, text) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  if (text !== undefined) el.textContent = text;
  return el;
}

/**
 * points: [{label, value, hot}], oldest first; a null value is a missing point (no bar).
 * opts.bound draws a dashed horizontal line at that value, titled opts.boundLabel.
 */
export function barChart(points, title, opts = {}) {
  const w = 600, hgt = 120, pad = 18;
  const bound = typeof opts.bound === 'number' && Number.isFinite(opts.bound) ? opts.bound : null;
  const max = Math.max(1, ...points.map((p) => p.value || 0), bound ?? 0);
  const bw = (w - pad) / Math.max(1, points.length);
  const y = (v) => hgt - pad - ((hgt - 2 * pad) * v) / max;
  const svg = s('svg', { class: 'chart', viewBox: `0 0 ${w} ${hgt}`, role: 'img', 'aria-label': title });
  svg.append(s('title', {}, title));
  svg.append(s('line', { x1: pad, y1: hgt - pad, x2: w, y2: hgt - pad }));
  svg.append(s('text', { x: 0, y: 10 }, String(Math.round(max * 100) / 100)));
  points.forEach((p, i) => {
    const x = pad + i * bw + 1;
    if (p.value === null || p.value === undefined) {
      const m = s('text', { x: x + bw / 2 - 1, y: hgt - pad - 2, 'text-anchor': 'middle', class: 'missing' }, '·');
      m.append(s('title', {}, `${p.label}: missing`));
      svg.append(m);
      return;
    }
    const r = s('rect', { x, y: y(p.value), width: Math.max(1, bw - 2), height: hgt - pad - y(p.value), class: p.hot ? 'hot' : '' });
    r.append(s('title', {}, `${p.label}: ${p.value}`));
    svg.append(r);
  });
  if (bound !== null) {
    const line = s('line', { x1: pad, y1: y(bound), x2: w, y2: y(bound), class: 'bound', 'data-bound': bound });
    line.append(s('title', {}, `${opts.boundLabel || 'bound'}: ${bound}`));
    svg.append(line);
    svg.append(s('text', { x: pad + 2, y: Math.max(10, y(bound) - 3), class: 'bound' }, `${opts.boundLabel || 'bound'} ${Math.round(bound * 100) / 100}`));
  }
  if (points.length) {
    svg.append(s('text', { x: pad, y: hgt - 4 }, points[0].label));
    svg.append(s('text', { x: w - 2, y: hgt - 4, 'text-anchor': 'end' }, points[points.length - 1].label));
  }
  return svg;
}
