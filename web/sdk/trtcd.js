// trtcd.js: the browser SDK of trtcd, a plain ES module with no
// dependencies and no build step. It joins a room over trtcd's WebSocket
// (/v1/ws, docs/protocol.md), publishes the camera and microphone and
// receives the other members' tracks over WebRTC (docs/media.md).
//
//   import { Room } from '/sdk/trtcd.js';
//   const room = new Room({ sdkAppId, userId, userSig, roomId: 1234 });
//   room.on('track-added', (e) => { video.srcObject = e.stream; });
//   room.on('kicked', (e) => console.log('out of the room:', e.reason));
//   await room.join();
//   await room.publish({ audio: true, video: true });
//   await room.switchRole('audience'); // stops publishing; others see user-left role_switch
//
// Two RTCPeerConnections per member: "pub" is offered by this client and
// carries what it publishes; "sub" is offered by the server and carries the
// room's tracks, each named after its kind in a stream named after its
// publisher. Descriptions are sent complete (after ICE gathering).
//
// In cluster mode the server may send media_reset (the room's media moved
// to another node): the SDK closes both connections, publishes the same
// tracks again and asks for the room's tracks again by itself.

export const VERSION = '0.1.0';

/** Heartbeat interval: the server's idle timeout is at least twice this. */
export const HEARTBEAT_MS = 3000;

/** Longest wait for local ICE candidates before a description is sent. */
export const GATHER_TIMEOUT_MS = 10000;

/** Longest wait for the server's answer to a join, a publish offer or a role switch. */
export const ANSWER_TIMEOUT_MS = 20000;

/** The roles of a member: anchors publish and are listed; audience members only receive. */
export const ROLES = Object.freeze(['anchor', 'audience']);

// The error codes that answer a switch_role without ending the session
// (docs/protocol.md "Switching role"): they reject switchRole() only.
const SWITCH_ERRORS = new Set(['InvalidParameter.Role', 'FailedOperation.RoleUnchanged', 'FailedOperation.SwitchRole']);

/**
 * After a media_reset, how long the SDK keeps publishing again while the
 * server answers FailedOperation.Closed (the room's media is moving).
 */
export const RESET_WAIT_MS = 30000;

/** Pause between two attempts to publish again after a media_reset. */
export const RESET_RETRY_MS = 250;

const CLOSED = 'FailedOperation.Closed';

/** An error answered by the server (`code` is the protocol's code) or raised by the SDK. */
export class TrtcdError extends Error {
  constructor(code, message, extra = {}) {
    super(`${code}: ${message}`);
    this.name = 'TrtcdError';
    this.code = code;
    this.reason = extra.reason || '';
    this.trtcCode = extra.trtcCode || 0;
    this.ref = extra.ref || '';
  }
}

/** The WebSocket URL of the page's own server. */
export function defaultServer() {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${proto}//${location.host}/v1/ws`;
}

const KINDS = new Set(['audio', 'video', 'subvideo']);

// mediaSections maps each m-section's mid to its msid (stream and track id).
function mediaSections(sdp) {
  const out = new Map();
  let mid = null;
  let msid = null;
  const flush = () => {
    if (mid !== null) out.set(mid, msid);
  };
  for (const line of sdp.split(/\r?\n/)) {
    if (line.startsWith('m=')) {
      flush();
      mid = null;
      msid = null;
    } else if (line.startsWith('a=mid:')) {
      mid = line.slice(6).trim();
    } else if (line.startsWith('a=msid:')) {
      const [stream, track] = line.slice(7).trim().split(/\s+/);
      msid = { stream, track: track || '' };
    }
  }
  flush();
  return out;
}

// gathered waits until pc has gathered its local candidates, or the timeout.
function gathered(pc, timeoutMs) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      pc.removeEventListener('icegatheringstatechange', check);
      resolve();
    };
    const check = () => {
      if (pc.iceGatheringState === 'complete') done();
    };
    const timer = setTimeout(done, timeoutMs);
    pc.addEventListener('icegatheringstatechange', check);
  });
}

/**
 * A member of one room: the WebSocket session and its media.
 *
 * Events (room.on(type, handler); each handler gets one object):
 *   joined          {roomId, strRoomId, sessionId, members}
 *   user-entered    {userId, role}
 *   user-left       {userId, role, reason}            reason: left | removed | timeout | role_switch
 *   role-switched   {role, seq}                       this member's switchRole() was committed
 *   kicked          {reason}                          reason: removed | dismissed | duplicate | timeout
 *   blocked         {userId, audio, video, self}      the server stopped (true) or resumed (false) forwarding
 *   track-added     {userId, kind, track, stream}     kind: audio | video | subvideo
 *   track-removed   {userId, kind, track, stream}
 *   error           {code, message, ref, fatal}
 *   closed          {code, reason}                    the WebSocket closed (after kicked, leave, or a drop)
 *   connection-state {pc, state}                      pc: pub | sub
 *   media-reset     {count, republish}                the room's media restarted (cluster mode): both
 *                                                     connections closed; the SDK publishes and receives again
 */
export class Room {
  /**
   * @param {object} o sdkAppId, userId, userSig, roomId or strRoomId, and
   *   optionally role ('anchor' | 'audience'), privateMapKey, device (what the app says
   *   this client is: at most 128 bytes, no control characters, else the join fails
   *   with InvalidFrame), server (a ws:// or wss:// URL),
   *   receive (default true: receive the room's tracks from the join on).
   */
  constructor(o) {
    if (!o || typeof o !== 'object') throw new TrtcdError('InvalidOptions', 'options are required');
    for (const f of ['sdkAppId', 'userId', 'userSig']) {
      if (o[f] === undefined || o[f] === null || o[f] === '') throw new TrtcdError('InvalidOptions', `${f} is required`);
    }
    const hasNum = o.roomId !== undefined && o.roomId !== null && o.roomId !== '';
    const hasStr = o.strRoomId !== undefined && o.strRoomId !== null && o.strRoomId !== '';
    if (hasNum === hasStr) throw new TrtcdError('InvalidOptions', 'exactly one of roomId and strRoomId is required');
    if (o.role !== undefined && o.role !== 'anchor' && o.role !== 'audience') {
      throw new TrtcdError('InvalidOptions', 'role must be anchor or audience');
    }
    this.options = { ...o };
    this.userId = o.userId;
    this.role = o.role || 'anchor';
    this.state = 'new'; // new | joining | joined | closed
    this.members = new Map(); // userId -> role (the anchors, and this user)
    this.remote = new Map(); // userId -> {stream: MediaStream, tracks: Map<kind, MediaStreamTrack>}
    this.localStream = null;
    this.kickReason = '';
    this.mediaResets = 0; // media_reset messages followed
    this._published = null; // {stream, bitrate, own}: what publish() published, to publish again after a media_reset
    this._resetRecv = null; // {count, end}: media_renegotiate sent after a media_reset, repeated on FailedOperation.Closed
    this._handlers = new Map();
    this._ws = null;
    this._ping = 0;
    this._pub = null;
    this._sub = null;
    this._subMids = new Map(); // mid -> msid of the last offer on sub
    this._midOwner = new Map(); // mid -> {userId, kind} of the track last received on it
    this._pending = new Map(); // offer id -> {resolve, reject, timer}
    this._offers = 0;
    this._switch = null; // the switchRole() waiting for its answer: {role, resolve, reject, timer}
    this._queue = Promise.resolve(); // media messages, handled in order
  }

  /** Adds a handler for an event; returns a function that removes it. */
  on(type, fn) {
    if (!this._handlers.has(type)) this._handlers.set(type, new Set());
    this._handlers.get(type).add(fn);
    return () => this.off(type, fn);
  }

  off(type, fn) {
    const set = this._handlers.get(type);
    if (set) set.delete(fn);
  }

  _emit(type, detail) {
    const set = this._handlers.get(type);
    if (!set) return;
    for (const fn of [...set]) {
      try {
        fn(detail);
      } catch (e) {
        setTimeout(() => {
          throw e;
        });
      }
    }
  }

  /**
   * Connects and joins. Resolves with the joined message; rejects with a
   * TrtcdError carrying the server's code (e.g. AuthFailure.UserSig) when
   * the join is refused, or ConnectionFailed when the server cannot be reached.
   */
  join() {
    if (this.state !== 'new') return Promise.reject(new TrtcdError('InvalidState', `join on a room that is ${this.state}`));
    this.state = 'joining';
    const o = this.options;
    const frame = { type: 'join', sdkAppId: Number(o.sdkAppId), userId: o.userId, userSig: o.userSig, role: this.role };
    if (o.privateMapKey) frame.privateMapKey = o.privateMapKey;
    // What the server records about this client (history, the 103 callback):
    // a browser SDK, and the device if the app names one.
    frame.sdkVersion = `trtcd-web ${VERSION}`;
    if (o.device) frame.device = String(o.device);
    if (o.strRoomId !== undefined && o.strRoomId !== null && o.strRoomId !== '') frame.strRoomId = String(o.strRoomId);
    else frame.roomId = Number(o.roomId);
    return new Promise((resolve, reject) => {
      let ws;
      try {
        ws = new WebSocket(o.server || defaultServer());
      } catch (e) {
        this.state = 'closed';
        reject(new TrtcdError('ConnectionFailed', String(e && e.message ? e.message : e)));
        return;
      }
      this._ws = ws;
      let settled = false;
      const timer = setTimeout(() => fail(new TrtcdError('JoinTimeout', 'no answer to the join')), ANSWER_TIMEOUT_MS);
      const fail = (err) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this._shutdown();
        reject(err);
      };
      ws.onopen = () => ws.send(JSON.stringify(frame));
      ws.onerror = () => {};
      ws.onclose = (ev) => {
        if (!settled) {
          fail(new TrtcdError('ConnectionFailed', `the connection closed before the join was answered (${ev.code}${ev.reason ? ' ' + ev.reason : ''})`));
          return;
        }
        this._onClose(ev);
      };
      ws.onmessage = (ev) => {
        let m;
        try {
          m = JSON.parse(ev.data);
        } catch {
          this._emit('error', { code: 'InvalidMessage', message: 'the server sent a message that is not JSON', ref: '', fatal: false });
          return;
        }
        if (!settled) {
          if (m.type === 'joined') {
            settled = true;
            clearTimeout(timer);
            this.state = 'joined';
            for (const mem of m.members || []) this.members.set(mem.userId, mem.role);
            this.members.set(this.userId, this.role);
            this._ping = setInterval(() => this._send({ type: 'ping' }), HEARTBEAT_MS);
            // The server joins a session to the room's media with its first
            // media_ message: ask for the sub connection's offer at once, so
            // that members who do not publish receive too.
            if (o.receive !== false) this._send({ type: 'media_renegotiate', pc: 'sub' });
            const detail = { roomId: m.roomId, strRoomId: m.strRoomId, sessionId: m.sessionId, members: m.members || [] };
            resolve(detail);
            this._emit('joined', detail);
          } else if (m.type === 'error') {
            fail(new TrtcdError(m.code, m.message || '', m));
          }
          return;
        }
        this._onMessage(m);
      };
    });
  }

  _send(m) {
    const ws = this._ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(JSON.stringify(m));
    return true;
  }

  _onMessage(m) {
    const t = m.type || '';
    if (t.startsWith('media_')) {
      this._queue = this._queue.then(() => this._onMedia(m)).catch((e) => {
        this._emit('error', { code: 'MediaFailed', message: String(e && e.message ? e.message : e), ref: t, fatal: false });
      });
      return;
    }
    switch (t) {
      case 'pong':
        return;
      case 'user_entered':
        this.members.set(m.userId, m.role || 'anchor');
        this._emit('user-entered', { userId: m.userId, role: m.role || 'anchor' });
        return;
      case 'user_left':
        this.members.delete(m.userId);
        this._dropUser(m.userId);
        this._emit('user-left', { userId: m.userId, role: m.role || 'anchor', reason: m.reason || 'left' });
        return;
      case 'role_switched':
        this._roleSwitched(m);
        return;
      case 'kicked':
        this._kicked(m.reason || 'removed');
        return;
      case 'user_blocked': {
        const audio = blockedFlag(m, 'audio');
        const video = blockedFlag(m, 'video');
        this._emit('blocked', { userId: m.userId, audio, video, self: m.userId === this.userId });
        return;
      }
      case 'error': {
        // A refused switch_role is answered with an error and the session
        // stays; any other error after the join ends it.
        const sw = this._switch;
        if (sw) {
          this._switch = null;
          clearTimeout(sw.timer);
          sw.reject(new TrtcdError(m.code, m.message || '', m));
        }
        if (SWITCH_ERRORS.has(m.code)) {
          this._emit('error', { code: m.code, message: m.message || '', ref: 'switch_role', fatal: false });
          return;
        }
        this._emit('error', { code: m.code, message: m.message || '', ref: '', fatal: true });
        return;
      }
      default:
        return; // newer servers may send more; unknown types are ignored
    }
  }

  _kicked(reason) {
    if (this.kickReason) return;
    this.kickReason = reason;
    this._shutdown();
    this._emit('kicked', { reason });
  }

  _onClose(ev) {
    // The kicked message precedes close 4001; if it was lost, the close reason repeats it.
    if (ev.code === 4001 && !this.kickReason) {
      const reason = (ev.reason || '').replace(/^kicked:\s*/, '') || 'removed';
      this._kicked(reason);
    }
    this._shutdown();
    this._emit('closed', { code: ev.code, reason: ev.reason || '' });
  }

  // _shutdown ends the session: heartbeats, connections, local tracks.
  _shutdown() {
    this.state = 'closed';
    clearInterval(this._ping);
    this._rejectPending(new TrtcdError(CLOSED, 'the session ended'));
    if (this._switch) {
      clearTimeout(this._switch.timer);
      this._switch.reject(new TrtcdError(CLOSED, 'the session ended'));
      this._switch = null;
    }
    for (const pc of [this._pub, this._sub]) if (pc) pc.close();
    this._pub = null;
    this._sub = null;
    this._published = null;
    this._resetRecv = null;
    if (this.localStream) for (const t of this.localStream.getTracks()) t.stop();
    for (const userId of [...this.remote.keys()]) this._dropUser(userId);
    const ws = this._ws;
    if (ws && ws.readyState <= WebSocket.OPEN) ws.close(1000);
  }

  /** Leaves the room (others see reason left) and stops every track. */
  leave() {
    if (this.state === 'closed') return;
    this._send({ type: 'leave' });
    this._shutdown();
  }

  // ---- role -------------------------------------------------------------

  /**
   * Switches this member's role: 'anchor' (publishes, listed in the room)
   * or 'audience' (only receives). Resolves with {role, seq} once the server
   * committed the switch (role_switched), after which `role` is the new role
   * and the `role-switched` event has fired. Switching to audience stops
   * publishing first (unpublish()), as audience members may not publish; it
   * stays stopped if the switch is then refused. Rejects with a TrtcdError:
   * InvalidParameter.Role (a role other than anchor or audience, refused
   * here without sending anything), InvalidState (not joined, or another
   * switch is waiting for its answer), or the server's refusal
   * (FailedOperation.RoleUnchanged, FailedOperation.SwitchRole), after which
   * the session goes on unchanged.
   * @param {'anchor'|'audience'} role
   * @returns {Promise<{role: string, seq: number}>}
   */
  switchRole(role) {
    if (!ROLES.includes(role)) {
      return Promise.reject(new TrtcdError('InvalidParameter.Role', `role must be anchor or audience, not ${JSON.stringify(role)}`));
    }
    if (this.state !== 'joined') return Promise.reject(new TrtcdError('InvalidState', `switchRole on a room that is ${this.state}`));
    if (this._switch) return Promise.reject(new TrtcdError('InvalidState', 'a role switch is already waiting for its answer'));
    if (role === 'audience') this.unpublish();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this._switch !== sw) return;
        this._switch = null;
        reject(new TrtcdError('AnswerTimeout', 'the server did not answer the role switch'));
      }, ANSWER_TIMEOUT_MS);
      const sw = { role, resolve, reject, timer };
      this._switch = sw;
      if (!this._send({ type: 'switch_role', role })) {
        this._switch = null;
        clearTimeout(timer);
        reject(new TrtcdError('FailedOperation.Closed', 'the session ended'));
      }
    });
  }

  _roleSwitched(m) {
    const role = m.role === 'audience' ? 'audience' : 'anchor';
    this.role = role;
    this.members.set(this.userId, role);
    const detail = { role, seq: m.seq || 0 };
    const sw = this._switch;
    if (sw) {
      this._switch = null;
      clearTimeout(sw.timer);
      sw.resolve(detail);
    }
    this._emit('role-switched', detail);
  }

  // ---- publishing -------------------------------------------------------

  /**
   * Publishes the camera and microphone (getUserMedia with the given
   * constraints), or the tracks of a given MediaStream. Resolves with the
   * local MediaStream once the server answered; rejects with the server's
   * refusal (e.g. FailedOperation.PublishNotAllowed for audience members).
   * @param {{audio?: boolean|MediaTrackConstraints, video?: boolean|MediaTrackConstraints, stream?: MediaStream, bitrate?: {audio?: number, video?: number}}} o
   */
  async publish(o = {}) {
    if (this.state !== 'joined') throw new TrtcdError('InvalidState', 'publish before join');
    if (this._pub || this._published) throw new TrtcdError('InvalidState', 'already publishing; unpublish first');
    let stream = o.stream;
    if (!stream) {
      const c = { audio: o.audio === undefined ? true : o.audio, video: o.video === undefined ? true : o.video };
      stream = await navigator.mediaDevices.getUserMedia(c);
    }
    if (this.state !== 'joined') {
      if (!o.stream) for (const t of stream.getTracks()) t.stop();
      throw new TrtcdError(CLOSED, 'the session ended');
    }
    this.localStream = stream;
    const bitrate = o.bitrate || {};
    try {
      await this._negotiatePub(stream, bitrate, false);
    } catch (e) {
      if (!o.stream) for (const t of stream.getTracks()) t.stop();
      if (this.localStream === stream) this.localStream = null;
      throw e;
    }
    this._published = { stream, bitrate, own: !o.stream };
    return stream;
  }

  // _negotiatePub offers stream's tracks on a new pub connection and applies
  // the server's answer. quiet: a refusal with FailedOperation.Closed emits
  // no error event (the reset path retries it).
  async _negotiatePub(stream, bitrate, quiet) {
    const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
    this._pub = pc;
    pc.addEventListener('connectionstatechange', () => this._emit('connection-state', { pc: 'pub', state: pc.connectionState }));
    const tracks = [];
    for (const t of stream.getTracks()) {
      pc.addTransceiver(t, { direction: 'sendonly', streams: [stream] });
      const info = { trackId: t.id, kind: t.kind };
      if (bitrate[t.kind]) info.bitrate = bitrate[t.kind];
      tracks.push(info);
    }
    try {
      await pc.setLocalDescription(await pc.createOffer());
      await gathered(pc, GATHER_TIMEOUT_MS);
      if (this._pub !== pc) throw new TrtcdError(CLOSED, 'the publishing connection was closed (media_reset or unpublish)');
      const id = `o${++this._offers}`;
      const answer = this._await(id, quiet);
      this._send({ type: 'media_offer', pc: 'pub', sdp: pc.localDescription.sdp, tracks, id });
      const m = await answer;
      await pc.setRemoteDescription({ type: 'answer', sdp: m.sdp });
    } catch (e) {
      if (this._pub === pc) this._pub = null;
      pc.close();
      throw e;
    }
  }

  /** Stops publishing: the publishing connection closes and the local tracks stop. */
  unpublish() {
    if (this._pub) this._pub.close();
    this._pub = null;
    this._published = null;
    if (this.localStream) for (const t of this.localStream.getTracks()) t.stop();
    this.localStream = null;
  }

  _await(id, quiet = false) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this._pending.delete(id);
        reject(new TrtcdError('AnswerTimeout', 'the server did not answer the offer'));
      }, ANSWER_TIMEOUT_MS);
      this._pending.set(id, { resolve, reject, timer, quiet });
    });
  }

  // _rejectPending fails the offers waiting for an answer; reports whether
  // one of them was quiet.
  _rejectPending(err) {
    let quiet = false;
    for (const [, p] of this._pending) {
      clearTimeout(p.timer);
      quiet = quiet || p.quiet;
      p.reject(err);
    }
    this._pending.clear();
    return quiet;
  }

  // ---- media_reset ------------------------------------------------------

  // _onReset follows a media_reset: the room's media restarted on another
  // server node and the server dropped both connections. Both are closed
  // here (the received tracks are removed), and in the background the
  // published tracks are published again and the room's tracks asked for
  // again. It must not wait for that: the answers come through the queue
  // that runs it.
  _onReset() {
    if (this.state !== 'joined') return;
    const count = ++this.mediaResets;
    this._rejectPending(new TrtcdError(CLOSED, "the room's media restarted (media_reset)"));
    const pcs = [this._pub, this._sub];
    this._pub = null;
    this._sub = null;
    for (const pc of pcs) if (pc) pc.close();
    for (const userId of [...this.remote.keys()]) this._dropUser(userId);
    this._subMids = new Map();
    this._midOwner.clear();
    const again = this._published;
    this._emit('media-reset', { count, republish: again !== null });
    this._afterReset(count, again).catch((e) => {
      this._emit('error', { code: 'MediaFailed', message: String(e && e.message ? e.message : e), ref: 'media_reset', fatal: false });
    });
  }

  // _afterReset publishes again what was published (the same tracks),
  // retrying while the server answers FailedOperation.Closed for up to
  // RESET_WAIT_MS, then sends media_renegotiate on sub to receive again.
  // A later reset, leave(), unpublish() or the end of the session stops it.
  async _afterReset(count, again) {
    const current = () => this.state === 'joined' && this.mediaResets === count;
    let published = false;
    const end = Date.now() + RESET_WAIT_MS;
    while (again && current() && this._published === again) {
      try {
        await this._negotiatePub(again.stream, again.bitrate, true);
        published = true;
        break;
      } catch (e) {
        if (!current() || this._published !== again) break;
        const code = e instanceof TrtcdError ? e.code : 'MediaFailed';
        if (code !== CLOSED || Date.now() + RESET_RETRY_MS > end) {
          // Given up: no longer publishing, as after a failed publish().
          this._published = null;
          if (again.own) for (const t of again.stream.getTracks()) t.stop();
          if (this.localStream === again.stream) this.localStream = null;
          const message = `publishing again after media_reset: ${e && e.message ? e.message : e}`;
          this._emit('error', { code, message, ref: 'media_reset', fatal: false });
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, RESET_RETRY_MS));
      }
    }
    if (current() && (this.options.receive !== false || published)) {
      this._resetRecv = { count, end };
      this._send({ type: 'media_renegotiate', pc: 'sub' });
    }
  }

  // _retryReceive repeats the media_renegotiate of _afterReset, after
  // RESET_RETRY_MS, when the server answered it FailedOperation.Closed (an
  // error without id: the room's media is not reachable yet), until
  // RESET_WAIT_MS after the reset. Reports whether it will.
  _retryReceive() {
    const r = this._resetRecv;
    if (!r || r.count !== this.mediaResets || this.state !== 'joined') return false;
    if (Date.now() + RESET_RETRY_MS > r.end) {
      this._resetRecv = null;
      return false;
    }
    setTimeout(() => {
      if (this._resetRecv === r && this.state === 'joined') this._send({ type: 'media_renegotiate', pc: 'sub' });
    }, RESET_RETRY_MS);
    return true;
  }

  // ---- receiving --------------------------------------------------------

  /** Asks to receive a user's track again (after unsubscribe). */
  subscribe(userId, kind) {
    this._send({ type: 'media_subscribe', userId, kind });
  }

  /** Asks to stop receiving a user's audio, video or subvideo. */
  unsubscribe(userId, kind) {
    this._send({ type: 'media_unsubscribe', userId, kind });
  }

  /** The MediaStream of a user's received tracks, if any. */
  remoteStream(userId) {
    const r = this.remote.get(userId);
    return r ? r.stream : null;
  }

  async _onMedia(m) {
    switch (m.type) {
      case 'media_answer': {
        const p = this._pending.get(m.id);
        if (p && m.pc === 'pub') {
          this._pending.delete(m.id);
          clearTimeout(p.timer);
          p.resolve(m);
        }
        return;
      }
      case 'media_error': {
        const p = m.id ? this._pending.get(m.id) : null;
        let quiet = false;
        if (p) {
          this._pending.delete(m.id);
          clearTimeout(p.timer);
          quiet = p.quiet && m.code === CLOSED;
          p.reject(new TrtcdError(m.code, m.message || '', m));
        } else if (!m.id && m.code === CLOSED) {
          // The room's media cannot be reached (e.g. its node just died):
          // no waiting offer will be answered.
          quiet = this._rejectPending(new TrtcdError(m.code, m.message || '', m));
          if (this._retryReceive()) quiet = true;
        }
        if (!quiet) this._emit('error', { code: m.code, message: m.message || '', ref: m.ref || '', fatal: false });
        return;
      }
      case 'media_offer':
        if (m.pc === 'sub') await this._onSubOffer(m.sdp);
        return;
      case 'media_candidate': {
        const pc = m.pc === 'pub' ? this._pub : this._sub;
        if (pc && m.candidate) await pc.addIceCandidate(m.candidate);
        return;
      }
      case 'media_track_unpublished':
        this._dropTrack(m.userId, m.kind);
        return;
      case 'media_reset':
        this._onReset();
        return;
      default:
        return; // media_track_published: the offer that follows brings the track
    }
  }

  async _onSubOffer(sdp) {
    if (this.state !== 'joined') return;
    this._resetRecv = null; // the room's media answers
    let pc = this._sub;
    if (!pc) {
      // Default bundle policy: the first offer may have no m-section (and so
      // no BUNDLE group) when nothing is published yet.
      pc = new RTCPeerConnection();
      this._sub = pc;
      pc.addEventListener('track', (ev) => this._onTrack(ev));
      pc.addEventListener('connectionstatechange', () => this._emit('connection-state', { pc: 'sub', state: pc.connectionState }));
    }
    this._subMids = mediaSections(sdp);
    await pc.setRemoteDescription({ type: 'offer', sdp });
    await pc.setLocalDescription(await pc.createAnswer());
    await gathered(pc, GATHER_TIMEOUT_MS);
    if (this._sub !== pc) return;
    this._send({ type: 'media_answer', pc: 'sub', sdp: pc.localDescription.sdp });
  }

  _onTrack(ev) {
    const mid = ev.transceiver && ev.transceiver.mid;
    const msid = this._subMids.get(mid);
    const userId = (msid && msid.stream) || (ev.streams[0] && ev.streams[0].id);
    let kind = msid && msid.track;
    if (!KINDS.has(kind)) kind = ev.track.kind;
    if (!userId) return;
    if (mid) this._midOwner.set(mid, { userId, kind });
    let r = this.remote.get(userId);
    if (!r) {
      r = { stream: new MediaStream(), tracks: new Map() };
      this.remote.set(userId, r);
    }
    const old = r.tracks.get(kind);
    if (old === ev.track) return;
    if (old) this._dropTrack(userId, kind);
    r.tracks.set(kind, ev.track);
    r.stream.addTrack(ev.track);
    ev.track.addEventListener('ended', () => {
      if (r.tracks.get(kind) === ev.track) this._dropTrack(userId, kind);
    });
    this._emit('track-added', { userId, kind, track: ev.track, stream: r.stream });
  }

  _dropTrack(userId, kind) {
    const r = this.remote.get(userId);
    if (!r) return;
    const t = r.tracks.get(kind);
    if (!t) return;
    r.tracks.delete(kind);
    r.stream.removeTrack(t);
    if (r.tracks.size === 0) this.remote.delete(userId);
    this._emit('track-removed', { userId, kind, track: t, stream: r.stream });
  }

  _dropUser(userId) {
    const r = this.remote.get(userId);
    if (!r) return;
    for (const kind of [...r.tracks.keys()]) this._dropTrack(userId, kind);
  }

  // ---- statistics -------------------------------------------------------

  /**
   * The counters of what is received, one entry per remote track:
   * {userId, kind, packetsReceived, bytesReceived, framesDecoded, framesReceived}
   * (from the receiving connection's inbound-rtp statistics). A track that
   * was taken away keeps its last counters until its m-section is reused.
   */
  async receivedStats() {
    const pc = this._sub;
    if (!pc) return [];
    const report = await pc.getStats();
    const out = [];
    report.forEach((s) => {
      if (s.type !== 'inbound-rtp') return;
      const owner = this._midOwner.get(s.mid);
      if (!owner) return;
      out.push({
        userId: owner.userId,
        kind: owner.kind,
        packetsReceived: s.packetsReceived || 0,
        bytesReceived: s.bytesReceived || 0,
        framesDecoded: s.framesDecoded || 0,
        framesReceived: s.framesReceived || 0,
      });
    });
    return out;
  }

  /** The raw statistics of both connections ({pub, sub}: RTCStatsReport or null). */
  async getStats() {
    return {
      pub: this._pub ? await this._pub.getStats() : null,
      sub: this._sub ? await this._sub.getStats() : null,
    };
  }
}

// blockedFlag reads whether kind is blocked from a user_blocked notice, which
// carries either booleans (audio, video) or TRTC's IsMute (0..3).
function blockedFlag(m, kind) {
  if (typeof m[kind] === 'boolean') return m[kind];
  const key = kind === 'audio' ? 'audioBlocked' : 'videoBlocked';
  if (typeof m[key] === 'boolean') return m[key];
  const mute = Number(m.isMute ?? m.IsMute ?? 0);
  if (kind === 'audio') return mute === 1 || mute === 2;
  return mute === 1 || mute === 3;
}

/** Joins a room: `new Room(options)` and `join()`. Resolves with the Room. */
export async function join(options) {
  const room = new Room(options);
  await room.join();
  return room;
}
