// The JSON HTTP API of docs/protocol.md (sign-in, rooms). No DOM code.

/** A refusal from the server (or a local failure), carrying a protocol error code. */
export class ProtocolError extends Error {
  /** @param {string} code @param {string} message @param {string} [command] */
  constructor(code, message, command) {
    super(message || code);
    this.name = "ProtocolError";
    this.code = code;
    this.command = command || null;
    /** @type {string|undefined} the node serving the room (code room_elsewhere) */
    this.node = undefined;
    /** @type {number|undefined} when to try again, for a retryable refusal */
    this.retryAfterMs = undefined;
  }
}

/**
 * Turns an error body into a ProtocolError: `{code, message}`, or the same wrapped as
 * `{error: {code, message}}` (HTTP answers), or anything else (→ unknown_error).
 */
export function toProtocolError(body, command) {
  if (body && typeof body === "object" && body.error && typeof body.error === "object") {
    body = body.error;
  }
  if (body && typeof body === "object" && typeof body.code === "string") {
    const error = new ProtocolError(body.code, String(body.message || ""), command);
    // Where to go (room_elsewhere) and when to try again (retryable refusals), if said.
    if (typeof body.node === "string") error.node = body.node;
    if (typeof body.retry_after_ms === "number") error.retryAfterMs = body.retry_after_ms;
    return error;
  }
  return new ProtocolError("unknown_error", "Unexpected answer from the server.", command);
}

/** One JSON request; rejects with a ProtocolError (the journal's and admin's API use it too). */
export async function http(method, path, body) {
  /** @type {RequestInit} */
  const init = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    throw new ProtocolError("network_error", "The server cannot be reached.");
  }
  if (res.status === 204) return {};
  let data = null;
  try {
    data = await res.json();
  } catch {
    data = null;
  }
  if (!res.ok) throw toProtocolError(data);
  return data || {};
}

/** The JSON HTTP API of docs/protocol.md. Every method rejects with a ProtocolError. */
export const api = {
  /** @returns {Promise<object>} the User */
  async signIn(login, password) {
    return (await http("POST", "/api/session", { login, password })).user;
  },
  /** `{name, timezone, mark_min, mark_max}` of the school (anyone signed in). */
  school() {
    return http("GET", "/api/school");
  },
  async changePassword(current, next) {
    await http("POST", "/api/password", { current, new: next });
  },
  async signOut() {
    await http("DELETE", "/api/session");
  },
  /** @returns {Promise<object|null>} the signed-in User, or null */
  async me() {
    try {
      return (await http("GET", "/api/me")).user;
    } catch (e) {
      if (e instanceof ProtocolError && e.code === "not_signed_in") return null;
      throw e;
    }
  },
  async classes() {
    return (await http("GET", "/api/classes")).classes;
  },
  async createRoom(title, classId, guestPolicy) {
    return (await http("POST", "/api/rooms", { title, class_id: classId, guest_policy: guestPolicy }))
      .room;
  },
  async rooms() {
    return (await http("GET", "/api/rooms")).rooms;
  },
  async room(id) {
    return (await http("GET", `/api/rooms/${encodeURIComponent(id)}`)).room;
  },
};
