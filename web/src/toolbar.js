// The room's one toolbar: its icons, a hint line for what is not allowed yet, the keyboard
// shortcuts and their dialog. (The count badges on People — raised hands, knocks — are filled
// through their data-badge names by banner.js's showCount.)
// The buttons' own work is done by mediaui.js (mic, camera, share), hands.js (hand),
// panels.js (chat, people, polls) and layout.js (layout); this module ties keys to them.
import { byId, h } from "./dom.js";
import { t } from "./i18n.js";
import { drawIcons } from "./icons.js";
import { admitOldest } from "./knocks.js";
import { focusLayout } from "./layout.js";
import { togglePanel } from "./panels.js";
import { toggleStageFullscreen } from "./stageview.js";

/** Key → what it does; the dialog lists them in this order. */
const SHORTCUTS = [
  { key: "M", text: "shortcuts.mic", run: () => clickIfShown("publish-mic") },
  { key: "V", text: "shortcuts.camera", run: () => clickIfShown("publish-camera") },
  { key: "S", text: "shortcuts.share", run: () => clickIfShown("publish-screen") },
  { key: "D", text: "shortcuts.document", run: () => clickIfShown("tool-document") },
  { key: "H", text: "shortcuts.hand", run: () => clickIfShown("hand-toggle") },
  { key: "A", text: "shortcuts.admit", run: () => admitOldest() },
  { key: "C", text: "shortcuts.chat", run: () => togglePanel("chat") },
  { key: "P", text: "shortcuts.people", run: () => togglePanel("people") },
  { key: "O", text: "shortcuts.polls", run: () => togglePanel("polls") },
  { key: "L", text: "shortcuts.layout", run: () => focusLayout() },
  { key: "F", text: "shortcuts.fullscreen", run: () => toggleStageFullscreen() },
  { key: "?", text: "shortcuts.help", run: () => openShortcuts() },
  // Listed only: documents.js turns the shared document's pages with these.
  { key: "← →", text: "shortcuts.pages", run: () => {} },
];

let hintTimer = 0;

function clickIfShown(id) {
  const el = document.getElementById(id);
  if (el && !el.hidden) el.click();
}

/** A short line above the toolbar (e.g. how to ask for the microphone), gone after a while. */
export function showHint(text) {
  const el = byId("toolbar-hint");
  el.textContent = text;
  el.hidden = false;
  window.clearTimeout(hintTimer);
  hintTimer = window.setTimeout(() => {
    el.hidden = true;
    el.textContent = "";
  }, 8000);
}

export function renderToolbar() {
  for (const el of byId("toolbar").querySelectorAll(".tool[data-key]")) {
    const tool = /** @type {HTMLElement} */ (el);
    const label = tool.querySelector(".tool-label");
    // The media buttons set their own title (what a press does now); the rest name their key.
    if (!tool.id.startsWith("publish-") && label) {
      tool.setAttribute("title", `${label.textContent} (${tool.dataset.key})`);
    }
  }
  byId("tool-more").setAttribute("title", t("toolbar.more"));
  renderShortcutRows();
}

function renderShortcutRows() {
  byId("shortcuts-rows").replaceChildren(
    ...SHORTCUTS.map((s) =>
      h("tr", {}, h("td", {}, h("kbd", { text: s.key })), h("td", { text: t(s.text) })),
    ),
  );
}

function openShortcuts() {
  const menu = byId("more-menu");
  if (menu.matches(":popover-open")) menu.hidePopover();
  const dialog = /** @type {HTMLDialogElement} */ (byId("shortcuts-dialog"));
  if (!dialog.open) dialog.showModal();
}

function typing(target) {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName);
}

export function setupToolbar() {
  drawIcons(document);
  // Each tool shows its key in a corner (aria-keyshortcuts tells screen readers; the visible
  // letter stays out of the button's name).
  for (const el of byId("toolbar").querySelectorAll(".tool[data-key]")) {
    const key = /** @type {HTMLElement} */ (el).dataset.key || "";
    el.append(h("kbd", { class: "tool-key", "aria-hidden": "true", text: key }));
  }
  byId("shortcuts-open").addEventListener("click", openShortcuts);
  document.addEventListener("keydown", (e) => {
    // Single keys act only in the room, never while typing or with a modifier held.
    if (e.ctrlKey || e.metaKey || e.altKey || e.repeat || typing(e.target)) return;
    if (byId("inside").hidden || document.querySelector("dialog[open]")) return;
    const key = e.key.length === 1 ? e.key.toUpperCase() : "";
    const shortcut = SHORTCUTS.find((s) => s.key === key);
    if (!shortcut) return;
    e.preventDefault();
    shortcut.run();
  });
  renderToolbar();
}
