// The video and sound tiles of the room page: others' tiles as media.js reports them, your own
// previews, marks for who is speaking and for paused cameras, and full screen per video tile.
import { byId, h, showError } from "./dom.js";
import { t } from "./i18n.js";
import { state } from "./shared.js";

const view = {
  /** @type {object[]} others' tiles (MediaSession "tiles") */ tiles: [],
  /** @type {{source: string, track: MediaStreamTrack}[]} what you send */ local: [],
  camerasOff: false,
  incomingMuted: false,
  /** @type {Set<string>} participants heard just now */ speaking: new Set(),
  /** @type {Map<string, HTMLElement>} */ tileEls: new Map(),
  /** @type {Map<string, HTMLElement>} your own preview, by source */ selfEls: new Map(),
};

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
    el.muted = !hasAudio || view.incomingMuted;
  } else {
    el.muted = view.incomingMuted;
  }
  el.srcObject = tile.stream || null;
  const caption = h(
    "figcaption",
    { class: "tile-name" },
    h(
      "span",
      { class: "tile-text" },
      h("span", { class: "tile-label" }),
      h("span", { class: "tile-speaking-mark", text: ` · ${t("media_ui.speaking")}` }),
      h("span", { class: "tile-paused-mark", text: ` · ${t("media_ui.camera_paused")}` }),
    ),
  );
  const figure = h(
    "figure",
    { class: `tile tile-${tile.kind} tile-${tile.source}`, "data-testid": "tile", "data-participant": tile.participantId, "data-source": tile.source },
    el,
    caption,
  );
  if (videoTile) {
    // A shared document or the board is read best full screen (Esc, or the button, returns).
    caption.append(
      h("button", {
        type: "button",
        class: "small tile-fullscreen",
        "data-testid": "tile-fullscreen",
        on: { click: () => toggleFullscreen(figure) },
      }),
    );
  }
  return figure;
}

function toggleFullscreen(figure) {
  const done = document.fullscreenElement === figure
    ? document.exitFullscreen()
    : figure.requestFullscreen();
  done.catch((e) => showError(e));
}

/** Your own camera and screen as you send them (a teacher checks the framing). */
function selfTiles() {
  const local = view.local;
  const keep = new Map();
  for (const { source, track } of local) {
    if (track.kind !== "video") continue;
    let el = view.selfEls.get(source);
    const player = el && el.querySelector("video");
    if (!el || !player || player.srcObject.getTracks()[0] !== track) {
      const video = h("video", { muted: true, autoplay: true, playsinline: true });
      /** @type {HTMLVideoElement} */ (video).muted = true;
      /** @type {HTMLVideoElement} */ (video).srcObject = new MediaStream([track]);
      el = h(
        "figure",
        { class: `tile tile-self tile-${source}`, "data-testid": "self-tile", "data-source": source },
        video,
        h("figcaption", { class: "tile-name" }),
      );
    }
    const label = t(`media_ui.self_${source}`);
    el.setAttribute("aria-label", label);
    el.querySelector(".tile-name").textContent = label;
    keep.set(source, el);
  }
  view.selfEls = keep;
  return [...keep.values()];
}

/**
 * Puts exactly `nodes` in `box`, in order, moving only what is out of place. A tile shown full
 * screen is never moved: taking an element out of the document ends its full screen (and a
 * pupil reading a shared document would be thrown out whenever someone raised a hand).
 * @param {HTMLElement} box
 * @param {HTMLElement[]} nodes
 */
function place(box, nodes) {
  const wanted = new Set(nodes);
  for (const child of [...box.children]) if (!wanted.has(/** @type {HTMLElement} */ (child))) child.remove();
  const full = document.fullscreenElement;
  if (full && box.contains(full)) {
    for (const node of nodes) if (node.parentNode !== box) box.append(node);
    return;
  }
  nodes.forEach((node, i) => {
    if (box.children[i] !== node) box.insertBefore(node, box.children[i] || null);
  });
}

/**
 * Draws the tiles: your own previews first, then everyone else's.
 * @param {{tiles?: object[], local?: {source: string, track: MediaStreamTrack}[],
 *   camerasOff?: boolean, incomingMuted?: boolean}} changes
 */
export function renderTiles(changes = {}) {
  Object.assign(view, changes);
  const box = byId("tiles");
  const keep = new Map();
  const nodes = view.tiles.map((tile) => {
    const key = tileKey(tile);
    let el = view.tileEls.get(key);
    const player = el && el.querySelector("video, audio");
    if (!el || !player || player.srcObject !== tile.stream) el = makeTile(tile);
    const name = tileName(tile);
    const label = t(`media_ui.tile_${tile.source}`, { name });
    el.setAttribute("aria-label", label);
    el.querySelector(".tile-label").textContent = label;
    el.dataset.paused = String(view.camerasOff && tile.source === "camera");
    const full = el.querySelector(".tile-fullscreen");
    if (full) {
      full.textContent = t("media_ui.fullscreen");
      full.setAttribute("aria-label", t("media_ui.fullscreen_label", { tile: label }));
    }
    keep.set(key, el);
    return el;
  });
  view.tileEls = keep;
  place(box, [...selfTiles(), ...nodes]);
  markSpeaking();
  byId("tiles-empty").hidden = nodes.length > 0;
}

/** Marks the tiles of whoever is speaking (outline and the word, not colour alone). */
/** @param {Set<string>} speaking participant ids */
export function setSpeaking(speaking) {
  view.speaking = speaking;
  markSpeaking();
}

function markSpeaking() {
  for (const el of view.tileEls.values()) {
    el.dataset.speaking = String(view.speaking.has(el.dataset.participant || ""));
  }
}

/** Mutes or unmutes the sound of every tile at once. */
export function muteTiles(muted) {
  view.incomingMuted = muted;
  for (const el of byId("tiles").querySelectorAll("audio")) {
    /** @type {HTMLMediaElement} */ (el).muted = muted;
  }
}

/** Forgets every tile (leaving, ended). */
export function clearTiles() {
  Object.assign(view, {
    tiles: [],
    local: [],
    speaking: new Set(),
    tileEls: new Map(),
    selfEls: new Map(),
  });
  const box = document.getElementById("tiles");
  if (box) box.replaceChildren();
}
