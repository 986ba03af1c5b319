// Alerts: the recorded alerts with filters (all in the URL), keyset pages by `before`, and one
// alert's own page at /admin/alerts/{id}: the evaluation (series chart with the method's
// bound), its exchange with DHIS2, acknowledge for admins, and its notification deliveries.
import { api, can, get, query } from '../api.js';
import { barChart } from '../chart.js';
import { fail, h, pretty, table, toast, urlParams, when } from '../ui.js';
import { deliveriesTable } from './deliveries.js';

const STATUSES = ['open', 'acknowledged', 'closed'];
const FILTERS = ['status', 'disease_code', 'data_element', 'org_unit', 'week_from', 'week_to'];

/** ISO weeks in a year: 53 when 28 December falls in week 53. */
function weeksIn(year) {
  const d = new Date(Date.UTC(year, 11, 28));
  const day = (d.getUTCDay() + 6) % 7;
  d.setUTCDate(d.getUTCDate() - day + 3);
  const jan4 = new Date(Date.UTC(d.getUTCFullYear(), 0, 4));
  return 1 + Math.round(((d - jan4) / 86400000 - 3 + ((jan4.getUTCDay() + 6) % 7)) / 7);
}

/** The week `n` weeks after `2026W05` (or `2026-W05`), as `2026W07`. */
export function addWeeks(week, n) {
  const m = /^(\d{4})-?W(\d{1,2})$/.exec(week || '');
  if (!m) return `+${n}`;
  let [y, w] = [Number(m[1]), Number(m[2]) + n];
  while (w > weeksIn(y)) { w -= weeksIn(y); y += 1; }
  return `${y}W${String(w).padStart(2, '0')}`;
}

const status = (a) => h(`span.status.status-${a.status}`, { 'data-alert-status': a.id }, a.status);
const num = (v) => (v === null || v === undefined ? '—' : String(Math.round(v * 100) / 100));

export async function render(main, navigate) {
  const id = location.pathname.replace(/^\/admin\/alerts\/?/, '').split('/')[0];
  if (id) return detail(main, id);
  const params = urlParams();
  const limit = params.limit || '50';
  const input = (name, label, attrs = {}) => h('label', {}, label, h('input', { name, value: params[name] || '', ...attrs }));
  const form = h('form.filters', {
    'data-testid': 'alert-filters',
    onsubmit: (ev) => { ev.preventDefault(); navigate(`/admin/alerts${query({ ...Object.fromEntries(new FormData(form)), limit: params.limit })}`); },
  },
  h('label', {}, 'Status', h('select', { name: 'status' }, h('option', { value: '' }, 'any'),
    STATUSES.map((s) => h('option', { value: s, selected: params.status === s }, s)))),
  input('disease_code', 'Disease code'), input('data_element', 'Data element', { placeholder: 'UID' }),
  input('org_unit', 'Org unit', { placeholder: 'UID' }),
  input('week_from', 'From week', { placeholder: '2026W01' }), input('week_to', 'To week', { placeholder: '2026W52' }),
  h('button.primary', { type: 'submit' }, 'Apply'), h('a', { href: '/admin/alerts' }, 'Clear'));
  const list = h('div');
  const pager = h('div.bar');
  main.replaceChildren(h('h1', {}, 'Alerts'), form, list, pager);

  const filters = Object.fromEntries(FILTERS.map((f) => [f, params[f]]));
  const page = await get(`/api/v2/alerts${query({ ...filters, limit, before: params.before })}`);
  list.replaceChildren(
    h('p.muted', { 'data-testid': 'alerts-shown' }, `${page.items.length} alert(s) on this page`),
    table([
      ['Alert', (a) => h('a', { href: `/admin/alerts/${a.id}`, 'data-alert': a.id }, a.alert_number || `#${a.id}`)],
      ['Week', (a) => a.week],
      ['Disease', (a) => a.data_element_name || a.disease_code || a.data_element],
      ['Org unit', (a) => a.org_unit_name || a.org_unit],
      ['Rule', (a) => `${a.rule_name} (${a.method})`],
      ['Count · bound', (a) => `${num(a.count)} · ${num(a.upper_bound)}`],
      ['Severity', (a) => a.severity],
      ['Status', status],
    ], page.items, (a) => ({ 'data-row': a.id })));
  pager.replaceChildren(
    params.before ? h('button', { type: 'button', 'data-testid': 'newer', onclick: () => history.back() }, '← Newer') : '',
    params.before ? h('a', { href: `/admin/alerts${query({ ...filters, limit: params.limit })}` }, 'Newest') : '',
    page.next_before
      ? h('a', { href: `/admin/alerts${query({ ...filters, limit: params.limit, before: page.next_before })}`, 'data-testid': 'older' }, 'Older →')
      : '');
  return null;
}

async function detail(main, id) {
  const a = await get(`/api/v2/alerts/${encodeURIComponent(id)}`);
  document.title = `Alert ${a.alert_number || a.id} · dhis2gw`;
  const series = a.series && Array.isArray(a.series.counts) ? a.series : { first_week: a.week, counts: [] };
  const points = series.counts.map((v, i) => ({ label: addWeeks(series.first_week, i), value: v, hot: i === series.counts.length - 1 }));
  const fact = (k, v) => [h('dt', {}, k), h('dd', {}, v)];
  const ack = can('alerts_ack') && a.status === 'open'
    ? h('button.write.primary', {
      type: 'button', 'data-testid': 'acknowledge',
      onclick: async () => {
        try { await api('POST', `/api/v2/alerts/${a.id}/acknowledge`); toast('Alert acknowledged'); await detail(main, id); } catch (e) { fail(e); }
      },
    }, 'Acknowledge')
    : '';
  const deliveries = h('div', { 'data-testid': 'alert-deliveries' }, h('p.muted', {}, 'Loading…'));
  main.replaceChildren(
    h('p', {}, h('a', { href: '/admin/alerts' }, '← All alerts')),
    h('h1', {}, `Alert ${a.alert_number || `#${a.id}`}: ${a.data_element_name || a.disease_code || a.data_element}, ${a.org_unit_name || a.org_unit}, ${a.week}`),
    h('p', {}, status(a), ' ', a.acknowledged_by ? h('span.muted', {}, `by ${a.acknowledged_by} ${when(a.acknowledged_at)}`) : '', ' ', ack),
    h('p', { 'data-testid': 'reason' }, a.reason),
    h('h2', {}, 'Series'),
    points.length
      ? barChart(points, `Weekly counts from ${series.first_week}; the alert's week last`, { bound: a.upper_bound, boundLabel: 'upper bound' })
      : h('p.muted', {}, 'no series recorded'),
    h('dl.facts', { 'data-testid': 'evaluation' },
      fact('Rule', `${a.rule_name} (${a.rule_uid})`),
      fact('Method', a.method),
      fact('Parameters', JSON.stringify(a.params)),
      fact('Missing weeks', a.missing_policy === 'zero' ? 'counted as zero' : 'skipped'),
      fact('Count', num(a.count)), fact('Expected', num(a.expected)),
      fact('Upper bound', num(a.upper_bound)), fact('Score', num(a.score)),
      fact('Severity', a.severity),
      fact('Disease', `${a.data_element_name || ''} ${a.data_element}${a.disease_code ? ` · ${a.disease_code}` : ''}`),
      fact('Org unit', `${a.org_unit_name || ''} ${a.org_unit}`),
      fact('Recorded', when(a.created))),
    Array.isArray(a.facilities) && a.facilities.length
      ? [h('h2', {}, 'Facilities with cases'), h('pre', {}, pretty(a.facilities))] : '',
    h('h2', {}, 'DHIS2'),
    h('dl.facts', {},
      fact('State', a.dhis2_state),
      fact('Attempts', String(a.dhis2_attempts)),
      fact('HTTP status', a.dhis2_http_status ?? '—'),
      fact('Last error', a.dhis2_last_error || '—'),
      fact('Confirmed', when(a.dhis2_confirmed_at)),
      fact('In Capture', a.capture_url ? h('a', { href: a.capture_url, target: '_blank', rel: 'noopener noreferrer' }, 'open the enrollment') : '—')),
    h('details', {}, h('summary', {}, 'Request sent and DHIS2 answer'),
      h('pre', {}, pretty(a.dhis2_request)), h('pre', {}, pretty(a.dhis2_response))),
    h('h2', {}, 'Deliveries'),
    h('p', { 'data-testid': 'delivery-counts' },
      Array.isArray(a.deliveries) && a.deliveries.length
        ? a.deliveries.map((c) => `${c.channel} ${c.status}: ${c.count}`).join(' · ')
        : 'none planned yet',
      ' · ', h('a', { href: `/admin/deliveries?alert_id=${a.id}` }, 'Open in Deliveries')),
    deliveries);
  try {
    const page = await get(`/api/v2/deliveries${query({ alert_id: a.id, limit: 500 })}`);
    deliveries.replaceChildren(deliveriesTable(page.items, () => detail(main, id)));
  } catch (e) { deliveries.replaceChildren(h('p.error', {}, e.message)); }
  return null;
}
