// The demo page of trtcd (development mode only): join a room with a
// UserSig minted by the server for the development app, publish the camera
// and microphone, and show every other member's video and audio.
import { Room, TrtcdError } from '/sdk/trtcd.js';

const $ = (id) => document.getElementById(id);
const form = $('join');
const status = $('status');
const videos = $('videos');
let room = null;

// For the console and the browser tests: the current Room.
window.trtcdDemo = {
  get room() {
    return room;
  },
};

const params = new URLSearchParams(location.search);
for (const f of ['room', 'user', 'role']) if (params.get(f)) $(f).value = params.get(f);
if (params.get('publish') === '0') $('publish').checked = false;
if (!$('user').value) $('user').value = `user${Math.floor(Math.random() * 9000) + 1000}`;

function setStatus(state, text, reason = '') {
  status.dataset.state = state;
  status.dataset.reason = reason;
  status.textContent = text;
}

function log(text) {
  const li = document.createElement('li');
  li.textContent = `${new Date().toLocaleTimeString()} ${text}`;
  $('log').prepend(li);
}

const KICKED = {
  removed: 'You were removed from the room (RemoveUser).',
  dismissed: 'The room was dismissed (DismissRoom).',
  duplicate: 'You entered this room again elsewhere; this page was disconnected.',
  timeout: 'The room counts you as gone (timeout).',
};

function tile(userId) {
  let t = document.querySelector(`figure[data-user="${CSS.escape(userId)}"]`);
  if (t) return t;
  t = document.createElement('figure');
  t.className = 'tile remote';
  t.dataset.user = userId;
  const v = document.createElement('video');
  v.autoplay = true;
  v.playsInline = true;
  const cap = document.createElement('figcaption');
  cap.textContent = userId;
  t.append(v, cap);
  videos.append(t);
  return t;
}

function dropTile(userId) {
  const t = document.querySelector(`figure[data-user="${CSS.escape(userId)}"]`);
  if (t) t.remove();
}

function badge(userId, text) {
  const t = tile(userId);
  let b = t.querySelector('.badge');
  if (!text) {
    if (b) b.remove();
    return;
  }
  if (!b) {
    b = document.createElement('span');
    b.className = 'badge';
    t.append(b);
  }
  b.textContent = text;
}

function blockedText(e) {
  if (e.audio && e.video) return 'audio and video blocked';
  if (e.audio) return 'audio blocked';
  if (e.video) return 'video blocked';
  return '';
}

// showRole shows this page's current role and what the switch button does.
function showRole(role) {
  const cur = $('current-role');
  cur.dataset.role = role;
  cur.textContent = role ? role : 'not joined';
  const button = $('switch-button');
  button.textContent = role === 'audience' ? 'Switch to anchor' : 'Switch to audience';
  button.disabled = !role;
}

function roleNote(text, code = '') {
  const n = $('role-note');
  n.textContent = text;
  n.dataset.code = code;
}

function hideLocal() {
  $('local-tile').hidden = true;
  $('local-video').srcObject = null;
}

function reset() {
  for (const t of document.querySelectorAll('figure.remote')) t.remove();
  hideLocal();
  $('join-button').disabled = false;
  $('leave-button').disabled = true;
  showRole('');
  roleNote('');
}

// publishLocal publishes the camera and microphone and shows them.
async function publishLocal(r) {
  const stream = await r.publish({ audio: true, video: { width: 640, height: 480 } });
  $('local-video').srcObject = stream;
  $('local-caption').textContent = `${r.userId} (you)`;
  $('local-tile').hidden = false;
  log('publishing camera and microphone');
}

async function mint(userId) {
  const r = await fetch('/demo/usersig', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ userId }),
  });
  const body = await r.json().catch(() => ({}));
  if (!r.ok) throw new TrtcdError(body.code || 'UserSigFailed', body.message || `HTTP ${r.status}`);
  return body;
}

function wire(r) {
  r.on('user-entered', (e) => {
    log(`${e.userId} entered`);
    tile(e.userId);
  });
  r.on('user-left', (e) => {
    log(`${e.userId} left (${e.reason})`);
    dropTile(e.userId);
  });
  r.on('track-added', (e) => {
    log(`receiving ${e.userId}'s ${e.kind}`);
    const v = tile(e.userId).querySelector('video');
    if (v.srcObject !== e.stream) v.srcObject = e.stream;
    v.play().catch(() => {});
  });
  r.on('track-removed', (e) => log(`${e.userId}'s ${e.kind} ended`));
  r.on('blocked', (e) => {
    const text = blockedText(e);
    log(`${e.userId}: ${text || 'unblocked'}`);
    if (e.self) {
      if (text) setStatus('blocked', `The server blocked your ${text.replace(' blocked', '')}: others do not receive it.`, text);
      else setStatus('joined', `In the room as ${r.userId}.`);
    } else {
      badge(e.userId, text);
    }
  });
  r.on('role-switched', (e) => {
    log(`now ${e.role} (seq ${e.seq})`);
    showRole(e.role);
  });
  r.on('connection-state', (e) => log(`${e.pc} connection ${e.state}`));
  r.on('media-reset', (e) => {
    // The SDK publishes and receives again by itself; the tiles stay and get
    // their tracks back with track-added.
    log(`the room's media restarted on another server node (reset ${e.count}): ${e.republish ? 'publishing and ' : ''}receiving again`);
  });
  r.on('error', (e) => {
    log(`${e.fatal ? 'error' : 'server notice'} ${e.code}: ${e.message}`);
    if (e.fatal) setStatus('error', `Error: ${e.code}: ${e.message}`, e.code);
  });
  r.on('kicked', (e) => {
    log(`kicked: ${e.reason}`);
    setStatus('kicked', KICKED[e.reason] || `You are out of the room (${e.reason}).`, e.reason);
    reset();
  });
  r.on('closed', (e) => {
    log(`connection closed (${e.code}${e.reason ? ' ' + e.reason : ''})`);
    if (room === r && !r.kickReason && status.dataset.state !== 'left' && status.dataset.state !== 'error') {
      setStatus('error', `Disconnected from the server (${e.code}).`, 'closed');
    }
    reset();
  });
}

form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  if (room && room.state !== 'closed') return;
  $('join-button').disabled = true;
  const userId = $('user').value.trim();
  const roomText = $('room').value.trim();
  const role = $('role').value;
  const numeric = /^[0-9]+$/.test(roomText) && Number(roomText) >= 1 && Number(roomText) <= 4294967294;
  setStatus('joining', 'Joining…');
  try {
    const sig = await mint(userId);
    const r = new Room({
      sdkAppId: sig.sdkAppId,
      userId,
      userSig: sig.userSig,
      role,
      ...(numeric ? { roomId: Number(roomText) } : { strRoomId: roomText }),
    });
    room = r;
    wire(r);
    const joined = await r.join();
    for (const m of joined.members) if (m.userId !== userId) tile(m.userId);
    setStatus('joined', `In the room as ${userId} (app ${sig.sdkAppId}).`);
    $('leave-button').disabled = false;
    log(`joined room ${roomText} as ${userId} (${role})`);
    showRole(r.role);
    if (role === 'anchor' && $('publish').checked) await publishLocal(r);
  } catch (e) {
    const code = e instanceof TrtcdError ? e.code : e.name || 'Error';
    log(`failed: ${e.message}`);
    if (room && room.kickReason) return; // kicked while publishing: the kick's message stays
    if (room && room.state === 'joined') {
      setStatus('error', `Joined, but publishing failed: ${e.message}`, code);
    } else {
      setStatus('error', `Could not join: ${e.message}`, code);
      reset();
    }
  }
});

$('leave-button').addEventListener('click', () => {
  if (!room) return;
  setStatus('left', 'You left the room.');
  room.leave();
  log('left');
  reset();
});

// The switch button: anchor -> audience stops publishing (the SDK does it);
// audience -> anchor publishes again when "publish" is ticked.
$('switch-button').addEventListener('click', async () => {
  const r = room;
  if (!r || r.state !== 'joined') return;
  const target = r.role === 'anchor' ? 'audience' : 'anchor';
  $('switch-button').disabled = true;
  roleNote('');
  let step = `switch to ${target}`;
  try {
    await r.switchRole(target);
    if (target === 'audience') {
      hideLocal();
    } else if ($('publish').checked) {
      step = 'publishing';
      await publishLocal(r);
    }
  } catch (e) {
    const code = e instanceof TrtcdError ? e.code : e.name || 'Error';
    log(`${step} failed: ${e.message}`);
    if (r.kickReason || r.state !== 'joined') return;
    roleNote(step === 'publishing' ? `Publishing failed: ${e.message}` : `Could not ${step}: ${e.message}`, code);
  } finally {
    if (room === r && r.state === 'joined') showRole(r.role);
  }
});
