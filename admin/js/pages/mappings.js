// Mappings: list with filters (in the URL), export and template downloads, import with a
// dry run first (row errors shown, nothing written) and then the real import, and DHIS2
// metadata sync status with "sync now".
import { ApiError, api, can, get, query } from '../api.js';
import { confirmDialog, fail, h, showDialog, table, toast, urlParams, when } from '../ui.js';

const FILTERS = ['source', 'instance_name', 'what', 'name', 'code'];

function reportView(report, error) {
  const problems = (rows, title) => (rows.length
    ? [h('h2', {}, title), table([['Row', (p) => String(p.row)], ['Column', (p) => p.column], ['Problem', (p) => p.reason]], rows)]
    : []);
  return h('div.panel', { 'data-testid': 'import-report' },
    error ? h('p.error', {}, error) : '',
    h('p', {}, `${report.dry_run ? 'Preview (nothing written)' : (report.applied ? 'Imported' : 'Not imported')}: ${report.total} rows · `
      + `${report.inserted} new · ${report.updated} updated · ${report.unchanged} unchanged · ${report.skipped} skipped · `
      + `${report.deleted} deleted · ${report.invalid} invalid`),
    report.references_checked ? '' : h('p.muted', {}, 'DHIS2 metadata has not been synced: references were not checked.'),
    ...problems(report.errors, 'Row errors'),
    ...problems(report.warnings, 'Warnings'));
}

export async function render(main, navigate) {
  const params = urlParams();
  const page = Number(params.page || 1);
  const filterValues = Object.fromEntries(FILTERS.map((f) => [f, params[f]]));
  const input = (name, label) => h('label', {}, label, h('input', { name, value: params[name] || '' }));
  const form = h('form.filters', {
    onsubmit: (ev) => { ev.preventDefault(); navigate(`/admin/mappings${query(Object.fromEntries(new FormData(form)))}`); },
  }, input('source', 'Source'), input('instance_name', 'Instance'),
  h('label', {}, 'Kind', h('select', { name: 'what' }, h('option', { value: '' }, 'any'),
    [['de', 'data element'], ['ou', 'org unit']].map(([v, t]) => h('option', { value: v, selected: params.what === v }, t)))),
  input('name', 'Name'), input('code', 'Code'),
  h('button.primary', { type: 'submit' }, 'Apply'), h('a', { href: '/admin/mappings' }, 'Clear'));

  const exportQuery = query({ source: params.source, instance_name: params.instance_name, what: params.what });
  const downloads = h('div.bar', {},
    h('a', { href: `/api/v2/mappings/export/csv${exportQuery}`, download: '' }, 'Export CSV'),
    h('a', { href: `/api/v2/mappings/export/excel${exportQuery}`, download: '' }, 'Export Excel'),
    h('a', { href: '/api/v2/mappings/export/excel-template', download: '' }, 'Excel template'));
  const sync = h('div.panel', { 'data-testid': 'sync' });
  const importPanel = h('div');
  const list = h('div');
  const pager = h('div.bar');
  main.replaceChildren(h('h1', {}, 'Mappings'), sync, downloads, importPanel, form, list, pager);

  async function loadSync() {
    if (!can('jobs_read')) { sync.remove(); return; }
    const { jobs } = await get('/api/v2/jobs');
    const job = jobs.find((j) => j.name === 'sync');
    const last = job && job.last_run;
    sync.replaceChildren(h('b', {}, 'DHIS2 metadata sync: '),
      last ? `${last.outcome || 'running'} at ${when(last.finished_at || last.started_at)}${last.error ? ` (${last.error})` : ''}` : 'never run',
      job && job.enabled ? h('span.muted', {}, ` · next ${when(job.next_firing)}`) : '',
      can('jobs_run') ? h('button.write', {
        type: 'button', 'data-testid': 'sync-now',
        onclick: async () => { try { await api('POST', '/api/v2/jobs/sync/run'); toast('Metadata sync started'); setTimeout(() => loadSync().catch(() => {}), 2000); } catch (e) { fail(e); } },
      }, 'Sync now') : '');
  }

  if (can('mappings_write')) {
    const file = h('input', { type: 'file', name: 'file', accept: '.csv,.xlsx,.xls,.ods', required: true, 'data-testid': 'import-file' });
    const mode = h('select', { name: 'mode' }, ['upsert', 'skip', 'replace'].map((m) => h('option', { value: m }, m)));
    const result = h('div');
    const send = async (dryRun) => {
      const f = file.files[0];
      const kind = /\.csv$/i.test(f.name) ? 'csv' : 'excel';
      const data = new FormData();
      data.append('file', f);
      try {
        return { report: await api('POST', `/api/v2/mappings/import/${kind}${query({ mode: mode.value, dry_run: dryRun })}`, data) };
      } catch (e) {
        if (e instanceof ApiError && e.body && e.body.report) return { report: e.body.report, error: e.body.error };
        throw e;
      }
    };
    const importForm = h('form.filters.panel', {
      'data-testid': 'import',
      onsubmit: async (ev) => {
        ev.preventDefault();
        try {
          const preview = await send(true);
          const apply = h('button.primary.write', {
            type: 'button', 'data-testid': 'import-apply', disabled: preview.report.invalid > 0,
            onclick: async () => {
              if (!(await confirmDialog(`Import ${preview.report.total} rows (mode ${mode.value})?`, 'Import'))) return;
              try { const done = await send(false); result.replaceChildren(reportView(done.report, done.error)); await load(); } catch (e) { fail(e); }
            },
          }, preview.report.invalid > 0 ? 'Fix the row errors to import' : 'Import these rows');
          result.replaceChildren(reportView(preview.report, preview.error), apply);
        } catch (e) { fail(e); }
      },
    }, h('label', {}, 'Import CSV or Excel', file), h('label', {}, 'Mode', mode),
    h('button.write', { type: 'submit' }, 'Preview import'));
    importPanel.replaceChildren(importForm, result);
  }

  /** Edits one mapping in a dialog: PUT replaces every field, so the form holds them all. */
  function editMapping(m) {
    const error = h('div.error', { role: 'alert', 'data-testid': 'edit-error' });
    const field = (key, label, attrs = {}) => h('label', {}, label, h('input', { name: key, value: m[key] || '', ...attrs }));
    const form = h('form.edit', {
      'data-testid': 'edit-mapping',
      onsubmit: async (ev) => {
        ev.preventDefault();
        error.replaceChildren();
        const body = {};
        for (const [k, v] of new FormData(form)) if (v.trim() !== '') body[k] = v.trim();
        try {
          await api('PUT', `/api/v2/mappings/${m.uid}`, body);
          toast(`Mapping ${body.code || m.code} saved`);
          dlg.close();
          await load();
        } catch (e) {
          // Each refused field with its reason, next to the form.
          const details = e.body && Array.isArray(e.body.details) ? e.body.details : [];
          error.replaceChildren(h('p', {}, e.message), ...details.map((d) => h('p', {}, `${d.field}: ${d.message}`)));
        }
      },
    },
    h('label', {}, 'Kind', h('select', { name: 'what' }, [['de', 'data element'], ['ou', 'org unit']].map(([v, t]) => h('option', { value: v, selected: m.what === v }, t)))),
    field('code', 'Code'), field('name', 'Name'), field('description', 'Description'),
    field('sourceName', 'Source'), field('instanceName', 'Instance'),
    field('dataSet', 'Data set (UID)'), field('dataElement', 'Data element (UID)'),
    field('categoryOptionCombo', 'Category option combo (UID)'), field('categoryOption', 'Category option (UID)'),
    field('categoryCombo', 'Category combo (UID)'), field('attributeOptionCombo', 'Attribute option combo (UID)'),
    field('sourceOrgUnit', 'Source org unit'), field('destinationOrgUnit', 'Destination org unit (UID)'),
    field('dimensionType', 'Dimension type'),
    h('div.bar', {}, h('button.primary', { type: 'submit', 'data-testid': 'edit-save' }, 'Save'),
      h('button', { type: 'button', onclick: () => dlg.close() }, 'Cancel')));
    const dlg = showDialog(`Edit mapping ${m.code}`, form, error);
    form.querySelector('input[name=code]').focus();
  }

  async function load() {
    const res = await get(`/api/v2/mappings${query({ ...filterValues, page, page_size: 50 })}`);
    const columns = [
      ['Source', (m) => m.sourceName || '—'], ['Instance', (m) => m.instanceName || '—'],
      ['Kind', (m) => m.what], ['Code', (m) => m.code], ['Name', (m) => m.name],
      ['Data element', (m) => m.dataElement || '—'], ['Category option combo', (m) => m.categoryOptionCombo || '—'],
      ['Org unit', (m) => m.destinationOrgUnit || '—'],
    ];
    if (can('mappings_write')) {
      columns.push(['', (m) => h('button.write', { type: 'button', 'data-edit': m.uid, onclick: () => editMapping(m) }, 'Edit')]);
      columns.push(['', (m) => h('button.write.danger', {
        type: 'button',
        onclick: async () => {
          if (await confirmDialog(`Delete the mapping ${m.code}?`, 'Delete')) {
            try { await api('DELETE', `/api/v2/mappings/${m.uid}`); toast('Mapping deleted'); await load(); } catch (e) { fail(e); }
          }
        },
      }, 'Delete')]);
    }
    list.replaceChildren(h('p.muted', { 'data-testid': 'mappings-total' }, `${res.total} mappings`), table(columns, res.items));
    const link = (p) => `/admin/mappings${query({ ...filterValues, page: p })}`;
    pager.replaceChildren(
      page > 1 ? h('a', { href: link(page - 1) }, '← Previous') : '',
      h('span.muted', {}, `page ${res.page} of ${Math.max(1, res.total_pages)}`),
      page < res.total_pages ? h('a', { href: link(page + 1) }, 'Next →') : '');
  }
  await Promise.all([load(), loadSync().catch(() => {})]);
}
