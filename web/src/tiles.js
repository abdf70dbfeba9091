// The video and sound tiles of the room page: others' tiles as media.js reports them, your own
// previews, marks for who is speaking and for paused cameras, a pin and full screen per video
// tile. Where each tile goes (the stage, the filmstrip) is decided by stage.js and placed by
// stageview.js; this module only makes and labels the elements.
import { h, showError } from "./dom.js";
import { t } from "./i18n.js";
import { icon } from "./icons.js";
import { state } from "./shared.js";
import { arrangeStage, clearStage, pinnedTile, togglePin } from "./stageview.js";

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

/** The buttons of a video tile's caption: pin to the stage, full screen. */
function tileButtons(figure) {
  return [
    h(
      "button",
      {
        type: "button",
        class: "small tile-pin icon-button",
        "data-testid": "tile-pin",
        "aria-pressed": "false",
        on: { click: () => togglePin(figure.dataset.key || "") },
      },
      icon("pin"),
    ),
    // A shared document or the board is read best full screen (Esc, or the button, returns).
    h(
      "button",
      {
        type: "button",
        class: "small tile-fullscreen icon-button",
        "data-testid": "tile-fullscreen",
        on: { click: () => toggleFullscreen(figure) },
      },
      icon("fullscreen"),
    ),
  ];
}

function makeTile(tile, key) {
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
      h("span", { class: "tile-speaking-mark" }),
      h("span", { class: "tile-paused-mark" }),
    ),
  );
  const figure = h(
    "figure",
    {
      class: `tile tile-${tile.kind} tile-${tile.source}`,
      "data-testid": "tile",
      "data-participant": tile.participantId,
      "data-source": tile.source,
      "data-key": key,
    },
    el,
    caption,
  );
  if (videoTile) caption.append(...tileButtons(figure));
  return figure;
}

function toggleFullscreen(figure) {
  const done = document.fullscreenElement === figure
    ? document.exitFullscreen()
    : figure.requestFullscreen();
  done.catch((e) => showError(e));
}

/** Labels a tile's caption and buttons in the current language (again after a switch). */
function label(el, text) {
  el.setAttribute("aria-label", text);
  el.querySelector(".tile-label").textContent = text;
  const speaking = el.querySelector(".tile-speaking-mark");
  if (speaking) speaking.textContent = ` · ${t("media_ui.speaking")}`;
  const paused = el.querySelector(".tile-paused-mark");
  if (paused) paused.textContent = ` · ${t("media_ui.camera_paused")}`;
  const full = el.querySelector(".tile-fullscreen");
  if (full) {
    full.setAttribute("aria-label", t("media_ui.fullscreen_label", { tile: text }));
    full.setAttribute("title", t("media_ui.fullscreen"));
  }
  const pin = el.querySelector(".tile-pin");
  if (pin) {
    const on = pinnedTile() === el.dataset.key;
    pin.setAttribute("aria-pressed", String(on));
    pin.setAttribute("aria-label", t(on ? "stage.unpin_label" : "stage.pin_label", { tile: text }));
    pin.setAttribute("title", t(on ? "stage.unpin" : "stage.pin"));
  }
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
      const caption = h("figcaption", { class: "tile-name" }, h("span", { class: "tile-text" }, h("span", { class: "tile-label" })));
      el = h(
        "figure",
        {
          class: `tile tile-self tile-${source}`,
          "data-testid": "self-tile",
          "data-source": source,
          "data-key": `self|${source}`,
        },
        video,
        caption,
      );
      caption.append(...tileButtons(el));
    }
    if (state.you) el.dataset.participant = state.you.id;
    label(el, t(`media_ui.self_${source}`));
    keep.set(source, el);
  }
  view.selfEls = keep;
  return [...keep.values()];
}

/**
 * Draws the tiles: makes or reuses each element, labels it, and lets the stage place them.
 * @param {{tiles?: object[], local?: {source: string, track: MediaStreamTrack}[],
 *   camerasOff?: boolean, incomingMuted?: boolean}} changes
 */
export function renderTiles(changes = {}) {
  Object.assign(view, changes);
  const keep = new Map();
  const others = view.tiles.map((tile) => {
    const key = tileKey(tile);
    let el = view.tileEls.get(key);
    const player = el && el.querySelector("video, audio");
    if (!el || !player || player.srcObject !== tile.stream) el = makeTile(tile, key);
    label(el, t(`media_ui.tile_${tile.source}`, { name: tileName(tile) }));
    el.dataset.paused = String(view.camerasOff && tile.source === "camera");
    keep.set(key, el);
    return { el, key, participantId: tile.participantId, source: tile.source, kind: tile.kind, self: false };
  });
  view.tileEls = keep;
  const mine = selfTiles().map((el) => ({
    el,
    key: el.dataset.key || "",
    participantId: state.you ? state.you.id : "",
    source: el.dataset.source || "",
    kind: "video",
    self: true,
  }));
  markSpeaking();
  arrangeStage([...mine, ...others], view.speaking);
}

/** Marks the tiles of whoever is speaking (outline and the word, not colour alone). */
/** @param {Set<string>} speaking participant ids */
export function setSpeaking(speaking) {
  view.speaking = speaking;
  // Discussion highlights the speaker and Lecture follows a speaking teacher: re-arrange.
  renderTiles();
}

function markSpeaking() {
  for (const el of view.tileEls.values()) {
    el.dataset.speaking = String(view.speaking.has(el.dataset.participant || ""));
  }
}

/** Mutes or unmutes the sound of every tile at once. */
export function muteTiles(muted) {
  view.incomingMuted = muted;
  for (const el of view.tileEls.values()) {
    const player = el.querySelector("audio");
    if (player) /** @type {HTMLMediaElement} */ (player).muted = muted;
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
  clearStage();
}
