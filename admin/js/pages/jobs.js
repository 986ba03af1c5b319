// Jobs: every scheduled job with its schedule and last run, its recent runs, and "run now".
import { api, can, get } from '../api.js';
import { fail, h, table, toast, when } from '../ui.js';

export async function render(main) {
  const list = h('div');
  const runs = h('div');
  main.replaceChildren(h('h1', {}, 'Jobs'), list, runs);

  async function showRuns(name) {
    const page = await get(`/api/v2/jobs/${encodeURIComponent(name)}/runs?limit=20`);
    runs.replaceChildren(h('h2', {}, `Runs of ${name}`), table([
      ['Run', (r) => String(r.id)], ['Trigger', (r) => r.trigger], ['Started', (r) => when(r.started_at)],
      ['Finished', (r) => when(r.finished_at)], ['Outcome', (r) => r.outcome || 'running'],
      ['Counts', (r) => JSON.stringify(r.counts)], ['Error', (r) => r.error || ''],
    ], page.items));
  }

  async function load() {
    const { jobs } = await get('/api/v2/jobs');
    const columns = [
      ['Job', (j) => h('a', { href: '#', onclick: (ev) => { ev.preventDefault(); showRuns(j.name).catch(fail); } }, j.name)],
      ['Schedule', (j) => (j.enabled ? `${j.expression} (${j.time_zone})` : 'disabled')],
      ['Next', (j) => when(j.next_firing)],
      ['Last run', (j) => (j.last_run ? `${when(j.last_run.started_at)} · ${j.last_run.outcome || 'running'}` : 'never')],
    ];
    if (can('jobs_run')) {
      columns.push(['', (j) => h('button.write', {
        type: 'button', 'data-run': j.name,
        onclick: async () => {
          try { const r = await api('POST', `/api/v2/jobs/${j.name}/run`); toast(`Started ${j.name} (run ${r.run_id})`); await load(); await showRuns(j.name); } catch (e) { fail(e); }
        },
      }, 'Run now')]);
    }
    list.replaceChildren(table(columns, jobs));
  }
  await load();
}
