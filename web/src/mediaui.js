// Media controls and tiles: the mic/camera buttons appear only while you may publish that
// source (by role or grant) and start off; presenters and hosts also get screen sharing. The
// WebRTC work is done by media.js (MediaSession); this module only draws and calls it.
import { byId, clearError, h, showError } from "./dom.js";
import { t } from "./i18n.js";
import { MediaSession } from "./media.js";
import { isStaff, onPeopleChange, state } from "./shared.js";

const SOURCES = ["mic", "camera", "screen"];

const media = {
  /** @type {MediaSession|null} */ session: null,
  /** @type {object|null} the connection the session belongs to */ conn: null,
  /** @type {object[]} */ tiles: [],
  /** @type {Map<string, HTMLElement>} */ tileEls: new Map(),
  incomingMuted: false,
};

function allowed(source) {
  const you = state.you;
  if (!you) return false;
  if (source === "mic") return !!you.mic;
  if (source === "camera") return !!you.camera;
  return isStaff();
}

function publishing(source) {
  try {
    return !!media.session && media.session.publishing(source);
  } catch {
    return false;
  }
}

export function renderMediaControls() {
  for (const source of SOURCES) {
    const el = byId(`publish-${source}`);
    const may = allowed(source);
    el.hidden = !may;
    const on = may && publishing(source);
    el.setAttribute("aria-pressed", String(on));
    el.textContent = t(`media_ui.${source}_${on ? "on" : "off"}`);
  }
  const mute = byId("mute-incoming");
  mute.setAttribute("aria-pressed", String(media.incomingMuted));
  mute.textContent = t(media.incomingMuted ? "media_ui.incoming_muted" : "media_ui.mute_incoming");
}

function tileName(tile) {
  const p = state.participants.get(tile.participantId);
  return p ? p.name : t("media_ui.someone");
}

function tileKey(tile) {
  return tile.id ? String(tile.id) : `${tile.participantId}|${tile.source}|${tile.kind}`;
}

function makeTile(tile) {
  const videoTile = tile.kind !== "audio";
  const el = /** @type {HTMLMediaElement} */ (
    document.createElement(videoTile ? "video" : "audio")
  );
  el.autoplay = true;
  if (videoTile) {
    el.setAttribute("playsinline", "");
    // Video-only tiles are muted; a stream with sound plays it through the same element.
    const hasAudio = tile.stream && tile.stream.getAudioTracks().length > 0;
    el.muted = !hasAudio || media.incomingMuted;
  } else {
    el.muted = media.incomingMuted;
  }
  el.srcObject = tile.stream || null;
  const caption = h("figcaption", { class: "tile-name" });
  return h(
    "figure",
    { class: `tile tile-${tile.kind} tile-${tile.source}`, "data-testid": "tile", "data-participant": tile.participantId, "data-source": tile.source },
    el,
    caption,
  );
}

function renderTiles() {
  const box = byId("tiles");
  const keep = new Map();
  const nodes = media.tiles.map((tile) => {
    const key = tileKey(tile);
    let el = media.tileEls.get(key);
    const player = el && el.querySelector("video, audio");
    if (!el || !player || player.srcObject !== tile.stream) el = makeTile(tile);
    const name = tileName(tile);
    const label = t(`media_ui.tile_${tile.source}`, { name });
    el.setAttribute("aria-label", label);
    el.querySelector(".tile-name").textContent = label;
    keep.set(key, el);
    return el;
  });
  media.tileEls = keep;
  box.replaceChildren(...nodes);
  byId("tiles-empty").hidden = nodes.length > 0;
}

async function toggle(source, el) {
  clearError();
  const session = media.session;
  if (!session) return;
  const on = !publishing(source);
  el.disabled = true;
  try {
    await session.setPublishing(source, on);
  } catch (e) {
    showError(e);
  } finally {
    el.disabled = false;
    renderMediaControls();
  }
}

/** Stops publishing what you may no longer publish (a grant ran out or was revoked). */
function dropLostRights() {
  const session = media.session;
  if (!session) return;
  for (const source of SOURCES) {
    if (!allowed(source) && publishing(source)) {
      session.setPublishing(source, false).catch(() => {});
    }
  }
}

export function setupMediaUi() {
  for (const source of SOURCES) {
    const el = /** @type {HTMLButtonElement} */ (byId(`publish-${source}`));
    el.addEventListener("click", () => toggle(source, el));
  }
  const mute = byId("mute-incoming");
  mute.addEventListener("click", () => {
    media.incomingMuted = !media.incomingMuted;
    if (media.session) media.session.setIncomingMuted(media.incomingMuted);
    for (const el of byId("tiles").querySelectorAll("audio")) {
      /** @type {HTMLMediaElement} */ (el).muted = media.incomingMuted;
    }
    renderMediaControls();
  });
  onPeopleChange(() => {
    dropLostRights();
    renderMediaControls();
    renderTiles();
  });
}

/** Starts the media session for this connection (after its first room_state). */
function startSession(conn) {
  if (media.session && media.conn === conn) return;
  closeMedia();
  const session = new MediaSession(conn, { iceServers: conn.iceServers || [] });
  media.session = session;
  media.conn = conn;
  session.on("tiles", (tiles) => {
    if (media.session !== session) return;
    media.tiles = Array.isArray(tiles) ? tiles : [];
    renderTiles();
  });
  session.on("publishing", () => renderMediaControls());
  session.on("error", (e) => showError(e));
  if (media.incomingMuted) session.setIncomingMuted(true);
  session.start().catch((e) => {
    if (media.session === session) showError(e);
  });
}

export function bindMediaUi(conn) {
  conn.on("room_state", () => {
    startSession(conn);
    renderMediaControls();
  });
}

/** Closes the media session (leaving, ended). */
export function closeMedia() {
  const session = media.session;
  media.session = null;
  media.conn = null;
  media.tiles = [];
  media.tileEls = new Map();
  if (session) {
    try {
      session.close();
    } catch (e) {
      console.error(e); // eslint-disable-line no-console
    }
  }
  const box = document.getElementById("tiles");
  if (box) box.replaceChildren();
}
