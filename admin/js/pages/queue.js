// Queue: depth, in flight, retrying, failed, deliveries per minute over the last hour, and
// whether DHIS2 answers; refreshed every 10 s.
import { get } from '../api.js';
import { barChart } from '../chart.js';
import { h, when } from '../ui.js';

export async function render(main) {
  const cards = h('div.cards', { 'data-testid': 'queue-cards' });
  const chart = h('div');
  const dhis2 = h('p', { 'data-testid': 'dhis2' });
  main.replaceChildren(h('h1', {}, 'Queue'), cards, h('h2', {}, 'Delivered per minute, last hour'), chart,
    h('h2', {}, 'DHIS2'), dhis2);

  async function load() {
    const s = await get('/api/v2/queue/stats');
    const card = (label, value, key) => h('div.card', { 'data-card': key }, h('b', {}, String(value)), label);
    cards.replaceChildren(
      card('waiting in the queue', s.waiting, 'waiting'),
      card('in flight', s.in_flight, 'in_flight'),
      card('scheduled for a retry', s.scheduled, 'scheduled'),
      card('queued (log)', s.queued, 'queued'),
      card('retrying (log)', s.retrying, 'retrying'),
      card('failed, last 24 h', s.failed_last_24h, 'failed'),
      card('delivered, last hour', s.delivered_per_minute.reduce((a, m) => a + m.delivered, 0), 'delivered'));
    chart.replaceChildren(barChart(s.delivered_per_minute.map((m) => ({
      label: new Date(m.minute).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }), value: m.delivered,
    })), 'Deliveries per minute over the last hour'));
    dhis2.replaceChildren(s.dhis2.reachable
      ? h('span.ok', {}, `reachable, version ${s.dhis2.version || 'unknown'}`)
      : h('span.error', {}, `not reachable: ${s.dhis2.error}`), h('span.muted', {}, ` (checked ${when(s.dhis2.checked_at)})`));
  }
  await load();
  const timer = setInterval(() => { if (!document.hidden) load().catch(() => {}); }, 10000);
  return () => clearInterval(timer);
}
