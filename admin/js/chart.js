// A bar chart in SVG, drawn with the DOM (no inline style: the CSP allows none).
const NS = 'http://www.w3.org/2000/svg';

function s(tag, attrs, text) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  if (text !== undefined) el.textContent = text;
  return el;
}

/** points: [{label, value}], oldest first. */
export function barChart(points, title) {
  const w = 600, hgt = 120, pad = 18;
  const max = Math.max(1, ...points.map((p) => p.value));
  const bw = (w - pad) / Math.max(1, points.length);
  const svg = s('svg', { class: 'chart', viewBox: `0 0 ${w} ${hgt}`, role: 'img', 'aria-label': title });
  svg.append(s('title', {}, title));
  svg.append(s('line', { x1: pad, y1: hgt - pad, x2: w, y2: hgt - pad }));
  svg.append(s('text', { x: 0, y: 10 }, String(max)));
  points.forEach((p, i) => {
    const bh = ((hgt - 2 * pad) * p.value) / max;
    const r = s('rect', { x: pad + i * bw + 1, y: hgt - pad - bh, width: Math.max(1, bw - 2), height: bh });
    r.append(s('title', {}, `${p.label}: ${p.value}`));
    svg.append(r);
  });
  if (points.length) {
    svg.append(s('text', { x: pad, y: hgt - 4 }, points[0].label));
    svg.append(s('text', { x: w - 2, y: hgt - 4, 'text-anchor': 'end' }, points[points.length - 1].label));
  }
  return svg;
}
