// Small DOM helpers: element building (never innerHTML with data), toasts, confirmations.

/** h('tag.class', {attrs}, ...children): an element; strings become text nodes. */
export function h(spec, attrs = {}, ...children) {
  const [tag, ...classes] = spec.split('.');
  const el = document.createElement(tag);
  if (classes.length) el.className = classes.join(' ');
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'value') el.value = v;
    else if (k === 'checked') el.checked = !!v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

export function toast(message, bad = false) {
  const t = h('div.toast' + (bad ? '.bad' : ''), {}, message);
  document.getElementById('toasts').append(t);
  setTimeout(() => t.remove(), 4000);
}

export function fail(err) { toast(err.message || String(err), true); }

/** A modal confirmation; resolves true when confirmed. */
export function confirmDialog(message, action = 'Confirm') {
  return new Promise((resolve) => {
    const dlg = h('dialog', { 'data-testid': 'confirm' },
      h('p', {}, message),
      h('div.bar', {},
        h('button.danger', { type: 'button', 'data-testid': 'confirm-yes', onclick: () => { dlg.close(); resolve(true); } }, action),
        h('button', { type: 'button', onclick: () => { dlg.close(); resolve(false); } }, 'Cancel')));
    dlg.addEventListener('close', () => { dlg.remove(); resolve(false); });
    document.body.append(dlg);
    dlg.showModal();
  });
}

/** A modal with content; closes on Escape or the Close button. */
export function showDialog(title, ...content) {
  const dlg = h('dialog', { 'data-testid': 'detail' },
    h('div.bar', {}, h('h2', {}, title), h('button', { type: 'button', onclick: () => dlg.close() }, 'Close')),
    ...content);
  dlg.addEventListener('close', () => dlg.remove());
  document.body.append(dlg);
  dlg.showModal();
  return dlg;
}

export function when(t) { return t ? new Date(t).toLocaleString() : '—'; }

export function pretty(v) {
  if (v === null || v === undefined || v === '') return '—';
  if (typeof v === 'string') { try { return JSON.stringify(JSON.parse(v), null, 2); } catch { return v; } }
  return JSON.stringify(v, null, 2);
}

/** A table: columns are [header, row => cell]. */
export function table(columns, rows, rowAttrs = () => ({})) {
  return h('div.table-wrap', {}, h('table', {},
    h('thead', {}, h('tr', {}, columns.map(([title]) => h('th', { scope: 'col' }, title)))),
    h('tbody', {}, rows.map((r) => h('tr', rowAttrs(r), columns.map(([, cell]) => h('td', {}, cell(r))))))));
}

/** The current URL's query as an object. */
export function urlParams() { return Object.fromEntries(new URLSearchParams(location.search)); }
