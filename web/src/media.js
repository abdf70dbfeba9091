// WebRTC for one participant: a publish connection (the browser offers) and a subscribe
// connection (the server offers), signalled over the room's socket.io connection. No DOM code.
// Events and payloads: docs/protocol.md, "## Media".
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
// Tiles also carry `id` (stable while the track lives) and `track`; a tile's `stream` object
// stays the same across updates, so the UI can keep its <video>/<audio> element.
// `publishing` also fires with on: false and reason: "not_permitted" when the host revokes a right.
// When the server closes a whole connection (`media_closed` with `transport`: an offer left
// unanswered too long, or the connection lost), that side starts over by itself.
import { ProtocolError } from "./api.js";

export const SOURCES = ["mic", "camera", "screen"];

// The camera goes out as simulcast: one encoding per link class, lowest first (the server takes
// the offer's order as low → high). The server forwards each viewer the layer its link carries
// (docs/media.md, "Layers"); the low one fits a 300 kbit/s line with the audio. Chromium sends
// only as many layers as the picture's size allows (3 from 960×540, 2 from 480×270, else 1),
// keeping the first encodings it is given: asking for more would lose the full-size one. The
// top one's cap is set to what Chromium allows one stream of that size (1.7 Mbit/s at 640×480):
// its simulcast table alone would hold it near 0.8 Mbit/s.
// Each layer one temporal layer (L1T1), as a direct call's one encoding: Chromium's simulcast
// default, L1T3, only pays off for a server that thins temporal layers, which this one does not
// (it moves a viewer between encodings); with it the encoder dropped frames two in a row (100 ms
// between pictures at 20 frames/s, the longest gaps at 5 % loss: docs/media.md "Temporal
// layers"). A browser that does not know scalabilityMode is given the layers without it.
// The screen stays one encoding: text must stay sharp, and a slide changes seldom.
export function cameraLayers(height) {
  const mode = { scalabilityMode: "L1T1" };
  if (height >= 540) {
    return [
      { rid: "l", scaleResolutionDownBy: 4, maxBitrate: 150_000, ...mode },
      { rid: "m", scaleResolutionDownBy: 2, maxBitrate: 500_000, ...mode },
      { rid: "h", scaleResolutionDownBy: 1, maxBitrate: 2_500_000, ...mode },
    ];
  }
  if (height >= 270) {
    return [
      { rid: "l", scaleResolutionDownBy: 2, maxBitrate: 150_000, ...mode },
      { rid: "h", scaleResolutionDownBy: 1, maxBitrate: 1_700_000, ...mode },
    ];
  }
  return null;
}

/** addTransceiver, retried without scalabilityMode where a browser refuses it. */
function addWithLayers(pc, track, init) {
  try {
    return pc.addTransceiver(track, init);
  } catch (e) {
    if (!init.sendEncodings) throw e;
    const plain = init.sendEncodings.map(({ scalabilityMode, ...rest }) => rest);
    return pc.addTransceiver(track, { ...init, sendEncodings: plain });
  }
}

function toError(e, command) {
  if (e instanceof ProtocolError) return e;
  // getUserMedia's DOMExceptions: NotAllowedError (refused), NotFoundError (no device), …
  const code = e && e.name === "NotAllowedError" ? "device_refused" : "media_failed";
  return new ProtocolError(code, String((e && e.message) || e), command);
}

/** @type {RTCPeerConnection | null} a subscribe side made ahead of the first offer */
let warm = null;

/**
 * Makes the subscribe side's peer connection now, before the server's first offer, and has it
 * gather its candidates at once (a candidate pool): the first answer then waits neither for the
 * connection's making (~8 ms of the page's main thread) nor for gathering, which took 50–70 ms
 * in a fresh page while Chromium listed its networks (docs/entry.md). Only for a page about to
 * be let in (the one-click try).
 */
export function prewarmSubscribe() {
  if (warm || typeof RTCPeerConnection === "undefined") return;
  try {
    warm = new RTCPeerConnection({
      iceServers: [],
      bundlePolicy: "max-bundle",
      iceCandidatePoolSize: 1,
    });
  } catch (e) {
    warm = null;
  }
}

/** Closes the prewarmed connection, if any (the one-click try was refused). */
export function discardPrewarmed() {
  if (warm) warm.close();
  warm = null;
}

/** The prewarmed connection, set to this configuration (its ICE servers come with the join's
 * ack; other servers than none gather the pool again), or null. */
function takeWarm(configuration) {
  const pc = warm;
  warm = null;
  if (!pc) return null;
  try {
    pc.setConfiguration({ ...configuration, iceCandidatePoolSize: 1 });
    return pc;
  } catch (e) {
    pc.close();
    return null;
  }
}

/** The longest the page waits for a new connection's ICE to get under way (iceUnderway). */
const ICE_UNDERWAY_MAX_MS = 250;

/**
 * Settles once the connection has a local candidate (its checks then start at once) or its
 * ICE moved on — or after ICE_UNDERWAY_MAX_MS. Chromium begins gathering only in a task of the
 * page's main thread: a page that starts a long drawing task right after its answer put the
 * first connectivity check 70–150 ms later (docs/entry.md).
 */
function iceUnderway(pc) {
  return new Promise((resolve) => {
    const moved = () =>
      pc.iceGatheringState === "complete" ||
      ["checking", "connected", "completed", "failed", "closed"].includes(pc.iceConnectionState) ||
      /\r\na=candidate:/.test((pc.localDescription && pc.localDescription.sdp) || "");
    if (moved()) {
      resolve();
      return;
    }
    const done = () => {
      clearTimeout(timer);
      pc.removeEventListener("icecandidate", done);
      pc.removeEventListener("iceconnectionstatechange", done);
      pc.removeEventListener("icegatheringstatechange", onGathering);
      resolve();
    };
    const onGathering = () => {
      if (pc.iceGatheringState === "complete") done();
    };
    const timer = setTimeout(done, ICE_UNDERWAY_MAX_MS);
    pc.addEventListener("icecandidate", done);
    pc.addEventListener("iceconnectionstatechange", done);
    pc.addEventListener("icegatheringstatechange", onGathering);
  });
}

export class MediaSession {
  constructor(connection, options = {}) {
    this.connection = connection;
    this.options = options;
    this.listeners = new Map();
    /** @type {RTCIceServer[] | null} from the options, else from media_start's ack */
    this.iceServers = options.iceServers || null;
    /** @type {RTCPeerConnection | null} */
    this.up = null;
    /** @type {RTCPeerConnection | null} */
    this.down = null;
    /** source → {track, transceiver} */
    this.sending = new Map();
    /** mid → the server's tile entry of the last offer */
    this.tileMap = {};
    /** mid → MediaStream, kept so tiles keep their stream object */
    this.streams = new Map();
    this.incomingMuted = false;
    // Others' cameras paused on the server (a poor link); kept over a new subscribe side.
    this.camerasOff = false;
    this.closed = false;
    // Publish negotiations run one at a time, and so do answers to the server's offers.
    this.upChain = Promise.resolve();
    this.downChain = Promise.resolve();
    this.started = null;
    /** @type {Promise<void>|null} the answer to the offers taken at start() is sent */
    this.earlyAnswers = null;
    /** @type {(() => void)|null} settles earlyAnswers */
    this.answerSent = null;
    // Bumped when the subscribe side starts over: offers of the old one are not answered.
    this.downEpoch = 0;
    this.offs = [];
  }

  on(name, fn) {
    if (!this.listeners.has(name)) this.listeners.set(name, new Set());
    this.listeners.get(name).add(fn);
    return () => this.listeners.get(name).delete(fn);
  }

  emit(name, payload) {
    for (const fn of [...(this.listeners.get(name) || [])]) {
      try {
        fn(payload);
      } catch (e) {
        console.error(e); // eslint-disable-line no-console
      }
    }
  }

  /** Opens the subscribe side; the server then offers whenever there is something to see. */
  async start() {
    if (this.closed) throw new ProtocolError("invalid_state", "The media session is closed.");
    const socket = this.connection.socket;
    if (!socket) throw new ProtocolError("not_joined", "Not connected.", "media_start");
    if (this.offs.length === 0) {
      const onOffer = (payload) => {
        const epoch = this.downEpoch;
        this.downChain = this.downChain
          .then(() => (epoch === this.downEpoch ? this.answer(payload || {}) : undefined))
          .catch((e) => this.emit("error", toError(e, "media_answer")));
      };
      const onClosed = (payload) => this.closedByServer(payload || {});
      socket.on("media_offer", onOffer);
      socket.on("media_closed", onClosed);
      const early = this.connection.takeEarlyOffers ? this.connection.takeEarlyOffers() : [];
      if (early.length > 0) {
        // Settles when the answer to the offers that came before the page listened is on its
        // way (see answeredEarly()), or when answering them failed.
        this.earlyAnswers = new Promise((resolve) => {
          this.answerSent = resolve;
        });
      }
      for (const offer of early) onOffer(offer);
      if (this.answerSent) this.downChain.finally(this.answerSent);
      this.offs.push(() => socket.off("media_offer", onOffer));
      this.offs.push(() => socket.off("media_closed", onClosed));
      // After a network blip the server has forgotten us: start over once joined again.
      let lost = false;
      this.offs.push(
        this.connection.on("status", ({ status }) => {
          if (status === "reconnecting" || status === "restarting") lost = true;
          if (status === "joined" && lost) {
            lost = false;
            this.restart().catch((e) => this.emit("error", toError(e, "media_start")));
          }
        }),
      );
    }
    const byJoin = this.connection.takeMediaByJoin ? this.connection.takeMediaByJoin() : null;
    if (byJoin) {
      // The server opened our subscribe side with the join: no media_start. Its refusal, if
      // any, comes only as an `error` event.
      this.offs.push(
        this.connection.on("error", (e) => {
          if (e && e.command === "media_start") this.emit("error", e);
        }),
      );
    }
    await this.requestStart(byJoin);
  }

  /**
   * Settles once the answer to the offers taken at start() (they came with the join, before
   * its ack) is sent and its ICE is under way (iceUnderway): the room page draws the room after that, so ICE and DTLS come up while it draws
   * rather than after (docs/entry.md). Never rejects.
   */
  answeredEarly() {
    return (this.earlyAnswers || Promise.resolve()).catch(() => {});
  }

  /** @param {Promise<object>|null} [byJoin] the join's ack when the join opened it already */
  requestStart(byJoin = null) {
    // An offer may overtake the ack: answers wait for the ICE servers.
    const answered = byJoin || this.connection.request("media_start", {});
    this.started = answered.then((ack) => {
      if (!this.options.iceServers) this.iceServers = ack.ice_servers || [];
      // After a rejoin the server knows us afresh: tell it again. Not awaited: a refusal here
      // must not hold up answering offers.
      if (this.camerasOff) {
        this.connection
          .request("media_receive", { cameras: false })
          .catch((e) => this.emit("error", toError(e, "media_receive")));
      }
    });
    return this.started;
  }

  /** Receive others' cameras or not (sound and screen shares always come); rejects, leaving
   * the choice as it was, when the server did not take it. */
  async setCamerasReceived(on) {
    if (this.started) await this.started;
    await this.connection.request("media_receive", { cameras: !!on });
    this.camerasOff = !on;
    this.emitTiles();
  }

  /** The server closed our subscribe connection: a new one shows everything there is again. */
  async resubscribe() {
    if (this.closed) return;
    this.downEpoch += 1;
    if (this.down) this.down.close();
    this.down = null;
    this.tileMap = {};
    this.streams.clear();
    this.emit("tiles", []);
    await this.requestStart();
  }

  /** The server closed our publish connection: publish what we were sending on a new one. */
  async republish() {
    if (this.closed) return;
    const wanted = [...this.sending.keys()];
    for (const { track } of this.sending.values()) track.stop();
    this.sending.clear();
    if (this.up) this.up.close();
    this.up = null;
    for (const source of wanted) {
      try {
        await this.startSource(source);
      } catch (e) {
        this.emit("publishing", { source, on: false });
        this.emit("error", toError(e, "media_publish"));
      }
    }
  }

  async restart() {
    const wanted = [...this.sending.keys()];
    this.dropConnections();
    // Until each is sent again (it may be refused now), the page shows it as stopped.
    for (const source of wanted) this.emit("publishing", { source, on: false });
    await this.start();
    for (const source of wanted) {
      try {
        await this.setPublishing(source, true);
      } catch (e) {
        this.emit("error", toError(e, "media_publish"));
      }
    }
  }

  configuration() {
    return { iceServers: this.iceServers || [], bundlePolicy: "max-bundle" };
  }

  // ---------------------------------------------------------------- subscribe side

  async answer({ sdp, tiles }) {
    if (this.closed || typeof sdp !== "string") return;
    if (this.started) await this.started;
    if (!this.down) {
      this.down = takeWarm(this.configuration()) || new RTCPeerConnection(this.configuration());
      this.down.addEventListener("track", (e) => {
        if (e.track.kind === "audio") e.track.enabled = !this.incomingMuted;
      });
    }
    this.tileMap = tiles || {};
    await this.down.setRemoteDescription({ type: "offer", sdp });
    await this.down.setLocalDescription(await this.down.createAnswer());
    const acked = this.connection.request("media_answer", { sdp: this.down.localDescription.sdp });
    if (this.answerSent) {
      // Sent (its ack is not needed to go on): once ICE is under way, the page may draw.
      iceUnderway(this.down).then(this.answerSent);
      this.answerSent = null;
    }
    await acked;
    this.emitTiles();
  }

  tiles() {
    const out = [];
    const live = new Set();
    for (const t of this.down ? this.down.getTransceivers() : []) {
      const info = t.mid !== null ? this.tileMap[t.mid] : undefined;
      if (!info || t.currentDirection === "inactive" || t.currentDirection === "stopped") continue;
      const track = t.receiver.track;
      if (track.kind === "audio") track.enabled = !this.incomingMuted;
      let stream = this.streams.get(t.mid);
      if (!stream || stream.getTracks()[0] !== track) {
        stream = new MediaStream([track]);
        this.streams.set(t.mid, stream);
      }
      live.add(t.mid);
      out.push({
        id: info.consumer_id,
        participantId: info.participant_id,
        source: info.source,
        kind: info.kind,
        stream,
        track,
      });
    }
    for (const mid of [...this.streams.keys()]) if (!live.has(mid)) this.streams.delete(mid);
    return out;
  }

  emitTiles() {
    this.emit("tiles", this.tiles());
  }

  setIncomingMuted(muted) {
    this.incomingMuted = Boolean(muted);
    for (const t of this.down ? this.down.getReceivers() : []) {
      if (t.track && t.track.kind === "audio") t.track.enabled = !this.incomingMuted;
    }
  }

  // ---------------------------------------------------------------- publish side

  publishing(source) {
    return this.sending.has(source);
  }

  /** What this page sends, for its own preview: [{source, track}]. */
  localTracks() {
    return [...this.sending].map(([source, { track }]) => ({ source, track }));
  }

  /** Starts or stops sending one source; rejects with a ProtocolError (e.g. not_permitted). */
  setPublishing(source, on) {
    if (!SOURCES.includes(source)) {
      return Promise.reject(new ProtocolError("invalid_payload", `Unknown source ${source}.`));
    }
    const run = () => (on ? this.startSource(source) : this.stopSource(source));
    const result = this.upChain.then(run);
    this.upChain = result.catch(() => {});
    return result;
  }

  async startSource(source) {
    if (this.closed) throw new ProtocolError("invalid_state", "The media session is closed.");
    if (this.sending.has(source)) return;
    if (this.started) await this.started;
    let stream;
    try {
      stream =
        source === "screen"
          ? await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false })
          : await navigator.mediaDevices.getUserMedia(
              source === "mic" ? { audio: true } : { video: true },
            );
    } catch (e) {
      throw toError(e, "media_publish");
    }
    const track = source === "mic" ? stream.getAudioTracks()[0] : stream.getVideoTracks()[0];
    for (const other of stream.getTracks()) if (other !== track) other.stop();
    if (!this.up) this.up = new RTCPeerConnection(this.configuration());
    // A new transceiver each time: the server never reuses an m-line once its producer closed.
    const init = { direction: "sendonly", streams: [stream] };
    const layers = source === "camera" ? cameraLayers(track.getSettings().height || 0) : null;
    if (layers) init.sendEncodings = layers;
    const transceiver = addWithLayers(this.up, track, init);
    this.sending.set(source, { track, transceiver });
    try {
      await this.negotiate();
    } catch (e) {
      this.sending.delete(source);
      track.stop();
      await this.retire(transceiver);
      throw toError(e, "media_publish");
    }
    // Screen sharing stopped from the browser's own bar.
    track.addEventListener("ended", () => {
      if (this.sending.get(source)?.track === track) this.setPublishing(source, false).catch(() => {});
    });
    this.emit("publishing", { source, on: true });
  }

  async stopSource(source, reason) {
    const entry = this.sending.get(source);
    if (!entry) return;
    this.sending.delete(source);
    entry.track.stop();
    await this.retire(entry.transceiver);
    this.emit("publishing", reason ? { source, on: false, reason } : { source, on: false });
    if (this.up && !this.closed) {
      try {
        await this.negotiate();
      } catch (e) {
        this.emit("error", toError(e, "media_publish"));
      }
    }
  }

  async retire(transceiver) {
    try {
      transceiver.direction = "inactive";
      await transceiver.sender.replaceTrack(null);
    } catch {
      // The connection is already closed: nothing left to retire.
    }
  }

  async negotiate() {
    const up = this.up;
    await up.setLocalDescription(await up.createOffer());
    const sources = {};
    for (const [source, { transceiver }] of this.sending) {
      if (transceiver.mid !== null) sources[transceiver.mid] = source;
    }
    let ack;
    try {
      ack = await this.connection.request("media_publish", {
        sdp: up.localDescription.sdp,
        sources,
      });
    } catch (e) {
      if (up.signalingState === "have-local-offer") {
        await up.setLocalDescription({ type: "rollback" });
      }
      throw e;
    }
    await up.setRemoteDescription({ type: "answer", sdp: ack.sdp });
  }

  closedByServer({ source, reason, transport }) {
    if (transport === "subscribe") {
      // offer_timeout (we did not answer in time) or connection_lost: start that side over,
      // in turn with answers so an old offer is never answered on the new connection.
      this.downChain = this.downChain
        .then(() => this.resubscribe())
        .catch((e) => this.emit("error", toError(e, "media_start")));
      return;
    }
    if (transport === "publish") {
      // connection_lost: the server's end is gone, so this connection can carry nothing.
      this.upChain = this.upChain.then(() => this.republish()).catch(() => {});
      return;
    }
    // The host revoked the right (or a timed grant ran out): the server closed the producer.
    this.upChain = this.upChain.then(() => this.stopSource(source, reason || "not_permitted"));
  }

  // ---------------------------------------------------------------- closing

  dropConnections() {
    this.downEpoch += 1;
    for (const { track } of this.sending.values()) track.stop();
    this.sending.clear();
    for (const pc of [this.up, this.down]) if (pc) pc.close();
    this.up = this.down = null;
    this.tileMap = {};
    this.streams.clear();
    this.emit("tiles", []);
  }

  close() {
    if (this.closed) return;
    this.closed = true;
    const published = [...this.sending.keys()];
    this.dropConnections();
    for (const source of published) this.emit("publishing", { source, on: false });
    for (const off of this.offs) off();
    this.offs = [];
    if (this.connection.socket && this.connection.socket.connected) {
      this.connection.request("media_stop", {}).catch(() => {});
    }
    this.listeners.clear();
  }
}
