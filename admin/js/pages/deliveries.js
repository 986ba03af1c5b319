// Deliveries: every notification message (one address, one channel, one alert) with filters in
// the URL, keyset pages by `before`, each attempt's provider answer, and retry for admins.
import { api, can, get, query } from '../api.js';
import { fail, h, table, toast, urlParams, when } from '../ui.js';

const FILTERS = ['alert_id', 'channel', 'status', 'recipient'];

/** A table of deliveries; `reload` runs after a retry. Shared with an alert's page. */
export function deliveriesTable(items, reload) {
  if (!items.length) return h('p.muted', { 'data-testid': 'no-deliveries' }, 'no deliveries');
  const columns = [
    ['ID', (d) => String(d.id)],
    ['Alert', (d) => h('a', { href: `/admin/alerts/${d.alert_id}` }, `#${d.alert_id}`)],
    ['Channel', (d) => d.channel],
    ['To', (d) => `${d.recipient_name || ''}${d.broadcast ? ' (broadcast)' : ''} ${d.address}`],
    ['Status', (d) => h(`span.status.status-${d.status}`, { 'data-delivery-status': d.id }, d.status)],
    ['Attempts', (d) => String(d.attempts)],
    ['Created · sent', (d) => `${when(d.created_at)} · ${when(d.sent_at)}`],
    ['Last answer', (d) => {
      const last = d.history.length ? d.history[d.history.length - 1] : null;
      const text = d.last_error || (last && last.answer) || '—';
      return d.history.length > 1
        ? h('details', {}, h('summary', {}, text.slice(0, 80)),
          h('ol', {}, d.history.map((a) => h('li', {}, `${when(a.at)} ${a.outcome}: ${a.answer}`))))
        : text.slice(0, 200);
    }],
  ];
  if (can('deliveries_retry')) {
    columns.push(['', (d) => (d.status === 'sent' ? '' : h('button.write', {
      type: 'button', 'data-retry': d.id,
      onclick: async () => {
        try { await api('POST', `/api/v2/deliveries/${d.id}/retry`); toast(`Delivery ${d.id} queued again`); await reload(); } catch (e) { fail(e); }
      },
    }, 'Retry'))]);
  }
  return table(columns, items, (d) => ({ 'data-row': d.id }));
}

export async function render(main, navigate) {
  const params = urlParams();
  const filters = Object.fromEntries(FILTERS.map((f) => [f, params[f]]));
  const select = (name, label, values) => h('label', {}, label, h('select', { name }, h('option', { value: '' }, 'any'),
    values.map((v) => h('option', { value: v, selected: params[name] === v }, v))));
  const form = h('form.filters', {
    'data-testid': 'delivery-filters',
    onsubmit: (ev) => { ev.preventDefault(); navigate(`/admin/deliveries${query(Object.fromEntries(new FormData(form)))}`); },
  },
  h('label', {}, 'Alert', h('input', { name: 'alert_id', type: 'number', min: 1, value: params.alert_id || '' })),
  select('channel', 'Channel', ['email', 'sms', 'telegram']),
  select('status', 'Status', ['queued', 'sent', 'failed']),
  h('label', {}, 'Recipient', h('input', { name: 'recipient', value: params.recipient || '', placeholder: 'address or name' })),
  h('button.primary', { type: 'submit' }, 'Apply'), h('a', { href: '/admin/deliveries' }, 'Clear'));
  const list = h('div');
  const pager = h('div.bar');
  main.replaceChildren(h('h1', {}, 'Deliveries'), form, list, pager);

  async function load() {
    const page = await get(`/api/v2/deliveries${query({ ...filters, limit: params.limit || 50, before: params.before })}`);
    list.replaceChildren(h('p.muted', { 'data-testid': 'deliveries-shown' }, `${page.items.length} deliveries on this page`),
      deliveriesTable(page.items, load));
    pager.replaceChildren(
      params.before ? h('button', { type: 'button', onclick: () => history.back() }, '← Newer') : '',
      params.before ? h('a', { href: `/admin/deliveries${query(filters)}` }, 'Newest') : '',
      page.next_before ? h('a', { href: `/admin/deliveries${query({ ...filters, limit: params.limit, before: page.next_before })}`, 'data-testid': 'older' }, 'Older →') : '');
  }
  await load();
}
