// WebRTC for one participant: a publish connection (the browser offers) and a subscribe
// connection (the server offers), signalled over the room's socket.io connection. No DOM code.
//
// Interface used by the UI (room.js):
//   const media = new MediaSession(connection, { iceServers });
//   await media.start();                       // after room_state: opens the subscribe side
//   await media.setPublishing("mic"|"camera"|"screen", on);   // getUserMedia/getDisplayMedia
//   media.publishing(source) -> boolean
//   media.setIncomingMuted(muted)              // mute every incoming audio track locally
//   media.on("tiles", (tiles) => …)            // tiles: [{participantId, source, kind, stream}]
//   media.on("publishing", ({source, on}) => …)
//   media.on("error", (ProtocolError) => …)
//   media.close()
// IMPLEMENTATION PENDING (issue 3 wiring): until then start() resolves and publishing fails.
import { ProtocolError } from "./api.js";

export class MediaSession {
  constructor(connection, options = {}) {
    this.connection = connection;
    this.options = options;
    this.listeners = new Map();
  }

  on(name, fn) {
    if (!this.listeners.has(name)) this.listeners.set(name, new Set());
    this.listeners.get(name).add(fn);
    return () => this.listeners.get(name).delete(fn);
  }

  emit(name, payload) {
    for (const fn of this.listeners.get(name) || []) fn(payload);
  }

  async start() {}

  publishing(_source) {
    return false;
  }

  async setPublishing(_source, _on) {
    throw new ProtocolError("unsupported", "Media is not available yet.");
  }

  setIncomingMuted(_muted) {}

  close() {
    this.listeners.clear();
  }
}
