// Submissions: the log, filtered (all filters in the URL), paged by keyset cursor, refreshed
// every 10 s in place (selection, scroll and the open detail stay), with requeue, delete and
// purge for the roles that may.
import { api, can, get, query } from '../api.js';
import { confirmDialog, fail, h, pretty, showDialog, table, toast, urlParams, when } from '../ui.js';

const STATUSES = ['queued', 'processing', 'retrying', 'completed', 'completed_with_conflicts', 'failed'];
const FILTERS = ['status', 'from_date', 'to_date', 'user', 'source', 'data_set', 'org_unit', 'text', 'kind'];
const REFRESH_MS = 10000;

export async function render(main, navigate) {
  const params = urlParams();
  const pageSize = params.page_size || '25';
  const selected = new Set();
  let rows = [];

  const input = (name, attrs = {}) => h('input', { name, value: params[name] || '', ...attrs });
  const form = h('form.filters', {
    'data-testid': 'filters',
    onsubmit: (ev) => {
      ev.preventDefault();
      const values = Object.fromEntries(new FormData(form));
      navigate(`/admin/submissions${query({ ...values, page_size: pageSize })}`);
    },
  },
  h('label', {}, 'Status', h('select', { name: 'status' }, h('option', { value: '' }, 'any'),
    STATUSES.map((s) => h('option', { value: s, selected: params.status === s }, s)))),
  h('label', {}, 'From', input('from_date', { type: 'date' })),
  h('label', {}, 'To', input('to_date', { type: 'date' })),
  h('label', {}, 'Submitter', input('user', { placeholder: 'username' })),
  h('label', {}, 'Source', input('source')),
  h('label', {}, 'Data set', input('data_set', { placeholder: 'UID' })),
  h('label', {}, 'Org unit', input('org_unit', { placeholder: 'UID' })),
  h('label', {}, 'Text', input('text', { placeholder: 'in request, payload, answer' })),
  h('label', {}, 'Kind', h('select', { name: 'kind' }, h('option', { value: '' }, 'any'),
    ['aggregate', 'tracker'].map((k) => h('option', { value: k, selected: params.kind === k }, k)))),
  h('button.primary', { type: 'submit' }, 'Apply'),
  h('a', { href: '/admin/submissions' }, 'Clear'));

  const summary = h('p.muted', { 'data-testid': 'summary' });
  const body = h('div');
  const actions = h('div.bar');
  const pager = h('div.bar');
  main.replaceChildren(h('h1', {}, 'Submissions'), form, actions, summary, body, pager);

  if (can('requeue')) {
    actions.append(h('button.write', { type: 'button', 'data-testid': 'requeue-selected', onclick: requeueSelected }, 'Requeue selected'));
  }
  if (can('requeue_filter')) {
    actions.append(h('button.write', { type: 'button', 'data-testid': 'requeue-matching', onclick: requeueMatching }, 'Requeue all matching…'));
  }
  if (can('delete')) {
    actions.append(
      h('button.write.danger', { type: 'button', 'data-testid': 'delete-selected', onclick: deleteSelected }, 'Delete selected'),
      h('span', {}, ' '),
      purgeForm());
  }

  const filterQuery = () => Object.fromEntries(FILTERS.map((f) => [f, params[f]]));

  // The count of matching rows is asked once per view, apart from the pages: on millions of
  // rows it costs far more than a page, so neither paging nor the refresh waits for it.
  let total = '…';
  const showSummary = () => { summary.textContent = `${total} matching · showing ${rows.length}`; };
  async function count() {
    const res = await get(`/api/v2/logs${query({ ...filterQuery(), page_size: 1 })}`);
    total = String(res.total);
    showSummary();
  }

  async function load() {
    const page = await get(`/api/v2/logs${query({ ...filterQuery(), page_size: pageSize, cursor: params.cursor, with_total: false })}`);
    rows = page.items;
    showSummary();
    drawTable();
    pager.replaceChildren(
      params.cursor ? h('button', { type: 'button', 'data-testid': 'newer', onclick: () => history.back() }, '← Newer') : '',
      params.cursor ? h('a', { href: `/admin/submissions${query({ ...filterQuery(), page_size: pageSize })}` }, 'Newest') : '',
      page.next_cursor
        ? h('button', { type: 'button', 'data-testid': 'older', onclick: () => navigate(`/admin/submissions${query({ ...filterQuery(), page_size: pageSize, cursor: page.next_cursor })}`) }, 'Older →')
        : '');
  }

  function drawTable() {
    const columns = [];
    if (can('requeue') || can('delete')) {
      columns.push(['', (r) => h('input', {
        type: 'checkbox', 'aria-label': `select ${r.id}`, 'data-select': r.id, checked: selected.has(r.id),
        onclick: (ev) => ev.stopPropagation(),
        onchange: (ev) => { if (ev.target.checked) selected.add(r.id); else selected.delete(r.id); },
      })]);
    }
    columns.push(
      ['ID', (r) => h('a', { href: '#', 'data-open': r.id, onclick: (ev) => { ev.preventDefault(); openDetail(r.id); } }, String(r.id))],
      ['Submitted', (r) => when(r.submitted_at)],
      ['Status', (r) => h(`span.status.status-${r.status}`, { 'data-status': r.id }, r.status)],
      ['Submitter', (r) => r.username || '—'],
      ['Org unit · period', (r) => [r.org_unit, r.period].filter(Boolean).join(' · ') || '—'],
      ['Data set', (r) => r.data_set || '—'],
      ['Attempts', (r) => String(r.attempts)],
      ['Error', (r) => (r.errors || '').slice(0, 80)]);
    body.replaceChildren(table(columns, rows, (r) => ({ 'data-row': r.id })));
  }

  async function openDetail(id) {
    try {
      const r = await get(`/api/v2/logs/${id}`);
      const conflicts = Array.isArray(r.conflicts) ? r.conflicts : [];
      const keys = [...new Set(conflicts.flatMap((c) => Object.keys(c)))];
      const dlg = showDialog(`Submission ${r.id}`,
        h('p', {}, h(`span.status.status-${r.status}`, {}, r.status), ` · task ${r.task_id} · ${r.kind} · submitted ${when(r.submitted_at)} by ${r.username || '—'}`),
        h('p.muted', {}, `attempts ${r.attempts}, requeued ${r.requeue_count}, DHIS2 HTTP ${r.response_status ?? '—'}; imported ${r.imported ?? '—'}, updated ${r.updated ?? '—'}, ignored ${r.ignored ?? '—'}, deleted ${r.deleted ?? '—'}`),
        r.errors ? h('p.error', {}, r.errors) : '',
        can('requeue') ? h('button.write', { type: 'button', 'data-testid': 'requeue-one', onclick: async () => { await requeueOne(r.id); dlg.close(); } }, 'Requeue') : '',
        h('h2', {}, 'Conflicts'),
        conflicts.length ? table(keys.map((k) => [k, (c) => (typeof c[k] === 'object' ? JSON.stringify(c[k]) : String(c[k] ?? ''))]), conflicts) : h('p.muted', {}, 'none'),
        h('h2', {}, 'Request'), h('pre', { 'data-testid': 'request' }, pretty(r.payload)),
        h('h2', {}, 'Payload sent to DHIS2'), h('pre', {}, pretty(r.dhis2_payload)),
        h('h2', {}, 'DHIS2 answer'), h('pre', {}, pretty(r.response)));
    } catch (e) { fail(e); }
  }

  async function requeue(taskIds) {
    try {
      const res = await api('POST', '/api/v2/aggregate/reenqueue/batch', { task_ids: taskIds });
      toast(`Requeued ${res.re_enqueued}${res.failed ? `, ${res.failed} refused: ${res.errors.join('; ')}` : ''}`, res.failed > 0);
      await load();
    } catch (e) { fail(e); }
  }

  async function requeueOne(id) {
    try {
      await api('POST', `/api/v2/logs/${id}/restart`);
      toast(`Requeued submission ${id}`);
      await load();
    } catch (e) {
      // A refusal names its reason (e.g. an adopted row with no payload to send).
      const why = e.body && Array.isArray(e.body.details) && e.body.details.length ? e.body.details.map((d) => d.message).join('; ') : e.message;
      toast(why, true);
    }
  }

  /** The answer of POST /api/v2/logs/requeue as one sentence. */
  const requeueSummary = (res) => [
    res.message,
    res.still_open ? `${res.still_open} still owed a delivery left alone` : '',
    res.no_payload ? `${res.no_payload} skipped: ${res.no_payload_reason}` : '',
    res.remaining ? `${res.remaining} more beyond this request's limit: run it again` : '',
  ].filter(Boolean).join('; ');

  async function requeueSelected() {
    const chosen = rows.filter((r) => selected.has(r.id));
    if (!chosen.length) { toast('Select submissions first'); return; }
    if (!can('requeue_filter')) {
      if (await confirmDialog(`Requeue ${chosen.length} submission(s)?`, 'Requeue')) { selected.clear(); await requeue(chosen.map((r) => r.task_id)); }
      return;
    }
    try {
      const ids = chosen.map((r) => r.id);
      const dry = await api('POST', '/api/v2/logs/requeue', { ids, dry_run: true });
      const skipped = dry.no_payload ? ` (${dry.no_payload} without a payload to send will be skipped)` : '';
      if (!(await confirmDialog(`Requeue ${dry.requeued} submission(s)${skipped}?`, 'Requeue'))) return;
      const res = await api('POST', '/api/v2/logs/requeue', { ids });
      selected.clear();
      toast(requeueSummary(res), res.no_payload > 0);
      await load();
    } catch (e) { fail(e); }
  }

  async function requeueMatching() {
    const filters = Object.fromEntries(Object.entries(filterQuery()).filter(([, v]) => v));
    if (!Object.keys(filters).length) { toast('Set a filter first: requeueing the whole log is not offered', true); return; }
    try {
      const dry = await api('POST', '/api/v2/logs/requeue', { ...filters, dry_run: true });
      const notes = [
        dry.still_open ? `${dry.still_open} still owed a delivery are left alone` : '',
        dry.no_payload ? `${dry.no_payload} without a payload to send are skipped` : '',
      ].filter(Boolean).join('; ');
      if (!dry.requeued) { toast(`Nothing to requeue among ${dry.matched} matching${notes ? ` (${notes})` : ''}`); return; }
      if (!(await confirmDialog(`Requeue ${dry.requeued} of the ${dry.matched} submission(s) matching these filters${notes ? ` (${notes})` : ''}?`, `Requeue ${dry.requeued}`))) return;
      const res = await api('POST', '/api/v2/logs/requeue', filters);
      toast(requeueSummary(res), res.no_payload > 0);
      await Promise.all([load(), count()]);
    } catch (e) { fail(e); }
  }

  async function deleteSelected() {
    const ids = [...selected];
    if (!ids.length) { toast('Select submissions first'); return; }
    if (!(await confirmDialog(`Delete ${ids.length} submission(s) from the log? This cannot be undone.`, 'Delete'))) return;
    let failed = 0;
    for (const id of ids) { try { await api('DELETE', `/api/v2/logs/${id}`); } catch { failed += 1; } }
    selected.clear();
    toast(`Deleted ${ids.length - failed}${failed ? `, ${failed} failed` : ''}`, failed > 0);
    await Promise.all([load(), count()]);
  }

  function purgeForm() {
    const date = h('input', { type: 'date', name: 'purge_date', required: true, 'aria-label': 'purge before' });
    return h('form.bar', {
      'data-testid': 'purge',
      onsubmit: async (ev) => {
        ev.preventDefault();
        try {
          // The rows purge would delete: submitted before that day and no longer owed a delivery.
          const day = new Date(`${date.value}T00:00:00Z`);
          day.setUTCDate(day.getUTCDate() - 1);
          const until = day.toISOString().slice(0, 10);
          const count = async (status) => (await get(`/api/v2/logs${query({ to_date: until, status, page_size: 1 })}`)).total;
          const all = await count();
          const open = (await Promise.all(['queued', 'processing', 'retrying'].map(count))).reduce((a, b) => a + b, 0);
          const n = all - open;
          if (!(await confirmDialog(`Purge deletes ${n} submission(s) submitted before ${date.value}${open ? ` (${open} still owed a delivery are kept)` : ''}. Continue?`, `Delete ${n}`))) return;
          const res = await api('DELETE', `/api/v2/logs/purge${query({ date: date.value })}`);
          toast(`Purged ${res.deleted} submission(s)`);
          await Promise.all([load(), count()]);
        } catch (e) { fail(e); }
      },
    }, h('label', {}, 'Purge before', date), h('button.write.danger', { type: 'submit' }, 'Purge…'));
  }

  await load();
  count().catch(fail);
  // Statuses move on their own: reload the same page (same filters and cursor) in place.
  const timer = setInterval(() => { if (!document.hidden) load().catch(() => {}); }, REFRESH_MS);
  return () => clearInterval(timer);
}
