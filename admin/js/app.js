// The console's shell: login, navigation (History API, so every page and its filters are a
// URL), logout. Each page module exports `render(main)` and may return a stop function.
import { can, currentSession, loadSession, login, logout, setLoggedOutHandler } from './api.js';
import { h, fail } from './ui.js';
import * as submissions from './pages/submissions.js';
import * as queue from './pages/queue.js';
import * as mappings from './pages/mappings.js';
import * as jobs from './pages/jobs.js';
import * as rules from './pages/rules.js';
import * as users from './pages/users.js';
import * as alerts from './pages/alerts.js';
import * as deliveries from './pages/deliveries.js';

const PAGES = [
  { path: 'submissions', title: 'Submissions', page: submissions, visible: () => true },
  { path: 'queue', title: 'Queue', page: queue, visible: () => can('queue_read') },
  { path: 'mappings', title: 'Mappings', page: mappings, visible: () => true },
  { path: 'rules', title: 'Alert rules', page: rules, visible: () => can('rules_read') },
  { path: 'alerts', title: 'Alerts', page: alerts, visible: () => can('alerts_read') },
  { path: 'deliveries', title: 'Deliveries', page: deliveries, visible: () => can('alerts_read') },
  { path: 'jobs', title: 'Jobs', page: jobs, visible: () => can('jobs_read') },
  { path: 'users', title: 'Users and tokens', page: users, visible: () => true },
];

let stopPage = null;

function titleOf(p) { return p.path === 'users' && !can('users') ? 'My API token' : p.title; }

/** Goes to a console URL (`/admin/...`) without reloading. */
export function navigate(url, replace = false) {
  if (replace) history.replaceState(null, '', url); else history.pushState(null, '', url);
  route();
}

function pageOfUrl() {
  const rest = location.pathname.replace(/^\/admin\/?/, '').split('/')[0];
  const visible = PAGES.filter((p) => p.visible());
  return visible.find((p) => p.path === rest) || visible[0];
}

function renderNav(current) {
  const nav = document.getElementById('nav');
  nav.replaceChildren(...PAGES.filter((p) => p.visible()).map((p) =>
    h('a', { href: `/admin/${p.path}`, 'aria-current': p === current ? 'page' : false, 'data-nav': p.path }, titleOf(p))));
  const s = currentSession();
  document.getElementById('who').replaceChildren(
    h('span', { 'data-testid': 'who' }, `${s.username} (${s.role})`),
    h('button', { type: 'button', 'data-testid': 'logout', onclick: doLogout }, 'Log out'));
}

async function doLogout() {
  try { await logout(); } catch (e) { fail(e); }
  showLogin();
}

function showLogin(message) {
  if (stopPage) { stopPage(); stopPage = null; }
  document.getElementById('nav').replaceChildren();
  document.getElementById('who').replaceChildren();
  const error = h('p.error', { role: 'alert', 'data-testid': 'login-error' }, message || '');
  const user = h('input', { name: 'username', autocomplete: 'username', required: true });
  const pass = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const form = h('form.login', {
    'data-testid': 'login',
    onsubmit: async (ev) => {
      ev.preventDefault();
      error.textContent = '';
      try { await login(user.value, pass.value); route(); } catch (e) { error.textContent = e.message; }
    },
  }, h('h1', {}, 'dhis2gw console'), h('label', {}, 'Username', user), h('label', {}, 'Password', pass),
  h('button.primary', { type: 'submit' }, 'Log in'), error);
  document.getElementById('main').replaceChildren(form);
  user.focus();
}

async function route() {
  if (!currentSession()) { showLogin(); return; }
  if (stopPage) { stopPage(); stopPage = null; }
  const page = pageOfUrl();
  renderNav(page);
  const main = document.getElementById('main');
  main.replaceChildren();
  document.title = `${titleOf(page)} · dhis2gw`;
  try { stopPage = (await page.page.render(main, navigate)) || null; } catch (e) { fail(e); }
}

document.addEventListener('click', (ev) => {
  const a = ev.target.closest('a');
  if (!a || a.target || a.hasAttribute('download') || ev.ctrlKey || ev.metaKey || ev.shiftKey) return;
  const url = new URL(a.href, location.href);
  if (url.origin === location.origin && url.pathname.startsWith('/admin') && !url.pathname.startsWith('/admin/static')) {
    ev.preventDefault();
    navigate(url.pathname + url.search);
  }
});
window.addEventListener('popstate', route);
setLoggedOutHandler(() => showLogin('Your session has ended; log in again.'));

loadSession().then(route);
