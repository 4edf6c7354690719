import { h, state, api, confirmDialog, fmtTime } from '../app.js';

// How often the page reads the outbox again.
const REFRESH_MS = 2000;

export async function renderCallbacks(main, appParam) {
  const apps = state.session.apps;
  main.append(h('h1', {}, 'Callbacks'));
  if (!apps.length) { main.append(h('p', { class: 'empty' }, 'This account owns no apps.')); return; }
  const app = apps.includes(Number(appParam)) ? Number(appParam) : apps[0];
  const picker = h('select', { id: 'app', onchange: (e) => { location.hash = '#/callbacks/' + e.target.value; } },
    apps.map((a) => h('option', { value: a, selected: a === app }, 'SdkAppId ' + a)));
  const summary = h('div', { id: 'cb-summary' });
  const recent = h('tbody');
  const dead = h('tbody');
  const result = h('div', { id: 'cb-result' });
  const replayAll = h('button', { class: 'danger small', id: 'replay-all', onclick: () => replay({ all: true }, 'Replay every dead letter of SdkAppId ' + app + '? They go back to the outbox and are sent again.') }, 'Replay all');
  let configured = null;

  async function replay(what, question) {
    if (!(await confirmDialog(question))) return;
    try {
      const r = await api('callbacks/replay', { app, ...what });
      result.replaceChildren(h('p', { class: 'note' }, r.replayed + ' dead letter(s) moved back to the outbox; the sender picks them up within seconds.'));
    } catch (e) {
      result.replaceChildren(h('p', { class: 'error' }, e.message));
    }
    load();
  }

  async function load() {
    let d;
    try { d = await api('callbacks?app=' + app); } catch (e) { summary.replaceChildren(h('p', { class: 'error' }, e.message)); return; }
    if (!summary.isConnected) return; // the page was left meanwhile
    if (!d.configured) {
      if (configured !== false) {
        configured = false;
        main.replaceChildren(h('div', { class: 'toolbar' }, h('h1', {}, 'Callbacks'), h('span', { class: 'spacer' }), picker),
          h('p', { class: 'note', id: 'cb-none' }, 'SdkAppId ' + app + ' has no callback: set apps[].callback.url in the configuration to receive room and media events.'));
      }
      return;
    }
    configured = true;
    const att = d.attempts || {};
    summary.replaceChildren(h('div', { class: 'card' },
      h('p', {}, 'Receiver ', h('code', { id: 'cb-url' }, d.url), h('span', { class: 'muted' }, ' (the signing key is never shown)')),
      h('p', {}, 'Outbox: ', h('b', { id: 'cb-pending' }, String(d.pending)), ' undelivered · ', h('b', { id: 'cb-dead-count' }, String(d.deadCount)), ' dead letter(s)',
        d.attempts ? h('span', { class: 'muted', id: 'cb-stats' }, ' · since this server started: ' + (att.ok || 0) + ' delivered, mean latency ' +
          d.meanLatencyMs.toFixed(1) + ' ms; failed attempts: ' +
          (Object.entries(att).filter(([k]) => k !== 'ok').map(([k, v]) => v + ' ' + k).join(', ') || 'none')) : '')));
    recent.replaceChildren(...d.recent.map((x) => h('tr', { 'data-id': x.id, 'data-state': x.delivered ? 'delivered' : 'pending' },
      h('td', {}, fmtTime(x.eventMsTs)), h('td', {}, String(x.eventType)), h('td', {}, x.room), h('td', {}, String(x.seq)),
      h('td', { class: 'status' }, x.delivered ? h('span', { class: 'code-ok' }, '200 OK') : h('span', { class: 'code-err' }, x.lastError || 'pending')),
      h('td', {}, String(x.attempts)),
      h('td', { class: 'latency' }, x.delivered ? (x.doneMsTs - x.eventMsTs) + ' ms' : '—'))));
    if (!d.recent.length) recent.append(h('tr', {}, h('td', { colspan: 7, class: 'empty' }, 'No recent deliveries.')));
    dead.replaceChildren(...d.deadLetters.map((x) => h('tr', { 'data-dead': x.id },
      h('td', {}, String(x.id)), h('td', {}, fmtTime(x.eventMsTs)), h('td', {}, String(x.eventType)), h('td', {}, x.room),
      h('td', {}, String(x.attempts)), h('td', { class: 'code-err' }, x.lastError), h('td', {}, fmtTime(x.deadMsTs)),
      h('td', {}, h('button', { class: 'small replay', 'data-dead': x.id, onclick: () =>
        replay({ ids: [x.id] }, 'Replay dead letter ' + x.id + ' (event ' + x.eventType + ' of ' + x.room + ')? It is sent again.') }, 'Replay')))));
    if (d.deadTruncated) dead.append(h('tr', {}, h('td', { colspan: 8, class: 'muted' }, 'Only the newest ' + d.deadLetters.length + ' of ' + d.deadCount + ' dead letters are listed; Replay all replays every one.')));
    if (!d.deadLetters.length) dead.append(h('tr', {}, h('td', { colspan: 8, class: 'empty' }, 'No dead letters.')));
    replayAll.hidden = !d.deadLetters.length;
  }

  main.replaceChildren(h('div', { class: 'toolbar' }, h('h1', {}, 'Callbacks'), h('span', { class: 'spacer' }), h('span', {}, h('span', { class: 'live' }), 'refreshed every 2 s'), picker),
    summary,
    h('h2', {}, 'Recent deliveries'),
    h('table', { id: 'deliveries' }, h('thead', {}, h('tr', {}, h('th', {}, 'Event time'), h('th', {}, 'EventType'), h('th', {}, 'Room'),
      h('th', {}, 'Seq'), h('th', {}, 'Status'), h('th', {}, 'Attempts'), h('th', {}, 'Latency'))), recent),
    h('div', { class: 'toolbar' }, h('h2', {}, 'Dead letters'), h('span', { class: 'spacer' }), replayAll),
    h('table', { id: 'deadletters' }, h('thead', {}, h('tr', {}, h('th', {}, 'Id'), h('th', {}, 'Event time'), h('th', {}, 'EventType'), h('th', {}, 'Room'),
      h('th', {}, 'Attempts'), h('th', {}, 'Last error'), h('th', {}, 'Dead since'), h('th', {}, ''))), dead),
    result);
  await load();
  const timer = setInterval(load, REFRESH_MS);
  state.cleanup.push(() => clearInterval(timer));
}
