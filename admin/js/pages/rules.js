// Alert rules: every rule with its method and parameters, filtered by text (in the URL);
// enable or disable one; export as CSV; import a CSV with a dry run first (row errors shown,
// nothing written), then for real.
import { ApiError, api, can, get, query } from '../api.js';
import { confirmDialog, fail, h, table, toast, urlParams } from '../ui.js';

function reportView(report, error) {
  return h('div.panel', { 'data-testid': 'rules-report' },
    error ? h('p.error', {}, error) : '',
    h('p', {}, `${report.dry_run ? 'Preview (nothing written)' : (report.applied ? 'Imported' : 'Not imported')}: ${report.total} rows · `
      + `${report.inserted} new · ${report.updated} updated · ${report.unchanged} unchanged · ${report.invalid} invalid`),
    report.errors.length ? table([['Row', (p) => String(p.row)], ['Column', (p) => p.column], ['Problem', (p) => p.reason]], report.errors) : '',
    report.warnings.length ? table([['Row', (p) => String(p.row)], ['Column', (p) => p.column], ['Warning', (p) => p.reason]], report.warnings) : '');
}

/** The body that replaces a rule with itself but for `changes`. */
function bodyOf(rule, changes) {
  const { name, data_element, disease_code, rule_type, params, level, overrides, missing_policy, severity, enabled } = rule;
  return { name, data_element, disease_code, rule_type, params, level, overrides, missing_policy, severity, enabled, ...changes };
}

export async function render(main, navigate) {
  const params = urlParams();
  const text = (params.q || '').toLowerCase();
  const filter = h('form.filters', {
    onsubmit: (ev) => { ev.preventDefault(); navigate(`/admin/rules${query(Object.fromEntries(new FormData(filter)))}`); },
  }, h('label', {}, 'Name, disease, data element or method', h('input', { name: 'q', value: params.q || '' })),
  h('button.primary', { type: 'submit' }, 'Apply'), h('a', { href: '/admin/rules' }, 'Clear'));
  const importPanel = h('div');
  const list = h('div');
  main.replaceChildren(h('h1', {}, 'Alert rules'),
    h('div.bar', {}, h('a', { href: '/api/v2/alert-rules/export/csv', download: '' }, 'Export CSV')),
    importPanel, filter, list);

  if (can('rules_write')) {
    const file = h('input', { type: 'file', name: 'file', accept: '.csv', required: true, 'data-testid': 'rules-file' });
    const result = h('div');
    const send = async (dryRun) => {
      const data = new FormData();
      data.append('file', file.files[0]);
      try {
        return { report: await api('POST', `/api/v2/alert-rules/import/csv${query({ dry_run: dryRun })}`, data) };
      } catch (e) {
        if (e instanceof ApiError && e.body && e.body.report) return { report: e.body.report, error: e.body.error };
        throw e;
      }
    };
    importPanel.replaceChildren(h('form.filters.panel', {
      'data-testid': 'rules-import',
      onsubmit: async (ev) => {
        ev.preventDefault();
        try {
          const preview = await send(true);
          result.replaceChildren(reportView(preview.report, preview.error), h('button.primary.write', {
            type: 'button', disabled: preview.report.invalid > 0,
            onclick: async () => {
              if (!(await confirmDialog(`Import ${preview.report.total} rules?`, 'Import'))) return;
              try { const done = await send(false); result.replaceChildren(reportView(done.report, done.error)); await load(); } catch (e) { fail(e); }
            },
          }, preview.report.invalid > 0 ? 'Fix the row errors to import' : 'Import these rules'));
        } catch (e) { fail(e); }
      },
    }, h('label', {}, 'Import CSV', file), h('button.write', { type: 'submit' }, 'Preview import')), result);
  }

  async function load() {
    const { items } = await get('/api/v2/alert-rules');
    const shown = items.filter((r) => !text || [r.name, r.disease_code, r.data_element, r.rule_type]
      .some((v) => (v || '').toLowerCase().includes(text)));
    const columns = [
      ['Name', (r) => r.name], ['Disease', (r) => r.disease_code || '—'], ['Data element', (r) => r.data_element],
      ['Method', (r) => r.rule_type], ['Parameters', (r) => JSON.stringify(r.params)],
      ['Level', (r) => String(r.level)], ['Severity', (r) => r.severity],
      ['Enabled', (r) => h('span', { 'data-enabled': r.id }, r.enabled ? 'yes' : 'no')],
    ];
    if (can('rules_write')) {
      columns.push(['', (r) => h('button.write', {
        type: 'button', 'data-toggle': r.id,
        onclick: async () => {
          try {
            await api('PUT', `/api/v2/alert-rules/${r.id}`, bodyOf(r, { enabled: !r.enabled }));
            toast(`${r.name} ${r.enabled ? 'disabled' : 'enabled'}`);
            await load();
          } catch (e) { fail(e); }
        },
      }, r.enabled ? 'Disable' : 'Enable')]);
    }
    list.replaceChildren(h('p.muted', { 'data-testid': 'rules-total' }, `${shown.length} of ${items.length} rules`), table(columns, shown));
  }
  await load();
}
