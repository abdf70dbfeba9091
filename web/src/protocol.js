// Sabaq signalling client (docs/protocol.md, version 1). No DOM code lives here:
// the UI modules listen to the events this module emits and call its commands.
import { io } from "socket.io-client";
import { ProtocolError, toProtocolError } from "./api.js";

export { api, ProtocolError, toProtocolError } from "./api.js";

export const PROTOCOL_VERSION = 1;
const ACK_TIMEOUT_MS = 15000;

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
  emit(name, payload) {
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
 * while the network is down after a join: "reconnecting" (the join is sent again on reconnect).
 *
 * Emitted events: "status" ({status}), "room_state", "participant_joined", "participant_updated",
 * "participant_left", "lobby", "waiting", "admitted", "denied", "removed", "policy_changed",
 * "error" (a ProtocolError), "ended" ({reason: "denied" | "removed" | "left" | "disconnected" |
 * "failed", detail: the server's payload, e.g. {reason: "denied_by_host" | "policy"} for denied}).
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
  }

  setStatus(status) {
    if (this.status === status) return;
    this.status = status;
    this.emit("status", { status });
  }

  connectSocket() {
    if (this.socket) return this.socket;
    const socket = io({ transports: ["websocket"], autoConnect: false, reconnection: true });
    this.socket = socket;
    for (const name of [
      "room_state",
      "participant_joined",
      "participant_updated",
      "participant_left",
      "lobby",
      "policy_changed",
    ]) {
      socket.on(name, (payload) => this.emit(name, payload || {}));
    }
    socket.on("room_state", (payload) => {
      if (payload && payload.you) this.you = payload.you;
      this.setStatus("joined");
    });
    socket.on("participant_updated", (payload) => {
      const p = payload && payload.participant;
      if (p && this.you && p.id === this.you.id) this.you = p;
    });
    socket.on("waiting", (payload) => {
      this.setStatus("waiting");
      this.emit("waiting", payload || {});
    });
    socket.on("admitted", (payload) => this.emit("admitted", payload || {}));
    socket.on("denied", (payload) => this.end("denied", payload || {}));
    socket.on("removed", (payload) => this.end("removed", payload || {}));
    socket.on("error", (payload) => this.emit("error", toProtocolError(payload, payload?.command)));
    socket.on("connect", () => {
      // After a network blip the server has forgotten us: join again with the same request.
      if (this.status === "reconnecting" && this.joinRequest) {
        this.sendJoin(this.joinRequest).catch((e) => {
          if (e.code === "denied") {
            this.end("denied", { reason: "policy" });
          } else {
            this.emit("error", new ProtocolError(e.code, e.message, "rejoin"));
            this.end("failed", { code: e.code });
          }
        });
      }
    });
    socket.on("disconnect", (reason) => {
      if (this.status === "ended" || this.status === "idle") return;
      if (reason === "io server disconnect") {
        this.end("disconnected", {});
      } else {
        this.setStatus("reconnecting");
      }
    });
    socket.on("connect_error", () => {
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
    // room_state may already have arrived and set "joined"; never step back from it.
    if (ack.status === "waiting" && this.status !== "joined") this.setStatus("waiting");
    return ack;
  }

  /**
   * Joins the room. as: "user" (needs a session cookie) or "guest" (needs name and institution).
   * Resolves with the ack ({status: "joined" | "waiting", you}).
   */
  async join(as, name, institution) {
    /** @type {Record<string, unknown>} */
    const request = { v: PROTOCOL_VERSION, room: this.roomId, as };
    if (as === "guest") {
      request.name = name;
      request.institution = institution;
    }
    const socket = this.connectSocket();
    this.setStatus("connecting");
    if (!socket.connected) {
      socket.connect();
      await new Promise((resolve, reject) => {
        const ok = () => {
          socket.off("connect_error", fail);
          resolve(undefined);
        };
        const fail = () => {
          socket.off("connect", ok);
          socket.disconnect();
          reject(new ProtocolError("network_error", "The server cannot be reached."));
        };
        socket.once("connect", ok);
        socket.once("connect_error", fail);
      });
    }
    try {
      const ack = await this.sendJoin(request);
      this.joinRequest = request;
      return ack;
    } catch (e) {
      this.close();
      throw e;
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
  setRole(participantId, role) {
    return this.request("set_role", { participant: participantId, role });
  }
  remove(participantId) {
    return this.request("remove", { participant: participantId });
  }
  setGuestPolicy(policy) {
    return this.request("set_guest_policy", { policy });
  }

  /** Ends the session for good (denied, removed, left): no rejoin after this. */
  end(reason, detail) {
    if (this.status === "ended") return;
    this.close();
    this.setStatus("ended");
    this.emit("ended", { reason, detail: detail || {} });
  }

  close() {
    this.joinRequest = null;
    if (this.socket) {
      const socket = this.socket;
      this.socket = null;
      socket.removeAllListeners();
      socket.disconnect();
    }
    if (this.status !== "ended") this.setStatus("idle");
  }
}
