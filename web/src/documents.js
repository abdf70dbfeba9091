// The shared document on the stage (docs/documents.md): a presenter's upload with its progress,
// the page everyone sees (an <img> whose srcset the browser picks by width × pixel ratio), the
// presenter's pointer, a shared player, a zip's listing, and a pupil's own look back.
// The rules without the DOM are in document_state.js; the upload itself in document_upload.js.
import { announce, byId, h, showError } from "./dom.js";
import { errorText, language, t } from "./i18n.js";
import { drawIcons } from "./icons.js";
import { isStaff, state } from "./shared.js";
import { arrangeStage } from "./stageview.js";
import {
  clock,
  entryUrl,
  fileUrl,
  pageSrcset,
  playerPosition,
  pointerFraction,
  shownPage,
  step,
} from "./document_state.js";
import { uploadDocument } from "./document_upload.js";
import { fitDocument, watchStageSize } from "./document_fit.js";

// A pointer moves at most this often: smooth enough to follow, light on the room's sockets.
const POINTER_MS = 100;
// A room ticket lasts 2 h (server/auth.py); a fresh one well before that.
const ACCESS_REFRESH_MS = 90 * 60 * 1000;
// The upload's box says "ready" this long, then closes itself: it lies over the stage's lower
// left, and the shared document is on the stage by then (the live region said "ready" too).
const UPLOAD_DONE_MS = 4000;
// A pupil's player follows the room's position within this (seconds) before it seeks.
const DRIFT_S = 0.75;

const docs = {
  /** @type {string|null} the room's ticket for the document routes */ access: null,
  /** server clock − this page's clock, in seconds */ offset: 0,
  /** @type {Map<string, object>} the room's documents (RoomDocument) */ known: new Map(),
  /** @type {Map<string, number>} pages converted so far, while converting */ ready: new Map(),
  /** this viewer's own page (a pupil looking back) */ view: { page: 1, following: true },
  /** @type {{name: string, phase: string, percent: number, page: number, pages: number,
   *   id: string|null, shared: boolean, error: object|null}|null} this page's own upload */
  upload: null,
  /** @type {string|null} which document the stage is built for */ builtFor: null,
  /** whether it was built with the presenter's controls */ builtAsPresenter: false,
  /** @type {string|null} the page last fetched ahead ("document/page") */ prefetched: null,
  pointerAt: 0,
  /** @type {{x: number|null, y: number|null}|null} */ pointerPending: null,
  pointerTimer: 0,
  refreshTimer: 0,
  uploadCloseTimer: 0,
};

const roomId = () => (state.room ? state.room.id : "");
const presenter = () => isStaff();
const serverNow = () => Date.now() / 1000 + docs.offset;

// ---------------------------------------------------------------- the room's ticket

/** Asks for a ticket (and the room's documents and the server's clock). */
async function refreshAccess(conn) {
  const sent = Date.now() / 1000;
  const ack = await conn.documentAccess();
  if (state.conn !== conn) return;
  const back = Date.now() / 1000;
  docs.access = ack.access;
  if (typeof ack.now === "number") docs.offset = ack.now - (sent + back) / 2;
  for (const d of ack.documents || []) {
    docs.known.set(d.id, d);
    if (d.converting) docs.ready.set(d.id, Number(d.ready) || 1);
  }
  window.clearTimeout(docs.refreshTimer);
  docs.refreshTimer = window.setTimeout(() => {
    if (state.conn === conn) refreshAccess(conn).catch(() => {});
  }, ACCESS_REFRESH_MS);
  renderMenu();
  renderStageDocument(true);
}

// ---------------------------------------------------------------- the toolbar's menu

function renderTool() {
  const tool = byId("tool-document");
  tool.hidden = !presenter();
  if (tool.hidden) {
    const menu = byId("document-menu");
    if (menu.matches(":popover-open")) menu.hidePopover();
  }
  tool.setAttribute("aria-pressed", String(!!state.share));
}

function renderMenu() {
  const list = byId("doc-list");
  const items = [...docs.known.values()].sort((a, b) => (a.at || 0) - (b.at || 0));
  byId("doc-list-empty").hidden = items.length > 0;
  list.replaceChildren(
    ...items.map((d) => {
      const on = !!state.share && state.share.document.id === d.id;
      const show = h("button", {
        type: "button",
        class: "small",
        "data-action": "show",
        "aria-label": t("doc.show_label", { name: d.name }),
        "aria-pressed": String(on),
        text: on ? t("doc.shown") : t("doc.show"),
        disabled: on,
        on: { click: () => share(d.id) },
      });
      return h("li", { "data-key": d.id }, h("span", { class: "doc-list-name", text: d.name }), show);
    }),
  );
  byId("doc-stop").hidden = !state.share || !presenter();
  renderTool();
}

async function share(documentId) {
  if (!state.conn) return;
  try {
    await state.conn.shareDocument(documentId);
    const menu = byId("document-menu");
    if (menu.matches(":popover-open")) menu.hidePopover();
  } catch (e) {
    showError(e);
  }
}

async function stopSharing() {
  if (!state.conn) return;
  try {
    await state.conn.stopSharing();
  } catch (e) {
    showError(e);
  }
}

// ---------------------------------------------------------------- this page's upload

/** Takes the upload's box away; focus inside it goes back to the Document tool. */
function closeUpload() {
  window.clearTimeout(docs.uploadCloseTimer);
  const box = byId("doc-upload");
  const hadFocus = box.contains(document.activeElement);
  docs.upload = null;
  renderUpload();
  if (hadFocus) byId("tool-document").focus();
}

function startUpload(file) {
  if (!state.conn || !docs.access) return;
  window.clearTimeout(docs.uploadCloseTimer);
  docs.upload = { name: file.name, phase: "upload", percent: 0, page: 0, pages: 0, id: null, shared: false, error: null };
  renderUpload();
  byId("document-menu").hidePopover();
  announce(t("doc.uploading", { name: file.name, percent: 0 }));
  const conn = state.conn;
  uploadDocument(roomId(), docs.access, file, (percent) => {
    if (!docs.upload || docs.upload.name !== file.name) return;
    docs.upload.percent = percent;
    if (percent >= 100 && docs.upload.phase === "upload") {
      docs.upload.phase = "convert";
      announce(t("doc.converting_start"));
    }
    renderUpload();
  })
    .then(async (document) => {
      if (state.conn !== conn || !docs.upload) return;
      docs.known.set(document.id, document);
      docs.ready.delete(document.id);
      docs.upload.phase = "done";
      docs.upload.id = document.id;
      renderMenu();
      renderUpload();
      // Pages were shared at their first page; a player or a listing once it is checked.
      if (!docs.upload.shared) {
        docs.upload.shared = true;
        await share(document.id);
      }
      announce(t("doc.ready", { name: document.name }));
      renderStageDocument(true);
      const done = docs.upload;
      window.clearTimeout(docs.uploadCloseTimer);
      docs.uploadCloseTimer = window.setTimeout(() => {
        if (docs.upload === done) closeUpload();
      }, UPLOAD_DONE_MS);
    })
    .catch((e) => {
      if (!docs.upload) return;
      docs.upload.phase = "failed";
      docs.upload.error = e;
      renderUpload();
    });
}

/** A page of an upload is converted (hosts and presenters hear of every upload in the room). */
function onProgress(p) {
  if (!p || typeof p.document !== "string") return;
  docs.ready.set(p.document, Number(p.page) || 0);
  const mine = docs.upload && state.you && p.by === state.you.id && docs.upload.phase !== "failed";
  if (mine && docs.upload) {
    docs.upload.phase = "convert";
    docs.upload.page = p.page;
    docs.upload.pages = p.pages;
    docs.upload.id = p.document;
    // The first page is ready: the class sees it now, while the rest converts.
    if (p.page >= 1 && !docs.upload.shared) {
      docs.upload.shared = true;
      share(p.document);
    }
    renderUpload();
  }
  renderStageDocument(false);
}

function renderUpload() {
  const box = byId("doc-upload");
  const up = docs.upload;
  box.hidden = !up;
  if (!up) return;
  const text = byId("doc-upload-text");
  const bar = /** @type {HTMLProgressElement} */ (byId("doc-upload-bar"));
  const error = byId("doc-upload-error");
  box.dataset.phase = up.phase;
  if (up.phase === "upload") {
    text.textContent = t("doc.uploading", { name: up.name, percent: up.percent });
    bar.value = up.percent;
  } else if (up.phase === "convert") {
    text.textContent = up.pages
      ? t("doc.converting", { page: up.page, pages: up.pages })
      : t("doc.converting_start");
    if (up.pages) bar.value = Math.round((100 * up.page) / up.pages);
    else bar.removeAttribute("value"); // indeterminate: checking, or LibreOffice at work
  } else if (up.phase === "done") {
    text.textContent = t("doc.ready", { name: up.name });
    bar.value = 100;
  } else {
    text.textContent = t("doc.failed", { name: up.name });
  }
  bar.hidden = up.phase === "failed";
  error.hidden = up.phase !== "failed";
  error.textContent = up.phase === "failed" ? errorText(up.error) : "";
  byId("doc-upload-close").hidden = up.phase !== "failed" && up.phase !== "done";
}

// ---------------------------------------------------------------- the stage

function shared() {
  return state.share && state.share.document ? state.share : null;
}

/** Builds the stage's document view for the shared document (again when it changes). */
function renderStageDocument(rebuild) {
  const slot = byId("stage-document");
  const s = shared();
  if (!s || !docs.access) {
    if (docs.builtFor !== null) slot.replaceChildren();
    docs.builtFor = null;
    return;
  }
  if (rebuild || docs.builtFor !== s.document.id) {
    docs.builtFor = s.document.id;
    docs.builtAsPresenter = presenter();
    slot.replaceChildren(buildView(s));
    drawIcons(slot);
    fitDocument();
  }
  updateView();
}

function buildView(s) {
  const d = s.document;
  const view = h("div", { class: "doc-view", "data-shown-as": d.shown_as, "data-testid": "doc-view" });
  view.setAttribute("aria-label", t("doc.stage_label", { name: d.name }));
  view.setAttribute("role", "region");
  if (d.shown_as === "pages") {
    const img = h("img", { class: "doc-page", "data-testid": "doc-page", alt: "", decoding: "async" });
    img.addEventListener("error", () => retryPage(img));
    img.addEventListener("load", () => {
      img.dataset.loaded = img.dataset.page || "";
      const frame = img.parentElement;
      if (frame && img.naturalWidth) frame.dataset.aspect = String(img.naturalHeight / img.naturalWidth);
      fitDocument();
    });
    const dot = h("span", { class: "doc-pointer", "aria-hidden": "true", "data-testid": "doc-pointer", hidden: true });
    const frame = h("div", { class: "doc-frame" }, img, dot);
    frame.dataset.aspect = String(d.aspect || 0.75);
    if (presenter()) {
      frame.addEventListener("pointermove", (e) => pointAt(e, frame));
      frame.addEventListener("pointerleave", () => sendPointer(null));
    }
    const canvas = h("div", { class: "doc-canvas" }, frame);
    const bar = h(
      "div",
      { class: "doc-bar" },
      navButton("prev", -1),
      h("span", { class: "doc-page-of", "data-testid": "doc-page-of" }),
      navButton("next", 1),
      h("button", {
        type: "button",
        class: "small doc-follow",
        "data-testid": "doc-follow",
        hidden: true,
        on: { click: follow },
      }),
      stopButton(),
    );
    view.append(canvas, bar);
  } else if (d.shown_as === "player") {
    view.append(buildPlayer(s));
  } else {
    view.append(buildListing(d));
  }
  return view;
}

function navButton(which, delta) {
  const button = h(
    "button",
    { type: "button", class: "icon-button doc-nav", "data-testid": `doc-${which}`, "aria-keyshortcuts": which === "prev" ? "ArrowLeft PageUp" : "ArrowRight PageDown" },
    h("span", { "data-icon": which }),
    h("span", { class: "visually-hidden", "data-label": which }),
  );
  button.addEventListener("click", () => move(delta));
  return button;
}

function stopButton() {
  return h("button", {
    type: "button",
    class: "small doc-stop",
    "data-testid": "doc-stop-stage",
    hidden: !presenter(),
    text: t("doc.stop"),
    on: { click: stopSharing },
  });
}

/** Everything that follows the page, the words and the viewer's place. */
function updateView() {
  const s = shared();
  const slot = byId("stage-document");
  if (!s) return;
  const d = s.document;
  for (const el of slot.querySelectorAll(".doc-stop")) {
    /** @type {HTMLElement} */ (el).hidden = !presenter();
    el.textContent = t("doc.stop");
  }
  slot.querySelector(".doc-view")?.setAttribute("aria-label", t("doc.stage_label", { name: d.name }));
  if (d.shown_as === "pages") updatePages(s, slot);
  else if (d.shown_as === "player") updatePlayer(s, slot);
  else updateListing(d, slot);
}

/** How far a presenter may go: the pages converted so far, while a conversion runs. */
function readyOf(d) {
  return docs.ready.has(d.id) ? docs.ready.get(d.id) || 1 : Infinity;
}

function updatePages(s, slot) {
  const d = s.document;
  if (presenter()) docs.view = { page: s.page, following: true };
  const page = shownPage(docs.view, s);
  const img = /** @type {HTMLImageElement|null} */ (slot.querySelector(".doc-page"));
  if (img && img.dataset.page !== String(page)) {
    img.dataset.page = String(page);
    img.dataset.tries = "0";
    img.srcset = pageSrcset(roomId(), d, page, docs.access);
    img.src = fileUrl(roomId(), d.id, `${page}-${(d.widths && d.widths[0]) || 640}.webp`, docs.access);
    hidePointer();
  }
  if (img) img.alt = t("doc.page_alt", { name: d.name, page, pages: d.pages });
  if (img && page < d.pages) prefetch(d, page + 1, img.sizes);
  const of = slot.querySelector(".doc-page-of");
  if (of) of.textContent = t("doc.page_of", { page, pages: d.pages });
  const last = presenter() ? Math.min(d.pages, readyOf(d)) : s.page;
  const prev = /** @type {HTMLButtonElement|null} */ (slot.querySelector('[data-testid="doc-prev"]'));
  const next = /** @type {HTMLButtonElement|null} */ (slot.querySelector('[data-testid="doc-next"]'));
  if (prev) prev.disabled = page <= 1;
  if (next) next.disabled = page >= last;
  for (const el of slot.querySelectorAll("[data-label]")) {
    const which = /** @type {HTMLElement} */ (el).dataset.label;
    el.textContent = t(which === "prev" ? "doc.prev" : "doc.next");
    el.parentElement?.setAttribute("title", `${el.textContent} (${which === "prev" ? "←" : "→"})`);
  }
  const followButton = /** @type {HTMLElement|null} */ (slot.querySelector(".doc-follow"));
  if (followButton) {
    followButton.hidden = presenter() || docs.view.following;
    followButton.textContent = t("doc.follow", { page: s.page });
  }
}

/**
 * The next page, fetched ahead into the cache (its URLs never change), so "next" shows at
 * once. Only for a complete document: a page not converted yet would be a failed request.
 */
function prefetch(d, page, sizes) {
  const known = docs.known.get(d.id);
  if (!known || known.converting || docs.ready.has(d.id) || !sizes || docs.prefetched === `${d.id}/${page}`) return;
  docs.prefetched = `${d.id}/${page}`;
  const ahead = new Image();
  ahead.sizes = sizes;
  ahead.srcset = pageSrcset(roomId(), d, page, docs.access);
}

/** A page not converted yet when asked for (a pupil ahead of the conversion): try again. */
function retryPage(img) {
  const tries = Number(img.dataset.tries || "0");
  if (tries >= 20) return;
  img.dataset.tries = String(tries + 1);
  window.setTimeout(() => {
    if (!img.isConnected) return;
    const srcset = img.srcset;
    img.srcset = "";
    img.srcset = srcset;
  }, 1500);
}

function move(delta) {
  const s = shared();
  if (!s || s.document.shown_as !== "pages") return;
  const next = step(docs.view, s, delta, presenter(), readyOf(s.document));
  docs.view = { page: next.page, following: next.following };
  if (next.send !== null && state.conn) {
    state.conn.setPage(next.send).catch((e) => showError(e));
    return;
  }
  updateView();
  if (!presenter()) announce(t("doc.page_of", { page: next.page, pages: s.document.pages }));
}

function follow() {
  const s = shared();
  if (!s) return;
  docs.view = { page: s.page, following: true };
  updateView();
  announce(t("doc.page_of", { page: s.page, pages: s.document.pages }));
  focusStage();
}

function focusStage() {
  const next = /** @type {HTMLElement|null} */ (document.querySelector('[data-testid="doc-next"]'));
  if (next && !next.hidden) next.focus();
}

// ---------------------------------------------------------------- the pointer

function pointAt(event, frame) {
  const at = pointerFraction(event.clientX, event.clientY, frame.getBoundingClientRect());
  sendPointer(at);
}

/** Throttled: at most one every POINTER_MS, the last position always sent. */
function sendPointer(at) {
  docs.pointerPending = at ? at : { x: null, y: null };
  if (docs.pointerTimer) return;
  const wait = Math.max(0, docs.pointerAt + POINTER_MS - Date.now());
  docs.pointerTimer = window.setTimeout(() => {
    docs.pointerTimer = 0;
    docs.pointerAt = Date.now();
    const p = docs.pointerPending;
    docs.pointerPending = null;
    if (p && state.conn && shared()) state.conn.setPointer(p.x, p.y).catch(() => {});
  }, wait);
}

function onPointer(p) {
  const s = shared();
  const dot = /** @type {HTMLElement|null} */ (document.querySelector("#stage-document .doc-pointer"));
  if (!s || !dot || !p || p.document !== s.document.id) return;
  const onPage = shownPage(docs.view, s) === p.page;
  if (typeof p.x !== "number" || typeof p.y !== "number" || !onPage) {
    dot.hidden = true;
    return;
  }
  dot.hidden = false;
  dot.style.left = `${p.x * 100}%`;
  dot.style.top = `${p.y * 100}%`;
}

function hidePointer() {
  const dot = /** @type {HTMLElement|null} */ (document.querySelector("#stage-document .doc-pointer"));
  if (dot) dot.hidden = true;
}

// ---------------------------------------------------------------- the shared player

function buildPlayer(s) {
  const d = s.document;
  const file = d.video ? "video.mp4" : "original";
  const media = /** @type {HTMLMediaElement} */ (
    h(d.video ? "video" : "audio", {
      class: "doc-media",
      "data-testid": "doc-media",
      preload: "auto",
      src: fileUrl(roomId(), d.id, file, docs.access),
    })
  );
  media.setAttribute("aria-label", d.name);
  media.controls = presenter();
  if (presenter()) {
    for (const name of ["play", "pause", "seeked"]) media.addEventListener(name, () => playerMoved(media));
  } else {
    media.addEventListener("timeupdate", () => updatePlayerText(media));
  }
  media.addEventListener("loadedmetadata", () => applyPlayer(media));
  const here = h("button", {
    type: "button",
    class: "primary doc-play-here",
    "data-testid": "doc-play-here",
    hidden: true,
    on: {
      click: () => {
        here.hidden = true;
        applyPlayer(media);
      },
    },
  });
  return h(
    "div",
    { class: "doc-player" },
    h("p", { class: "doc-player-name", text: d.name }),
    media,
    h("p", { class: "doc-player-state", "data-testid": "doc-player-state" }),
    here,
    stopButton(),
  );
}

/** The room's player state onto this page's element (a presenter's echo changes nothing). */
function applyPlayer(media) {
  const s = shared();
  if (!s || !s.player) return;
  const target = playerPosition(s.player, serverNow(), s.document.duration_s || media.duration || 0);
  if (Math.abs(media.currentTime - target) > DRIFT_S && media.readyState >= 1) media.currentTime = target;
  if (s.player.playing && media.paused) {
    media.play().catch(() => {
      // The browser wants a press on this page before it plays sound.
      const here = document.querySelector(".doc-play-here");
      if (here) /** @type {HTMLElement} */ (here).hidden = false;
    });
  } else if (!s.player.playing && !media.paused) {
    media.pause();
  }
  updatePlayerText(media);
}

/** The presenter played, paused or sought: everyone does the same (unless it was the room's). */
function playerMoved(media) {
  const s = shared();
  if (!s || !s.player || !state.conn) return;
  const duration = s.document.duration_s || media.duration || 0;
  const target = playerPosition(s.player, serverNow(), duration);
  const same = media.paused === !s.player.playing && Math.abs(media.currentTime - target) < 1;
  if (same) return;
  const position = duration ? Math.min(media.currentTime, duration) : media.currentTime;
  state.conn.setPlayer(!media.paused, position).catch((e) => showError(e));
}

function updatePlayer(s, slot) {
  const media = /** @type {HTMLMediaElement|null} */ (slot.querySelector(".doc-media"));
  if (!media) return;
  const here = slot.querySelector(".doc-play-here");
  if (here) here.textContent = t("doc.play_here");
  applyPlayer(media);
}

function updatePlayerText(media) {
  const s = shared();
  const line = document.querySelector(".doc-player-state");
  if (!s || !s.player || !line) return;
  const params = { time: clock(media.currentTime), duration: clock(s.document.duration_s || media.duration) };
  line.textContent = t(s.player.playing ? "doc.player_playing" : "doc.player_paused", params);
}

// ---------------------------------------------------------------- a zip's listing

function buildListing(d) {
  return h(
    "div",
    { class: "doc-listing" },
    h("h4", { class: "doc-listing-title", id: "doc-listing-title" }),
    h("ul", { class: "plain-list doc-entries", "aria-labelledby": "doc-listing-title", "data-testid": "doc-entries" }),
    stopButton(),
  );
}

function updateListing(d, slot) {
  const known = docs.known.get(d.id);
  const entries = known && Array.isArray(known.entries) ? known.entries.filter((e) => !e.dir) : [];
  const title = slot.querySelector(".doc-listing-title");
  if (title) title.textContent = t("doc.listing_title", { name: d.name, count: entries.length });
  const list = slot.querySelector(".doc-entries");
  if (!list) return;
  const size = new Intl.NumberFormat(language(), { style: "unit", unit: "kilobyte", maximumFractionDigits: 0 });
  list.replaceChildren(
    ...entries.map((e) =>
      h(
        "li",
        {},
        h("a", {
          href: entryUrl(roomId(), d.id, e.name, docs.access),
          download: e.name.split("/").pop() || "file",
          "aria-label": t("doc.download_label", { name: e.name }),
          text: e.name,
        }),
        h("span", { class: "muted", text: size.format(Math.max(1, Math.round(e.size / 1024))) }),
      ),
    ),
  );
}

// ---------------------------------------------------------------- keys

function typing(target) {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT|AUDIO|VIDEO)$/.test(target.tagName)) return true;
  return !!target.closest('[role="tablist"], [role="listbox"], [role="menu"]');
}

function onKey(e) {
  const s = shared();
  if (!s || s.document.shown_as !== "pages" || e.defaultPrevented) return;
  if (e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) return;
  if (byId("inside").hidden || document.querySelector("dialog[open]")) return;
  const delta = { ArrowLeft: -1, PageUp: -1, ArrowRight: 1, PageDown: 1 }[e.key];
  if (!delta) return;
  e.preventDefault();
  move(delta);
}

// ---------------------------------------------------------------- wiring

/** The room's document events on a connection (room.js calls this once per connection). */
export function bindDocuments(conn) {
  docs.access = null;
  docs.known = new Map();
  docs.ready = new Map();
  docs.view = { page: 1, following: true };
  conn.on("room_state", (msg) => {
    state.share = msg.share || null;
    docs.view = { page: state.share ? state.share.page : 1, following: true };
    renderMenu();
    renderStageDocument(true);
    arrangeStage();
    refreshAccess(conn).catch((e) => showError(e));
  });
  conn.on("share_changed", ({ share: next }) => {
    const before = state.share;
    state.share = next || null;
    docs.view = { page: state.share ? state.share.page : 1, following: true };
    if (state.share && !docs.known.has(state.share.document.id)) {
      refreshAccess(conn).catch(() => {}); // a document uploaded since (its listing, its name)
    }
    renderMenu();
    renderStageDocument(true);
    arrangeStage();
    if (state.share) announce(t("doc.now_shared", { name: state.share.document.name }));
    else if (before) announce(t("doc.stopped"));
  });
  conn.on("page_changed", ({ document: id, page }) => {
    const s = shared();
    if (!s || s.document.id !== id || typeof page !== "number") return;
    s.page = page;
    if (docs.view.following) announce(t("doc.page_of", { page, pages: s.document.pages }));
    updateView();
  });
  conn.on("player_changed", (p) => {
    const s = shared();
    if (!s || s.document.id !== p.document) return;
    s.player = { playing: !!p.playing, position_s: Number(p.position_s) || 0, at: Number(p.at) || 0 };
    updateView();
  });
  conn.on("pointer", onPointer);
  conn.on("document_progress", onProgress);
  conn.on("document_added", ({ document }) => {
    if (!document || typeof document.id !== "string") return;
    docs.known.set(document.id, document);
    docs.ready.delete(document.id);
    renderMenu();
    updateView();
  });
  conn.on("participant_updated", () => {
    // A role given or taken: the Document tool and the presenter's controls follow. Anyone
    // else's change leaves the stage alone (a rebuilt player would start its sound over).
    renderMenu();
    if (docs.builtAsPresenter !== presenter()) renderStageDocument(true);
  });
  conn.on("ended", () => {
    state.share = null;
    docs.upload = null;
    renderUpload();
    renderStageDocument(false);
    renderMenu();
  });
}

export function renderDocuments() {
  renderMenu();
  renderUpload();
  const slot = document.getElementById("stage-document");
  if (slot) drawIcons(slot);
  updateView();
}

export function setupDocuments() {
  const input = /** @type {HTMLInputElement} */ (byId("doc-file"));
  byId("doc-choose").addEventListener("click", () => input.click());
  input.addEventListener("change", () => {
    const file = input.files && input.files[0];
    input.value = "";
    if (file) startUpload(file);
  });
  byId("doc-stop").addEventListener("click", () => {
    byId("document-menu").hidePopover();
    stopSharing();
  });
  byId("doc-upload-close").addEventListener("click", closeUpload);
  document.addEventListener("keydown", onKey);
  watchStageSize();
  window.setInterval(() => {
    // A playing pupil's player checks its place against the room's now and then.
    const media = /** @type {HTMLMediaElement|null} */ (document.querySelector("#stage-document .doc-media"));
    if (media && !presenter() && !media.paused) applyPlayer(media);
  }, 5000);
  renderMenu();
}
