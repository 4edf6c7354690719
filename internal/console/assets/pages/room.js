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
    h('p', { class: 'muted' }, 'SdkAppId ' + app + '. Buttons call the API as your account (RemoveUser, SetUserBlocked, DismissRoom): its rate limits, faults and journal apply. The media column is what this server\'s SFU holds.'),
    h('table', { id: 'members' }, h('thead', {}, h('tr', {}, h('th', {}, 'UserId'), h('th', {}, 'Role'), h('th', {}, 'Joined'), h('th', {}, 'Node'), h('th', {}, 'Media'), h('th', {}, ''))), body),
    result);
  const blockAction = str ? 'SetUserBlockedByStrRoomId' : 'SetUserBlocked';
  const blockParams = (user, audio, video) => ({ SdkAppId: app, [str ? 'StrRoomId' : 'RoomId']: str ? roomId : Number(roomId), UserId: user,
    IsMute: audio && video ? 1 : audio ? 2 : video ? 3 : 0 });
  function mediaCell(m) {
    const st = m.media;
    if (!st) return h('td', { class: 'media muted' }, 'media off');
    const pub = ['audio', 'video', 'screen'].filter((k) => st[k]);
    return h('td', { class: 'media', 'data-blocked-audio': String(st.blockedAudio), 'data-blocked-video': String(st.blockedVideo) },
      pub.length ? pub.map((k) => h('span', { class: 'badge pub' }, k)) : h('span', { class: 'muted' }, 'not publishing'), ' ',
      st.blockedAudio ? h('span', { class: 'badge blocked', id: 'blocked-audio-' + m.userId }, 'audio blocked') : '',
      st.blockedVideo ? h('span', { class: 'badge blocked', id: 'blocked-video-' + m.userId }, 'video blocked') : '');
  }
  function buttons(m) {
    const st = m.media || { blockedAudio: false, blockedVideo: false };
    const b = (cls, label, audio, video, q) => h('button', { class: 'small ' + cls, 'data-user': m.userId, onclick: () =>
      act(blockAction, blockParams(m.userId, audio, video), q) }, label);
    return [
      st.blockedAudio ? '' : b('block-audio', 'Block audio', true, st.blockedVideo, 'Block the audio of ' + m.userId + ' in ' + name + '? Nobody hears it until unblocked.'),
      st.blockedVideo ? '' : b('block-video', 'Block video', st.blockedAudio, true, 'Block the video of ' + m.userId + ' in ' + name + '? Nobody sees it until unblocked.'),
      st.blockedAudio || st.blockedVideo ? b('unblock', 'Unblock', false, false, 'Unblock the audio and video of ' + m.userId + ' in ' + name + '?') : '',
      h('button', { class: 'small remove', 'data-user': m.userId, onclick: () =>
        act(str ? 'RemoveUserByStrRoomId' : 'RemoveUser', { ...roomParams(), UserIds: [m.userId] }, 'Remove ' + m.userId + ' from ' + name + '? The client is disconnected.') }, 'Remove'),
    ];
  }
  live('room?app=' + app + '&room=' + encodeURIComponent(ref), (d) => {
    if (d.error) { result.replaceChildren(h('p', { class: 'error' }, d.error)); return; }
    body.replaceChildren(...d.members.map((m) => h('tr', { 'data-user': m.userId },
      h('td', {}, m.userId),
      h('td', {}, h('span', { class: 'badge ' + m.role }, m.role)),
      h('td', {}, fmtTime(m.joinedAt)),
      h('td', { class: 'muted' }, m.node),
      mediaCell(m),
      h('td', { class: 'actions' }, buttons(m)))));
    if (!d.members.length) body.append(h('tr', {}, h('td', { colspan: 6, class: 'empty', id: 'room-empty' }, 'The room is empty (it no longer exists).')));
  });
}
