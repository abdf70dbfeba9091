// Sabaq signalling client (docs/protocol.md, version 1). No DOM code lives here:
// the UI modules listen to the events this module emits and call its commands.
import { io } from "socket.io-client";
import { ProtocolError, toProtocolError } from "./api.js";

export { api, ProtocolError, toProtocolError } from "./api.js";

export const PROTOCOL_VERSION = 1;
const ACK_TIMEOUT_MS = 15000;
// After "server_restarting": the first try comes after the server's retry_after_ms, then the
// wait doubles up to this, each jittered so a whole school does not knock in one instant.
const RESTART_RETRY_MAX_MS = 8000;
// A join is sent on to the node serving the room (docs/scaling.md); more hops than this in a
// row mean the nodes disagree for the moment: then it waits and starts over at the entry.
const MAX_HOPS = 3;
// Refusals that mean "not now": the page waits as told and tries again by itself.
const RETRYABLE = new Set(["server_restarting", "try_again_soon"]);

/** socket.io's address for a node URL: its origin, and its path + socket.io (behind a proxy). */
function nodeAddress(url) {
  const parsed = new URL(url, window.location.href);
  return { origin: parsed.origin, path: `${parsed.pathname.replace(/\/*$/, "")}/socket.io` };
}

/** Server → client events forwarded as they are (payload objects). */
export const ROOM_EVENTS = [
  "room_state",
  "participant_joined",
  "participant_updated",
  "participant_left",
  "lobby",
  "policy_changed",
  "chat_message",
  "chat_deleted",
  "chat_settings",
  "hands",
  "hand",
  "poll_opened",
  "poll_closed",
  "poll_results",
  "poll_updated",
  "layout_changed",
  "participant_quality",
  "room_closing",
  // The shared document (docs/documents.md): what is on the stage, its page, player, pointer;
  // an upload's progress and its end (hosts and presenters).
  "share_changed",
  "page_changed",
  "player_changed",
  "pointer",
  "document_progress",
  "document_added",
  // Lesson recording on or off (docs/recordings.md).
  "recording",
];

/** Layout presets of the protocol. */
export const LAYOUTS = ["lecture", "discussion", "sharing", "chat_focus"];
/** Poll kinds of the protocol. */
export const POLL_KINDS = ["yes_no", "single", "multiple", "text"];
/** Limits of docs/protocol.md, mirrored for form hints (the server is the judge). */
export const LIMITS = {
  chatText: 2000,
  pollQuestion: 500,
  pollOption: 200,
  pollOptionsMin: 2,
  pollOptionsMax: 10,
  pollText: 1000,
};

/** A tiny event emitter: on(name, fn) returns an unsubscribe function. */
class Emitter {
  constructor() {
    /** @type {Map<string, Set<Function>>} */
    this.handlers = new Map();
  }
  on(name, fn) {
    if (!this.handlers.has(name)) this.handlers.set(name, new Set());
    this.handlers.get(name).add(fn);
    return () => this.handlers.get(name)?.delete(fn);
  }
  /** Keeps every event from now on until release() (the page is not listening yet). */
  hold() {
    if (!this.held) this.held = [];
  }
  /** Hands the kept events to the listeners, in order, and stops keeping them. */
  release() {
    const held = this.held || [];
    this.held = null;
    for (const [name, payload] of held) this.emit(name, payload);
  }
  emit(name, payload) {
    if (this.held) {
      this.held.push([name, payload]);
      return;
    }
    for (const fn of [...(this.handlers.get(name) || [])]) {
      try {
        fn(payload);
      } catch (e) {
        console.error(e); // eslint-disable-line no-console
      }
    }
  }
}

// ---------------------------------------------------------------- socket.io

/**
 * One connection to one room.
 *
 * status: "idle" → "connecting" → "waiting" | "joined" → "ended";
 * while the network is down after a join: "reconnecting" (the join is sent again on reconnect);
 * while the server restarts ("server_restarting"): "restarting" — the connection is closed at
 * once (the server's drain waits for that) and opened again, with backoff, until a server
 * takes the join again.
 *
 * Emitted events: "status" ({status}), "room_state", "participant_joined", "participant_updated",
 * "participant_left", "lobby", "waiting", "admitted", "denied", "removed", "policy_changed",
 * the classroom events of ROOM_EVENTS (chat_message, hands, poll_opened, layout_changed, …),
 * "resume" ({token}: the latest resume token, to keep for a reload),
 * "error" (a ProtocolError), "ended" ({reason: "denied" | "removed" | "replaced" | "left" | "disconnected" |
 * "lesson_ended" | "failed", detail: the server's payload, e.g. {reason: "denied_by_host" |
 * "policy"} for denied}), "room_closing" ({closes_at}: the lesson ended, the room closes then).
 *
 * Resume: every room_state carries a token; it is sent as `resume` whenever this connection
 * joins again (network blip), and can be given to join() after a reload.
 */
export class RoomConnection extends Emitter {
  /** @param {string} roomId */
  constructor(roomId) {
    super();
    this.roomId = roomId;
    this.status = "idle";
    /** @type {object|null} the join payload, kept to join again after a reconnect */
    this.joinRequest = null;
    /** @type {object|null} */
    this.you = null;
    this.socket = null;
    /** @type {object[]} RTCIceServer list from the join ack */
    this.iceServers = [];
    /** @type {string|null} the latest resume token (from room_state) */
    this.resumeToken = null;
    /** the next wait before trying again after "server_restarting", in ms */
    this.restartDelay = 0;
    /** @type {ReturnType<typeof setTimeout>|undefined} */
    this.restartTimer = undefined;
    /** @type {Promise<object>|null} the ack of a join sent with `media: true`, until taken */
    this.mediaByJoin = null;
    /** @type {object[]} media_offer payloads that came while held (no MediaSession yet) */
    this.earlyOffers = [];
    /** @type {string|null} the node serving the room, when a join was sent there; else the
     * page's own server (the entry) */
    this.nodeUrl = null;
    /** joins sent on to another node in a row (see MAX_HOPS) */
    this.hops = 0;
    /** true once a MediaSession took the early offers (it listens to the socket itself) */
    this.offersTaken = false;
  }

  /** Opens the socket ahead of the join (while the page loads): the join then goes at once. */
  preconnect() {
    const socket = this.connectSocket();
    if (!socket.active) socket.connect();
  }

  /** The offers that came before anyone listened (see hold()); media.js answers them. */
  takeEarlyOffers() {
    // From now on the taker's own socket listener has them: keep no copies.
    this.offersTaken = true;
    const offers = this.earlyOffers;
    this.earlyOffers = [];
    return offers;
  }

  /**
   * Whether the server opened the subscribe side with the join (`media: true` and the join
   * entered at once): then the join's ack, whose ice_servers the answers use; else null and
   * media_start is to be sent. Once only: a later session (after a rejoin) sends media_start.
   * @returns {Promise<object>|null}
   */
  takeMediaByJoin() {
    const pending = this.status === "waiting" ? null : this.mediaByJoin;
    this.mediaByJoin = null;
    return pending;
  }

  /** Opens the socket again after a restart's wait (jittered), doubling the next wait. */
  retryAfterRestart(socket) {
    const wait = this.restartDelay * (0.5 + Math.random());
    this.restartDelay = Math.min(this.restartDelay * 2, RESTART_RETRY_MAX_MS);
    clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => {
      if (this.socket !== socket || this.status !== "restarting") return;
      // Sent to a node that is going away: start over at the entry, which knows the next one.
      if (this.nodeUrl) this.relocate(null);
      // Until it connects, socket.io's own reconnection keeps trying (the server may be down).
      else socket.connect();
    }, wait);
  }

  /** Drops this socket (keeping the join, the status and the resume token) and opens one to
   * `url` (null: the entry); its "connect" sends the join again. */
  relocate(url) {
    this.dropSocket();
    this.nodeUrl = url;
    this.connectSocket().connect();
  }

  dropSocket() {
    if (!this.socket) return;
    const socket = this.socket;
    this.socket = null;
    socket.removeAllListeners();
    socket.disconnect();
    this.unlisten.abort();
  }

  setStatus(status) {
    if (this.status === status) return;
    this.status = status;
    this.emit("status", { status });
  }

  connectSocket() {
    if (this.socket) return this.socket;
    this.unlisten = new AbortController(); // the window listeners of this socket go with it
    const options = { transports: ["websocket"], autoConnect: false, reconnection: true };
    let socket;
    if (this.nodeUrl) {
      const { origin, path } = nodeAddress(this.nodeUrl);
      socket = io(origin, { ...options, path });
    } else {
      socket = io(options);
    }
    this.socket = socket;
    socket.on("room_state", (payload) => {
      this.hops = 0;
      if (payload && payload.you) this.you = payload.you;
      if (payload && typeof payload.resume === "string" && payload.resume) {
        this.resumeToken = payload.resume;
        this.emit("resume", { token: payload.resume });
      }
      this.setStatus("joined");
    });
    // The offer that follows a one-click join can come before the page listens (held): kept.
    socket.on("media_offer", (payload) => {
      if (this.held && !this.offersTaken) this.earlyOffers.push(payload);
    });
    for (const name of ROOM_EVENTS) {
      socket.on(name, (payload) => this.emit(name, payload || {}));
    }
    socket.on("participant_updated", (payload) => {
      const p = payload && payload.participant;
      if (p && this.you && p.id === this.you.id) this.you = p;
    });
    socket.on("waiting", (payload) => {
      this.mediaByJoin = null; // a knocker has no media until admitted (then media_start)
      this.setStatus("waiting");
      this.emit("waiting", payload || {});
    });
    socket.on("admitted", (payload) => this.emit("admitted", payload || {}));
    socket.on("denied", (payload) => this.end("denied", payload || {}));
    socket.on("removed", (payload) => this.end("removed", payload || {}));
    // The same person entered again elsewhere: this window must not rejoin and take it back.
    socket.on("replaced", (payload) => this.end("replaced", payload || {}));
    // The lesson ended: the room is closed for everyone (the server closes the socket next).
    socket.on("room_closed", (payload) => this.end("lesson_ended", payload || {}));
    // The session this socket was opened with has ended (sign-out, a password change, an
    // administrator): the server disconnects it next, and a rejoin would not be as this user.
    socket.on("signed_out", (payload) => this.end("signed_out", payload || {}));
    socket.on("error", (payload) => this.emit("error", toProtocolError(payload, payload?.command)));
    // The server is going away for a restart: leave now and come back when one answers.
    socket.on("server_restarting", (payload) => {
      if (!["joined", "waiting", "reconnecting"].includes(this.status) || !this.joinRequest) return;
      this.restartDelay = Math.max(Number(payload?.retry_after_ms) || 0, 250);
      this.setStatus("restarting");
      socket.disconnect();
      this.retryAfterRestart(socket);
    });
    socket.on("connect", () => {
      // After a network blip or a restart the server has forgotten us: join again, same request.
      if ((this.status === "reconnecting" || this.status === "restarting") && this.joinRequest) {
        const request = { ...this.joinRequest };
        if (this.resumeToken) request.resume = this.resumeToken;
        this.sendJoin(request).catch((e) => {
          if (e.code === "room_elsewhere" && e.node && this.hops < MAX_HOPS) {
            this.hops += 1;
            this.relocate(e.node); // another node serves the room now: join there
          } else if (RETRYABLE.has(e.code) || e.code === "room_elsewhere") {
            // Still the old process, draining, or Redis away: wait longer and try again.
            if (this.status !== "restarting") this.restartDelay = e.retryAfterMs || 1000;
            this.hops = 0;
            this.setStatus("restarting");
            socket.disconnect();
            this.retryAfterRestart(socket);
          } else if (e.code === "denied") {
            this.end("denied", { reason: "policy" });
          } else if (e.code === "room_closed") {
            this.end("lesson_ended", { reason: "lesson_ended" });
          } else {
            this.emit("error", new ProtocolError(e.code, e.message, "rejoin"));
            this.end("failed", { code: e.code });
          }
        });
      }
    });
    socket.on("disconnect", (reason) => {
      if (this.status === "ended" || this.status === "idle" || this.status === "restarting") return;
      if (reason === "io server disconnect") {
        this.end("disconnected", {});
      } else if (this.nodeUrl) {
        // The node serving the room went away (it may be gone for good): join again through
        // the entry, which sends us to whichever node serves the room now.
        this.setStatus("reconnecting");
        this.relocate(null);
      } else {
        this.setStatus("reconnecting");
        // The network went first: once socket.io has scheduled its retry, which this cancels.
        setTimeout(pauseWhileOffline, 0);
      }
    });
    // While the browser knows it is offline, retrying only fails (and each failed attempt is
    // logged): the retries stop until the network is back, then one is made at once instead of
    // waiting out the backoff. Only public calls: disconnect() cancels socket.io's retry timer.
    let paused = false;
    const pauseWhileOffline = () => {
      if (paused || navigator.onLine || socket.connected || this.status !== "reconnecting") return;
      socket.disconnect();
      paused = true;
    };
    const listening = { signal: this.unlisten.signal };
    window.addEventListener("offline", pauseWhileOffline, listening);
    window.addEventListener(
      "online",
      () => {
        if (!paused) return;
        paused = false;
        if (this.status === "reconnecting") socket.connect();
      },
      listening,
    );
    socket.on("connect_error", () => {
      if (this.nodeUrl && (this.status === "reconnecting" || this.status === "restarting")) {
        // The node we were sent to does not answer (it died; its lease lapses within 10 s):
        // start over at the entry in a moment instead of knocking on its door.
        socket.disconnect();
        clearTimeout(this.restartTimer);
        this.restartTimer = setTimeout(
          () => {
            if (this.socket === socket) this.relocate(null);
          },
          1000 * (0.5 + Math.random()),
        );
        return;
      }
      if (this.status === "connecting") {
        this.emit("error", new ProtocolError("network_error", "The server cannot be reached."));
      }
    });
    return socket;
  }

  /** Sends one command and resolves with the ack, or rejects with a ProtocolError. */
  request(event, payload) {
    const socket = this.socket;
    if (!socket) return Promise.reject(new ProtocolError("not_joined", "Not connected.", event));
    return new Promise((resolve, reject) => {
      socket.timeout(ACK_TIMEOUT_MS).emit(event, payload, (err, ack) => {
        if (err) {
          reject(new ProtocolError("timeout", "The server did not answer in time.", event));
        } else if (ack && ack.ok) {
          resolve(ack);
        } else {
          reject(toProtocolError(ack && ack.error, event));
        }
      });
    });
  }

  async sendJoin(request) {
    const ack = await this.request("join", request);
    this.you = ack.you || null;
    // The server's ICE servers (STUN/TURN) for the media connections; empty: host candidates.
    if (Array.isArray(ack.ice_servers)) this.iceServers = ack.ice_servers;
    // room_state may already have arrived and set "joined"; never step back from it.
    if (ack.status === "waiting" && this.status !== "joined") this.setStatus("waiting");
    return ack;
  }

  /**
   * Joins the room. as: "user" (needs a session cookie) or "guest" (needs name and institution).
   * resume: a token from an earlier room_state of this room (after a reload), or undefined.
   * media: the server opens the subscribe side with the join (no media_start round trip; see
   * takeMediaByJoin). knock: false enters only if let straight in, else is refused
   * (`not_expected`) and leaves no knock.
   * Resolves with the ack ({status: "joined" | "waiting", you}).
   */
  async join(as, name, institution, resume, { media = false, knock = true } = {}) {
    /** @type {Record<string, unknown>} */
    const request = { v: PROTOCOL_VERSION, room: this.roomId, as };
    if (as === "guest") {
      request.name = name;
      request.institution = institution;
    }
    if (resume) this.resumeToken = resume;
    this.setStatus("connecting");
    for (;;) {
      const socket = this.connectSocket();
      if (!socket.connected) {
        // Already connecting (preconnect()): a second connect() would send a second CONNECT
        // packet, which the server refuses — closing the socket.
        if (!socket.active) socket.connect();
        const reached = await new Promise((resolve) => {
          const ok = () => {
            socket.off("connect_error", fail);
            resolve(true);
          };
          const fail = () => {
            socket.off("connect", ok);
            socket.disconnect();
            resolve(false);
          };
          socket.once("connect", ok);
          socket.once("connect_error", fail);
        });
        if (!reached && this.nodeUrl && this.status === "connecting") {
          // Sent to a node that is gone (its lease has not lapsed yet): start over at the
          // entry in a moment, which then sends us to whichever node serves the room.
          this.dropSocket();
          this.nodeUrl = null;
          await new Promise((resolve) => setTimeout(resolve, 1000 * (0.5 + Math.random())));
          if (this.status !== "connecting") throw new ProtocolError("network_error", "Closed.");
          continue;
        }
        if (!reached) {
          this.close();
          throw new ProtocolError("network_error", "The server cannot be reached.");
        }
      }
      try {
        // `media` only on this first join: after a network blip, media.js starts over itself.
        const sent = {
          ...request,
          ...(this.resumeToken ? { resume: this.resumeToken } : {}),
          ...(media ? { media: true } : {}),
          ...(knock ? {} : { knock: false }),
        };
        const pending = this.sendJoin(sent);
        // room_state (and the offer after it) may come before the ack.
        if (media) this.mediaByJoin = pending;
        const ack = await pending;
        if (ack.status === "waiting") this.mediaByJoin = null;
        this.joinRequest = request;
        return ack;
      } catch (e) {
        this.mediaByJoin = null;
        if (e.code === "room_elsewhere" && e.node && this.hops < MAX_HOPS) {
          // Another node serves this room: connect there and join again.
          this.hops += 1;
          this.dropSocket();
          this.nodeUrl = e.node;
        } else if (RETRYABLE.has(e.code) && this.status === "connecting") {
          // Not now (a restart, Redis away): wait as told, jittered, and try again.
          this.emit("error", e);
          this.hops = 0;
          const wait = (e.retryAfterMs || 1000) * (0.5 + Math.random());
          await new Promise((resolve) => setTimeout(resolve, wait));
          if (this.status !== "connecting") throw e; // closed meanwhile
          this.dropSocket();
          this.nodeUrl = null;
        } else {
          this.close();
          throw e;
        }
      }
    }
  }

  /** Leaves the room (or the lobby queue) and closes the connection. */
  async leave() {
    if (this.socket && this.socket.connected && this.joinRequest) {
      try {
        await this.request("leave", {});
      } catch {
        // Leaving anyway: closing the socket takes us out on the server too.
      }
    }
    this.end("left", {});
  }

  admit(participantId) {
    return this.request("admit", { participant: participantId });
  }
  deny(participantId) {
    return this.request("deny", { participant: participantId });
  }
  /** Lets in every knocker listed (the ones the host saw), in one command. */
  admitAll(participantIds) {
    return this.request("admit_all", { participants: participantIds });
  }
  /** Turns away every knocker listed, in one command. */
  denyAll(participantIds) {
    return this.request("deny_all", { participants: participantIds });
  }
  setRole(participantId, role) {
    return this.request("set_role", { participant: participantId, role });
  }
  remove(participantId) {
    return this.request("remove", { participant: participantId });
  }
  setGuestPolicy(policy) {
    return this.request("set_guest_policy", { policy });
  }

  // ---- chat
  /** Sends a chat message: to everyone, or privately to one participant id. */
  chatSend(text, to) {
    return this.request("chat_send", to ? { text, to } : { text });
  }
  chatDelete(messageId) {
    return this.request("chat_delete", { message: messageId });
  }
  chatMute(participantId, muted) {
    return this.request("chat_mute", { participant: participantId, muted: !!muted });
  }
  /** locks: {public: bool} */
  chatLock(locks) {
    return this.request("chat_lock", { public: !!locks.public });
  }
  /** Who may write privately to whom in this room: "hosts" | "staff" | "classmates" (host). */
  chatPrivate(setting) {
    return this.request("chat_private", { setting });
  }

  // ---- hands and rights
  handRaise(speak, video) {
    return this.request("hand_raise", { speak: !!speak, video: !!video });
  }
  /** Lowers one's own hand, or (host) someone else's. */
  handLower(participantId) {
    return this.request("hand_lower", participantId ? { participant: participantId } : {});
  }
  handsLowerAll() {
    return this.request("hands_lower_all", {});
  }
  /** seconds: 10–14400, or null for "until revoked". */
  rightsGrant(participantId, speak, video, seconds) {
    return this.request("rights_grant", {
      participant: participantId,
      speak: !!speak,
      video: !!video,
      seconds: seconds || null,
    });
  }
  rightsRevoke(participantId) {
    return this.request("rights_revoke", { participant: participantId });
  }

  // ---- polls
  /** poll: {kind, question, options, anonymous, launch} */
  pollCreate(poll) {
    return this.request("poll_create", {
      kind: poll.kind,
      question: poll.question,
      options: poll.kind === "single" || poll.kind === "multiple" ? poll.options : [],
      anonymous: !!poll.anonymous,
      launch: !!poll.launch,
    });
  }
  pollLaunch(pollId) {
    return this.request("poll_launch", { poll: pollId });
  }
  pollClose(pollId) {
    return this.request("poll_close", { poll: pollId });
  }
  pollPublish(pollId) {
    return this.request("poll_publish", { poll: pollId });
  }
  /** answer: {choices: [int]} or {text: str} */
  pollVote(pollId, answer) {
    return this.request(
      "poll_vote",
      typeof answer.text === "string"
        ? { poll: pollId, text: answer.text }
        : { poll: pollId, choices: answer.choices },
    );
  }

  // ---- layout
  setLayout(layout) {
    return this.request("set_layout", { layout });
  }

  // ---- the shared document
  /** A ticket for the document routes, the room's documents and the server's clock. */
  documentAccess() {
    return this.request("document_access", {});
  }
  /** Puts a document uploaded to this room on everyone's stage, at page 1. */
  shareDocument(documentId) {
    return this.request("share_document", { document: documentId });
  }
  setPage(page) {
    return this.request("set_page", { page });
  }
  setPlayer(playing, positionS) {
    return this.request("set_player", { playing: !!playing, position_s: positionS });
  }
  /** Where the presenter points (fractions of the page), or null, null to hide it. */
  setPointer(x, y) {
    return this.request("set_pointer", { x, y });
  }
  stopSharing() {
    return this.request("stop_sharing", {});
  }

  /** Ends the session for good (denied, removed, left): no rejoin after this. */
  end(reason, detail) {
    if (this.status === "ended") return;
    this.close();
    this.setStatus("ended");
    this.emit("ended", { reason, detail: detail || {} });
  }

  close() {
    clearTimeout(this.restartTimer);
    this.joinRequest = null;
    this.resumeToken = null;
    this.nodeUrl = null;
    this.hops = 0;
    this.dropSocket();
    if (this.status !== "ended") this.setStatus("idle");
  }
}
