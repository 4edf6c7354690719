import { h, state, live } from '../app.js';

export async function renderRooms(main, appParam) {
  const apps = state.session.apps;
  if (!apps.length) {
    main.append(h('h1', {}, 'Live rooms'), h('p', { class: 'empty' }, 'This account owns no apps.'));
    return;
  }
  const app = apps.includes(Number(appParam)) ? Number(appParam) : apps[0];
  const picker = h('select', { id: 'app', onchange: (e) => { location.hash = '#/rooms/' + e.target.value; } },
    apps.map((a) => h('option', { value: a, selected: a === app }, 'SdkAppId ' + a)));
  const body = h('tbody');
  const count = h('span', { class: 'muted', id: 'rooms-count' });
  main.append(
    h('div', { class: 'toolbar' }, h('h1', {}, 'Live rooms'), h('span', { class: 'spacer' }), h('span', {}, h('span', { class: 'live' }), 'live'), picker),
    h('table', { id: 'rooms-table' }, h('thead', {}, h('tr', {}, h('th', {}, 'Room'), h('th', {}, 'Kind'), h('th', {}, 'Members'), h('th', {}, 'Anchors'))), body),
    h('p', {}, count));
  live('rooms?app=' + app, (d) => {
    if (d.error) { count.textContent = d.error; return; }
    body.replaceChildren(...d.rooms.map((r) => {
      const href = '#/room/' + app + '/' + encodeURIComponent(r.ref);
      return h('tr', { class: 'clickable', 'data-room': r.ref, onclick: () => { location.hash = href; } },
        h('td', {}, h('a', { href }, r.strRoomId || String(r.roomId))),
        h('td', {}, r.strRoomId ? 'string' : 'numeric'),
        h('td', { class: 'members' }, String(r.members)),
        h('td', {}, String(r.anchors)));
    }));
    if (!d.rooms.length) body.append(h('tr', {}, h('td', { colspan: 4, class: 'empty' }, 'No live rooms in this app.')));
    count.textContent = d.rooms.length + ' room(s)' + (d.truncated ? ' (list cut at 1000)' : '');
  });
}
