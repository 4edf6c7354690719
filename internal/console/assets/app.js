// The console's shell: session, the API helpers, the router and the
// confirmation dialog. Pages are modules under pages/.
import { renderSignIn } from './pages/signin.js';
import { renderRooms } from './pages/rooms.js';
import { renderRoom } from './pages/room.js';
import { renderJournal } from './pages/journal.js';
import { renderExplorer } from './pages/explorer.js';
import { renderFaults } from './pages/faults.js';
import { renderHistory } from './pages/history.js';
import { renderCallbacks } from './pages/callbacks.js';

export const state = { session: null, cleanup: [] };

// h builds an element: attributes (on* as listeners) and children (text or
// nodes). Text is never parsed as HTML.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

export async function api(path, body) {
  const opts = { credentials: 'same-origin', headers: {} };
  if (body !== undefined) {
    opts.method = 'POST';
    opts.headers['Content-Type'] = 'application/json';
    if (state.session) opts.headers['X-CSRF-Token'] = state.session.csrf;
    opts.body = JSON.stringify(body);
  }
  const r = await fetch('api/' + path, opts);
  if (r.status === 401 && path !== 'signin') { signedOut(); throw new Error('signed out'); }
  const text = await r.text();
  const data = text ? JSON.parse(text) : {};
  if (!r.ok) throw new Error(data.error || ('HTTP ' + r.status));
  return data;
}

// call runs an API action as the signed-in account; it answers
// {request, response, cli} where response is the API's Response object.
export async function call(action, params, region) {
  const out = await api('call', { action, params: params || {}, region: region || '' });
  out.response = out.response && out.response.Response ? out.response.Response : out.response;
  return out;
}

export function confirmDialog(text) {
  const d = document.getElementById('confirm');
  document.getElementById('confirm-text').textContent = text;
  return new Promise((resolve) => {
    d.addEventListener('close', () => resolve(d.returnValue === 'yes'), { once: true });
    d.returnValue = '';
    d.showModal();
  });
}

export function live(path, onData) {
  const es = new EventSource('api/live/' + path);
  es.onmessage = (ev) => onData(JSON.parse(ev.data));
  es.addEventListener('signedout', () => { es.close(); signedOut(); });
  state.cleanup.push(() => es.close());
  return es;
}

export function fmtTime(t) {
  const d = new Date(t);
  return isNaN(d) ? '' : d.toLocaleString(undefined, { hour12: false });
}

export function codeSpan(code) {
  return h('span', { class: code === 'OK' ? 'code-ok' : 'code-err' }, code);
}

function signedOut() {
  state.session = null;
  route();
}

const main = () => document.getElementById('main');

export async function route() {
  for (const f of state.cleanup.splice(0)) f();
  const m = main();
  m.replaceChildren();
  const top = document.getElementById('top');
  if (!state.session) {
    top.hidden = true;
    renderSignIn(m, (s) => { state.session = s; if (!location.hash || location.hash === '#/') location.hash = '#/rooms'; route(); });
    return;
  }
  top.hidden = false;
  document.getElementById('who').textContent = state.session.account + ' · ' + state.session.secretId;
  const [path, query] = location.hash.replace(/^#\/?/, '').split('?');
  const parts = (path || 'rooms').split('/').map(decodeURIComponent);
  for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('active', a.dataset.page === parts[0] || (parts[0] === 'room' && a.dataset.page === 'rooms'));
  try {
    switch (parts[0]) {
      case 'room': await renderRoom(m, parts[1], parts.slice(2).join('/')); break;
      case 'journal': await renderJournal(m); break;
      case 'explorer': await renderExplorer(m, parts[1]); break;
      case 'faults': await renderFaults(m); break;
      case 'history': await renderHistory(m, parts[1], parts.slice(2).join('/'), query); break;
      case 'callbacks': await renderCallbacks(m, parts[1]); break;
      default: await renderRooms(m, parts[1]);
    }
  } catch (e) {
    if (state.session) m.append(h('p', { class: 'error' }, String(e.message || e)));
  }
}

async function start() {
  document.getElementById('signout').addEventListener('click', async () => {
    try { await api('signout', {}); } catch (e) { /* already out */ }
    state.session = null;
    location.hash = '';
    route();
  });
  window.addEventListener('hashchange', route);
  try { state.session = await api('session'); } catch (e) { state.session = null; }
  route();
}

start();
