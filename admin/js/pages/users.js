// Users and tokens: admins create users, change roles, disable or enable them and reset
// passwords; everyone can create (or replace) their own API token, shown once.
import { api, can, currentSession, get, query } from '../api.js';
import { confirmDialog, fail, h, showDialog, table, toast, urlParams, when } from '../ui.js';

function tokenPanel() {
  const out = h('div');
  const show = (res) => out.replaceChildren(
    h('p', {}, 'Copy this token now: it is not shown again. Send it as ', h('code', {}, 'Authorization: Token …'), '.'),
    h('p.secret', { 'data-testid': 'new-token' }, res.token),
    h('p.muted', {}, `Expires ${when(res.expires)}.`));
  const act = (path, question) => async () => {
    if (!(await confirmDialog(question, 'Continue'))) return;
    try { show(await api('POST', path)); } catch (e) { fail(e); }
  };
  return h('div.panel', {}, h('h2', {}, `API token of ${currentSession().username}`),
    h('div.bar', {},
      h('button', { type: 'button', 'data-testid': 'create-token', onclick: act('/api/v2/users/getToken', 'Create a new API token? Your other API tokens stop working.') }, 'Create token'),
      h('button', { type: 'button', onclick: act('/api/v2/users/refreshToken', 'Replace your live API token? The old one stops working.') }, 'Replace token')),
    out);
}

export async function render(main, navigate) {
  if (!can('users')) {
    main.replaceChildren(h('h1', {}, 'My API token'), tokenPanel());
    return;
  }
  const params = urlParams();
  const page = Number(params.page || 1);
  const list = h('div');
  const pager = h('div.bar');

  const username = h('input', { name: 'username', required: true });
  const password = h('input', { name: 'password', type: 'password', minlength: 8, required: true, autocomplete: 'new-password' });
  const role = h('select', { name: 'role' }, ['viewer', 'submitter', 'admin'].map((r) => h('option', { value: r }, r)));
  const create = h('form.filters.panel', {
    'data-testid': 'create-user',
    onsubmit: async (ev) => {
      ev.preventDefault();
      try {
        await api('POST', '/api/v2/users', { username: username.value, password: password.value, role: role.value });
        toast(`Created ${username.value}`);
        create.reset();
        await load();
      } catch (e) { fail(e); }
    },
  }, h('label', {}, 'Username', username), h('label', {}, 'Password (8+)', password), h('label', {}, 'Role', role),
  h('button.primary.write', { type: 'submit' }, 'Create user'));

  main.replaceChildren(h('h1', {}, 'Users and tokens'), create, list, pager, tokenPanel());

  async function update(u, body, done) {
    try { await api('PUT', `/api/v2/users/${u.uid}`, body); toast(done); await load(); } catch (e) { fail(e); await load(); }
  }

  async function resetPassword(u) {
    const pw = h('input', { type: 'password', minlength: 8, required: true, 'aria-label': 'new password', autocomplete: 'new-password' });
    const dlg = h('dialog', {}, h('form', {
      onsubmit: async (ev) => {
        ev.preventDefault();
        try { await api('POST', `/api/v2/users/${u.uid}/password`, { new_password: pw.value }); toast(`Password of ${u.username} changed`); dlg.close(); } catch (e) { fail(e); }
      },
    }, h('h2', {}, `New password for ${u.username}`), pw, h('div.bar', {}, h('button.primary', { type: 'submit' }, 'Set password'),
      h('button', { type: 'button', onclick: () => dlg.close() }, 'Cancel'))));
    dlg.addEventListener('close', () => dlg.remove());
    document.body.append(dlg);
    dlg.showModal();
  }

  /** A user's API tokens (never the tokens themselves), each live one with Revoke. */
  async function showTokens(u) {
    const body = h('div', { 'data-testid': 'user-tokens' });
    const draw = async () => {
      const res = await get(`/api/v2/users/${u.uid}/tokens`);
      body.replaceChildren(res.items.length ? table([
        ['ID', (t) => String(t.id)],
        ['State', (t) => h('span', { 'data-token-state': t.id }, t.is_active ? 'live' : 'revoked')],
        ['Created', (t) => when(t.created)], ['Expires', (t) => when(t.expires_at)], ['Last used', (t) => when(t.last_used_at)],
        ['', (t) => (t.is_active ? h('button.write.danger', {
          type: 'button', 'data-revoke': t.id,
          onclick: async () => {
            if (!(await confirmDialog(`Revoke API token ${t.id} of ${u.username}? It stops working at once.`, 'Revoke'))) return;
            try { await api('DELETE', `/api/v2/users/${u.uid}/tokens/${t.id}`); toast(`Token ${t.id} revoked`); await draw(); } catch (e) { fail(e); }
          },
        }, 'Revoke') : '')],
      ], res.items) : h('p.muted', {}, `${u.username} has no API tokens`));
    };
    try { await draw(); showDialog(`API tokens of ${u.username}`, body); } catch (e) { fail(e); }
  }

  async function load() {
    const res = await get(`/api/v2/users${query({ page, page_size: 50 })}`);
    list.replaceChildren(table([
      ['Username', (u) => u.username],
      ['Role', (u) => h('select.write', {
        'aria-label': `role of ${u.username}`, 'data-role': u.username,
        onchange: (ev) => update(u, { role: ev.target.value }, `${u.username} is now ${ev.target.value}`),
      }, ['viewer', 'submitter', 'admin'].map((r) => h('option', { value: r, selected: u.role === r }, r)))],
      ['Active', (u) => (u.is_active ? 'yes' : 'no')],
      ['Last login', (u) => when(u.last_login)],
      ['', (u) => h('div.bar', {},
        u.is_active
          ? h('button.write.danger', { type: 'button', 'data-disable': u.username, onclick: async () => {
            if (await confirmDialog(`Disable ${u.username}? Their sessions and tokens stop working.`, 'Disable')) {
              try { await api('DELETE', `/api/v2/users/${u.uid}`); toast(`${u.username} disabled`); await load(); } catch (e) { fail(e); }
            }
          } }, 'Disable')
          : h('button.write', { type: 'button', onclick: () => update(u, { is_active: true }, `${u.username} enabled`) }, 'Enable'),
        h('button.write', { type: 'button', onclick: () => resetPassword(u) }, 'Reset password'),
        h('button.write', { type: 'button', 'data-tokens': u.username, onclick: () => showTokens(u) }, 'API tokens'))],
    ], res.items));
    pager.replaceChildren(
      page > 1 ? h('a', { href: `/admin/users?page=${page - 1}` }, '← Previous') : '',
      h('span.muted', {}, `page ${res.page} of ${Math.max(1, res.total_pages)} · ${res.total} users`),
      page < res.total_pages ? h('a', { href: `/admin/users?page=${page + 1}` }, 'Next →') : '');
  }
  void navigate;
  await load();
}
