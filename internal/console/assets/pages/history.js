import { h, state, api, fmtTime } from '../app.js';

const SVG = 'http://www.w3.org/2000/svg';

// s builds an SVG element (attributes only; no style attribute: the CSP
// forbids inline style, so the look is in style.css by class).
function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

function appPicker(apps, app, hashFor) {
  return h('select', { id: 'app', onchange: (e) => { location.hash = hashFor(e.target.value); } },
    apps.map((a) => h('option', { value: a, selected: a === app }, 'SdkAppId ' + a)));
}

// localInput turns Unix ms into a datetime-local value and back.
function toLocal(ms) {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60000);
  return d.toISOString().slice(0, 16);
}
function fromLocal(v) { const t = new Date(v).getTime(); return isNaN(t) ? '' : String(t); }

function dur(ms) {
  if (ms < 1000) return ms + ' ms';
  const sec = Math.round(ms / 1000);
  if (sec < 120) return sec + ' s';
  const min = Math.round(sec / 60);
  if (min < 120) return min + ' min';
  const hours = Math.round(min / 60);
  return hours < 72 ? hours + ' h' : Math.round(hours / 24) + ' days';
}

export async function renderHistory(main, appParam, comm, query) {
  const apps = state.session.apps;
  main.append(h('h1', {}, 'History'));
  if (!apps.length) { main.append(h('p', { class: 'empty' }, 'This account owns no apps.')); return; }
  const app = apps.includes(Number(appParam)) ? Number(appParam) : apps[0];
  if (comm) return renderTimeline(main, app, comm);
  const params = new URLSearchParams(query || '');
  const qs = new URLSearchParams({ app: String(app) });
  for (const k of ['from', 'to', 'offset']) if (params.get(k)) qs.set(k, params.get(k));
  const d = await api('history/rooms?' + qs);
  if (!d.enabled) {
    main.append(h('p', { class: 'note', id: 'history-off' }, 'History is off on this server (history: off in its configuration, or a cluster without a postgres:// history store), so there is nothing to show.'));
    return;
  }
  const from = h('input', { id: 'history-from', type: 'datetime-local', value: toLocal(d.fromMs) });
  const to = h('input', { id: 'history-to', type: 'datetime-local', value: toLocal(d.toMs) });
  const go = (offset) => {
    const p = new URLSearchParams({ from: fromLocal(from.value), to: fromLocal(to.value) });
    if (offset) p.set('offset', String(offset));
    location.hash = '#/history/' + app + '?' + p;
  };
  main.append(h('div', { class: 'toolbar' },
    h('div', { class: 'row' }, h('div', {}, h('label', { for: 'history-from' }, 'From'), from), h('div', {}, h('label', { for: 'history-to' }, 'To'), to),
      h('div', {}, h('button', { class: 'primary', id: 'history-show', onclick: () => go(0) }, 'Show'))),
    h('span', { class: 'spacer' }), appPicker(apps, app, (v) => '#/history/' + v)));
  const body = h('tbody');
  for (const r of d.rooms) {
    const href = '#/history/' + app + '/' + encodeURIComponent(r.commId);
    body.append(h('tr', { class: 'clickable', 'data-comm': r.commId, 'data-room': r.room, onclick: () => { location.hash = href; } },
      h('td', {}, h('a', { href }, r.room)), h('td', { class: 'muted' }, r.commId),
      h('td', {}, fmtTime(r.createdMs)), h('td', {}, r.destroyedMs ? fmtTime(r.destroyedMs) : h('span', { class: 'badge anchor' }, 'open')),
      h('td', {}, r.closeReason || '—'), h('td', {}, r.creator)));
  }
  if (!d.rooms.length) body.append(h('tr', {}, h('td', { colspan: 6, class: 'empty' }, 'No room sessions in this time range.')));
  main.append(h('table', { id: 'history-rooms' }, h('thead', {}, h('tr', {}, h('th', {}, 'Room'), h('th', {}, 'CommId'), h('th', {}, 'Opened'),
    h('th', {}, 'Closed'), h('th', {}, 'Why'), h('th', {}, 'Opened by'))), body));
  const pager = h('p', { class: 'muted' }, d.total + ' room session(s) overlap the range; kept for ' + dur(d.retentionMs) + '. ');
  if (d.offset > 0) pager.append(h('button', { class: 'small', onclick: () => go(Math.max(0, d.offset - d.pageSize)) }, 'Earlier page'), ' ');
  if (d.offset + d.rooms.length < d.total) pager.append(h('button', { class: 'small', id: 'history-next', onclick: () => go(d.offset + d.pageSize) }, 'Next page'));
  main.append(pager);
}

async function renderTimeline(main, app, comm) {
  const d = await api('history/room?app=' + app + '&comm=' + encodeURIComponent(comm));
  if (!d.enabled) { main.append(h('p', { class: 'note', id: 'history-off' }, 'History is off on this server.')); return; }
  const r = d.room;
  const end = r.destroyedMs || d.nowMs;
  main.append(h('p', {}, h('a', { href: '#/history/' + app }, '← room sessions'), ' · ', h('b', {}, (r.isStr ? 'string room ' : 'room ') + r.room),
    h('span', { class: 'muted' }, ' · ' + r.commId + ' · opened ' + fmtTime(r.createdMs) + ' by ' + (r.creator || '?') + ' · ' +
      (r.destroyedMs ? 'closed ' + fmtTime(r.destroyedMs) + ' (' + r.closeReason + ')' : 'still open') + ' · ' + dur(end - r.createdMs))));
  main.append(chart(d.members, r.createdMs, end, d.nowMs));
  if (d.truncated) main.append(h('p', { class: 'note' }, 'Only the first ' + d.members.length + ' of ' + d.total + ' stays are drawn.'));
  const body = h('tbody');
  for (const m of d.members) {
    body.append(h('tr', { 'data-user': m.userId },
      h('td', {}, m.userId), h('td', {}, h('span', { class: 'badge ' + m.role }, m.role)),
      h('td', {}, fmtTime(m.joinMs)), h('td', {}, m.leaveMs ? fmtTime(m.leaveMs) : 'still in'),
      h('td', { class: 'reason' }, m.leaveReason || '—'), h('td', {}, dur((m.leaveMs || d.nowMs) - m.joinMs)),
      h('td', { class: 'muted' }, [m.device, m.sdkVersion].filter(Boolean).join(' · '))));
  }
  if (!d.members.length) body.append(h('tr', {}, h('td', { colspan: 7, class: 'empty' }, 'Nobody stayed in this room session.')));
  main.append(h('h2', {}, 'Who was in it, and why each left'),
    h('table', { id: 'timeline-table' }, h('thead', {}, h('tr', {}, h('th', {}, 'UserId'), h('th', {}, 'Role'), h('th', {}, 'Joined'),
      h('th', {}, 'Left'), h('th', {}, 'Why'), h('th', {}, 'Stayed'), h('th', {}, 'Client'))), body));
}

// chart draws one row per stay: a bar from join to leave (to now while
// present), coloured by the leave reason, with the reason at its end.
function chart(members, start, end, now) {
  const W = 1100, left = 150, right = 110, row = 26, top = 28;
  const span = Math.max(end - start, 1);
  const x = (t) => left + ((Math.min(Math.max(t, start), end) - start) / span) * (W - left - right);
  const H = top + Math.max(members.length, 1) * row + 10;
  const svg = s('svg', { id: 'timeline', class: 'timeline', viewBox: '0 0 ' + W + ' ' + H, width: W, height: H, role: 'img',
    'aria-label': 'timeline of the room session' });
  for (let i = 0; i <= 4; i++) {
    const t = start + (span * i) / 4, xx = x(t);
    svg.append(s('line', { class: 'tick', x1: xx, x2: xx, y1: top - 6, y2: H - 6 }),
      s('text', { class: 'axis', x: xx, y: 14, 'text-anchor': i === 0 ? 'start' : i === 4 ? 'end' : 'middle' }, new Date(t).toLocaleTimeString(undefined, { hour12: false })));
  }
  members.forEach((m, i) => {
    const y = top + i * row;
    const x1 = x(m.joinMs), x2 = Math.max(x(m.leaveMs || now), x1 + 2);
    const reason = m.leaveReason || (m.leaveMs ? 'left' : 'present');
    const g = s('g', { class: 'stay', 'data-user': m.userId, 'data-reason': reason });
    g.append(s('title', {}, m.userId + ' (' + m.role + '): ' + fmtTime(m.joinMs) + ' → ' + (m.leaveMs ? fmtTime(m.leaveMs) + ', ' + reason : 'still in')),
      s('text', { class: 'who', x: left - 8, y: y + 16, 'text-anchor': 'end' }, m.userId),
      s('rect', { class: 'bar ' + m.role + ' r-' + reason, x: x1, y: y + 4, width: x2 - x1, height: row - 10, rx: 3 }),
      s('text', { class: 'why', x: x2 + 6, y: y + 16 }, m.leaveMs ? reason : 'present'));
    svg.append(g);
  });
  return h('div', { class: 'card chart' }, svg);
}
