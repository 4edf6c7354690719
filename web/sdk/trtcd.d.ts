// Types of trtcd.js, the browser SDK of trtcd (docs/browser.md).

export declare const VERSION: string;
/** Heartbeat interval in milliseconds. */
export declare const HEARTBEAT_MS: number;
/** Longest wait for local ICE candidates before a description is sent, in milliseconds. */
export declare const GATHER_TIMEOUT_MS: number;
/** Longest wait for the server's answer to a join, a publish offer or a role switch, in milliseconds. */
export declare const ANSWER_TIMEOUT_MS: number;
/** After a media_reset, how long the SDK keeps publishing again while the server answers FailedOperation.Closed, in milliseconds (30 000). */
export declare const RESET_WAIT_MS: number;
/** Pause between two attempts to publish again after a media_reset, in milliseconds. */
export declare const RESET_RETRY_MS: number;

export type Role = 'anchor' | 'audience';
/** The roles switchRole() takes: ['anchor', 'audience']. */
export declare const ROLES: readonly Role[];
export type Kind = 'audio' | 'video' | 'subvideo';
/** Why another member left; role_switch: it became audience (still in the room, no longer listed). */
export type LeftReason = 'left' | 'removed' | 'timeout' | 'role_switch';
/** Why this member is out of the room. */
export type KickReason = 'removed' | 'dismissed' | 'duplicate' | 'timeout';

export interface RoomOptions {
  sdkAppId: number;
  userId: string;
  userSig: string;
  /** A numeric room, 1..4294967294; give this or strRoomId. */
  roomId?: number;
  /** A string room, 1-64 bytes; give this or roomId. */
  strRoomId?: string;
  /** Default anchor. */
  role?: Role;
  privateMapKey?: string;
  /** The client's device as the server should record it (history, callbacks); at most 128 bytes. The SDK sends its own sdkVersion ("trtcd-web <VERSION>"). */
  device?: string;
  /** ws:// or wss:// URL of /v1/ws; default: the page's own server. */
  server?: string;
  /** Receive the room's tracks from the join on (default true); false: only once publishing. */
  receive?: boolean;
}

export interface Member {
  userId: string;
  role: Role;
}

export interface JoinedEvent {
  roomId?: number;
  strRoomId?: string;
  sessionId: string;
  members: Member[];
}

export interface TrackEvent {
  userId: string;
  kind: Kind;
  track: MediaStreamTrack;
  /** All of the user's received tracks, to attach to one media element. */
  stream: MediaStream;
}

export interface RoomEvents {
  joined: JoinedEvent;
  'user-entered': { userId: string; role: Role };
  'user-left': { userId: string; role: Role; reason: LeftReason };
  kicked: { reason: KickReason };
  /** This member's role switch was committed (seq: its place in the room's order). */
  'role-switched': RoleSwitchedEvent;
  /** The server stopped (true) or resumes (false) forwarding a user's audio and video. */
  blocked: { userId: string; audio: boolean; video: boolean; self: boolean };
  'track-added': TrackEvent;
  'track-removed': TrackEvent;
  /** fatal: the session ends (the WebSocket closes next). */
  error: { code: string; message: string; ref: string; fatal: boolean };
  closed: { code: number; reason: string };
  'connection-state': { pc: 'pub' | 'sub'; state: RTCPeerConnectionState };
  /**
   * Cluster mode: the room's media restarted on another server node (media_reset). Both connections
   * are closed (every received track was removed: track-removed came first); the SDK publishes the
   * same tracks again when republish is true, then asks for the room's tracks again (track-added follows).
   * count: the resets followed so far, this one included.
   */
  'media-reset': { count: number; republish: boolean };
}

export interface RoleSwitchedEvent {
  role: Role;
  seq: number;
}

export interface PublishOptions {
  /** getUserMedia constraints; default true. */
  audio?: boolean | MediaTrackConstraints;
  /** getUserMedia constraints; default true. */
  video?: boolean | MediaTrackConstraints;
  /** Publish these tracks instead of calling getUserMedia (the caller keeps them). */
  stream?: MediaStream;
  /** Announced bitrates in bits per second (server defaults otherwise). */
  bitrate?: { audio?: number; video?: number };
}

export interface ReceivedStats {
  userId: string;
  kind: Kind;
  packetsReceived: number;
  bytesReceived: number;
  framesDecoded: number;
  framesReceived: number;
}

/** An error answered by the server (code is the protocol's code) or raised by the SDK. */
export declare class TrtcdError extends Error {
  readonly code: string;
  /** Why a UserSig or PrivateMapKey was refused, when it was. */
  readonly reason: string;
  readonly trtcCode: number;
  /** For media errors: the type of the refused message. */
  readonly ref: string;
  constructor(code: string, message: string, extra?: { reason?: string; trtcCode?: number; ref?: string });
}

/** The WebSocket URL of the page's own server (ws(s)://host/v1/ws). */
export declare function defaultServer(): string;

export declare class Room {
  constructor(options: RoomOptions);
  readonly userId: string;
  readonly role: Role;
  readonly state: 'new' | 'joining' | 'joined' | 'closed';
  /** The anchors in the room, and this user. */
  readonly members: Map<string, Role>;
  /** Set once kicked. */
  readonly kickReason: '' | KickReason;
  readonly localStream: MediaStream | null;
  /** The media_reset messages followed (cluster mode). */
  readonly mediaResets: number;

  on<K extends keyof RoomEvents>(type: K, handler: (event: RoomEvents[K]) => void): () => void;
  off<K extends keyof RoomEvents>(type: K, handler: (event: RoomEvents[K]) => void): void;

  /** Connects and joins; rejects with a TrtcdError when refused. */
  join(): Promise<JoinedEvent>;
  /** Leaves the room and stops every track. */
  leave(): void;

  /**
   * Switches to anchor or audience; resolves once the server committed it (role is then the new
   * role). To audience: stops publishing first. Rejects with a TrtcdError: InvalidParameter.Role
   * (not anchor or audience; nothing is sent), InvalidState, FailedOperation.RoleUnchanged,
   * FailedOperation.SwitchRole, AnswerTimeout or FailedOperation.Closed.
   */
  switchRole(role: Role): Promise<RoleSwitchedEvent>;

  /** Publishes the camera and microphone (or a given stream); resolves with the local stream. */
  publish(options?: PublishOptions): Promise<MediaStream>;
  unpublish(): void;

  subscribe(userId: string, kind: Kind): void;
  unsubscribe(userId: string, kind: Kind): void;
  /** A user's received tracks, or null. */
  remoteStream(userId: string): MediaStream | null;

  /** Counters of what is received, per remote track. */
  receivedStats(): Promise<ReceivedStats[]>;
  getStats(): Promise<{ pub: RTCStatsReport | null; sub: RTCStatsReport | null }>;
}

/** new Room(options) and join(). */
export declare function join(options: RoomOptions): Promise<Room>;
