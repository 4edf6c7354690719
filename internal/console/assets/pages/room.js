import { h, live, call, confirmDialog, fmtTime, codeSpan } from '../app.js';

export async function renderRoom(main, app, ref) {
  app = Number(app);
  const str = ref.startsWith('s:');
  const roomId = ref.slice(2);
  const result = h('div', { id: 'result' });
  const body = h('tbody');
  const name = (str ? 'string room ' : 'room ') + roomId;
  const roomParams = () => ({ SdkAppId: app, RoomId: str ? roomId : Number(roomId) });

  async function act(action, params, question) {
    if (!(await confirmDialog(question))) return;
    result.replaceChildren(h('p', { class: 'muted' }, 'Calling ' + action + '…'));
    try {
      const out = await call(action, params);
      const err = out.response.Error;
      result.replaceChildren(h('p', { class: 'note' }, action + ': ', codeSpan(err ? err.Code : 'OK'), err ? ' — ' + err.Message : '',
        ' (RequestId ' + out.response.RequestId + ')'));
    } catch (e) {
      result.replaceChildren(h('p', { class: 'error' }, e.message));
    }
  }

  const dismiss = h('button', { class: 'danger', id: 'dismiss-room', onclick: () =>
    act(str ? 'DismissRoomByStrRoomId' : 'DismissRoom', roomParams(), 'Dismiss ' + name + '? Every member is removed and disconnected.') }, 'Dismiss room');
  main.append(
    h('div', { class: 'toolbar' }, h('h1', {}, h('a', { href: '#/rooms/' + app }, 'Live rooms'), ' / ', name),
      h('span', { class: 'spacer' }), h('span', {}, h('span', { class: 'live' }), 'live'), dismiss),
    h('p', { class: 'muted' }, 'SdkAppId ' + app + '. Buttons call the API as your account: its rate limits, faults and journal apply.'),
    h('table', { id: 'members' }, h('thead', {}, h('tr', {}, h('th', {}, 'UserId'), h('th', {}, 'Role'), h('th', {}, 'Joined'), h('th', {}, 'Node'), h('th', {}, ''))), body),
    result);
  live('room?app=' + app + '&room=' + encodeURIComponent(ref), (d) => {
    if (d.error) { result.replaceChildren(h('p', { class: 'error' }, d.error)); return; }
    body.replaceChildren(...d.members.map((m) => h('tr', { 'data-user': m.userId },
      h('td', {}, m.userId),
      h('td', {}, h('span', { class: 'badge ' + m.role }, m.role)),
      h('td', {}, fmtTime(m.joinedAt)),
      h('td', { class: 'muted' }, m.node),
      h('td', {}, h('button', { class: 'small remove', 'data-user': m.userId, onclick: () =>
        act(str ? 'RemoveUserByStrRoomId' : 'RemoveUser', { ...roomParams(), UserIds: [m.userId] }, 'Remove ' + m.userId + ' from ' + name + '? The client is disconnected.') }, 'Remove')))));
    if (!d.members.length) body.append(h('tr', {}, h('td', { colspan: 5, class: 'empty', id: 'room-empty' }, 'The room is empty (it no longer exists).')));
  });
}
