// Draws the stage: asks stage.js what goes where and moves the tile elements into the stage,
// the filmstrip or the (invisible) sound box. Also the stage's own controls: a pupil's pin and
// the stage's full screen.
import { fitDocument } from "./document_fit.js";
import { byId, showError } from "./dom.js";
import { t } from "./i18n.js";
import { state } from "./shared.js";
import { stageModel } from "./stage.js";

const stage = {
  /** @type {{el: HTMLElement, key: string, participantId: string, source: string, kind: string, self: boolean}[]} */
  items: [],
  /** @type {Set<string>} */ speaking: new Set(),
  /** @type {string|null} the tile this viewer pinned to the stage */ pinned: null,
  /** @type {import("./stage.js").StageModel|null} what is shown now */
  model: null,
};

/**
 * Puts exactly `nodes` in `box` after its fixed children, in order, moving only what is out of
 * place. A tile shown full screen is never moved: taking an element out of the document ends
 * its full screen (and a pupil reading a shared screen would be thrown out whenever someone
 * raised a hand).
 * @param {HTMLElement} box
 * @param {HTMLElement[]} nodes
 */
function place(box, nodes) {
  const wanted = new Set(nodes);
  const tiles = () => [...box.children].filter((c) => c.classList.contains("tile"));
  for (const child of tiles()) if (!wanted.has(/** @type {HTMLElement} */ (child))) child.remove();
  const full = document.fullscreenElement;
  if (full && full.classList.contains("tile") && box.contains(full)) {
    for (const node of nodes) if (node.parentNode !== box) box.append(node);
    return;
  }
  nodes.forEach((node, i) => {
    const now = tiles();
    if (now[i] !== node) box.insertBefore(node, now[i] || null);
  });
}

/** The room state → the stage model → the elements in their places. */
export function arrangeStage(items = stage.items, speaking = stage.speaking) {
  stage.items = items;
  stage.speaking = speaking;
  if (stage.pinned && !items.some((i) => i.key === stage.pinned)) stage.pinned = null;
  const roles = {};
  for (const p of state.participants.values()) roles[p.id] = p.role;
  const model = stageModel({
    layout: state.layout,
    tiles: items,
    roles,
    speaking,
    pinned: stage.pinned,
    documentShared: !!state.share,
  });
  stage.model = model;
  const byKey = new Map(items.map((i) => [i.key, i.el]));
  const els = (keys) => keys.map((k) => byKey.get(k)).filter(Boolean);
  const main = byId("stage-main");
  const onStage = [...model.main, ...(model.pip ? [model.pip] : [])];
  for (const [key, el] of byKey) el.classList.toggle("tile-pip", key === model.pip);
  for (const [key, el] of byKey) el.classList.toggle("tile-highlight", key === model.highlight);
  place(main, els(onStage));
  place(byId("tiles"), els(model.film));
  place(byId("audio-tiles"), els(model.audio));
  main.dataset.mode = model.mode;
  main.dataset.count = String(model.main.length);
  main.dataset.content = model.content || "none";
  byId("stage-document").hidden = model.content !== "document";
  // What is on the stage decides where the teacher's camera goes beside it.
  fitDocument();
  renderStageChrome();
}

/** The stage's words: what it waits for, its full-screen button (again after a language switch). */
export function renderStageChrome() {
  const empty = byId("stage-empty");
  const teacher = !!state.you && (state.you.role === "host" || state.you.role === "presenter");
  empty.textContent = t(teacher ? "stage.empty_teacher" : "stage.empty");
  const full = document.fullscreenElement === byId("stage-main");
  const button = byId("stage-fullscreen");
  button.setAttribute("aria-pressed", String(full));
  const text = t(full ? "stage.fullscreen_exit" : "stage.fullscreen");
  byId("stage-fullscreen-label").textContent = text;
  button.setAttribute("title", `${text} (F)`);
  for (const pin of document.querySelectorAll(".tile-pin")) {
    const tile = /** @type {HTMLElement} */ (pin.closest(".tile"));
    const on = !!tile && tile.dataset.key === stage.pinned;
    pin.setAttribute("aria-pressed", String(on));
  }
}

export function pinnedTile() {
  return stage.pinned;
}

/** A viewer's own choice: this tile on the stage (again: back to the room's rule). */
export function togglePin(key) {
  stage.pinned = stage.pinned === key ? null : key;
  arrangeStage();
}

/** The whole stage full screen (the pupil's "pin the stage"); Esc or the button returns. */
export function toggleStageFullscreen() {
  const main = byId("stage-main");
  const done = document.fullscreenElement === main ? document.exitFullscreen() : main.requestFullscreen();
  done.catch((e) => showError(e));
}

export function setupStage() {
  byId("stage-fullscreen").addEventListener("click", toggleStageFullscreen);
  document.addEventListener("fullscreenchange", renderStageChrome);
  renderStageChrome();
}

/** Forgets the tiles (leaving, ended). */
export function clearStage() {
  stage.items = [];
  stage.pinned = null;
  for (const id of ["stage-main", "tiles", "audio-tiles"]) {
    const box = document.getElementById(id);
    if (box) for (const el of [...box.querySelectorAll(":scope > .tile")]) el.remove();
  }
  const main = document.getElementById("stage-main");
  if (main) main.dataset.mode = "empty";
}
