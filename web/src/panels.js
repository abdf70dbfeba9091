// The side panels (Chat, People with hands and the lobby, Polls, and the lesson's Attendance for
// its teacher) as tabs in one collapsible column; on a phone the column is a sheet over the
// stage, closed until asked for. The toolbar's Chat/People/Polls buttons open and close it.
import { byId, focusOn } from "./dom.js";
import { isHost, state } from "./shared.js";

export const PANELS = ["chat", "people", "polls", "attendance"];
const PHONE = "(max-width: 48rem)";

const side = {
  /** @type {string} */ current: "chat",
  open: true,
  /** @type {HTMLElement|null} where focus goes back to when a sheet closes */ opener: null,
  chosen: false,
};

function isPhone() {
  return window.matchMedia(PHONE).matches;
}

function panelEl(name) {
  return byId(name === "attendance" ? "attendance-tab-panel" : `${name}-panel`);
}

export function renderPanels() {
  const aside = byId("side");
  aside.hidden = !side.open;
  aside.dataset.panel = side.current;
  for (const name of PANELS) {
    const tab = byId(`tab-${name}`);
    const selected = name === side.current;
    tab.setAttribute("aria-selected", String(selected));
    tab.tabIndex = selected ? 0 : -1;
    panelEl(name).hidden = !selected;
    const tool = document.getElementById(`tool-${name}`);
    if (tool) {
      tool.setAttribute("aria-pressed", String(side.open && selected));
      tool.setAttribute("aria-expanded", String(side.open && selected));
    }
  }
}

/** Opens the side panel on `name` (focus into it when asked, e.g. from the keyboard). */
export function openPanel(name, { focus = false } = {}) {
  if (!PANELS.includes(name)) return;
  if (!side.open) side.opener = /** @type {HTMLElement|null} */ (document.activeElement);
  side.current = name;
  side.open = true;
  side.chosen = true;
  renderPanels();
  if (focus || isPhone()) focusOn(byId(`tab-${name}`));
}

/** Brings a panel forward without moving focus (news: a poll to answer). */
export function showPanel(name) {
  if (!PANELS.includes(name)) return;
  side.current = name;
  side.open = true;
  renderPanels();
}

export function closePanel() {
  if (!side.open) return;
  const hadFocus = byId("side").contains(document.activeElement);
  side.open = false;
  side.chosen = true;
  renderPanels();
  if (hadFocus) focusOn(document.getElementById(`tool-${side.current}`) || side.opener);
}

/** The toolbar's panel buttons: open that panel, or close it when it is the one showing. */
export function togglePanel(name) {
  if (side.open && side.current === name) closePanel();
  else openPanel(name);
}

/** A layout for reading the chat opens it (once per change, the pupil may close it again). */
export function layoutChanged(layout) {
  if (layout === "chat_focus") {
    side.current = "chat";
    side.open = true;
    renderPanels();
  }
}

/** Entering the room: on a phone the stage has the screen; at a desk the host sees People. */
export function enterRoom() {
  if (side.chosen) return;
  side.open = !isPhone();
  side.current = isHost() ? "people" : "chat";
  if (state.layout === "chat_focus") side.current = "chat";
  renderPanels();
}

export function setupPanels() {
  for (const name of PANELS) {
    byId(`tab-${name}`).addEventListener("click", () => openPanel(name));
    const tool = document.getElementById(`tool-${name}`);
    if (tool) tool.addEventListener("click", () => togglePanel(name));
  }
  // Tabs move with the arrow keys (the ARIA tabs pattern); Tab goes into the panel.
  byId("side").querySelector('[role="tablist"]').addEventListener("keydown", (event) => {
    const e = /** @type {KeyboardEvent} */ (event);
    if (!["ArrowLeft", "ArrowRight", "Home", "End"].includes(e.key)) return;
    const shown = PANELS.filter((n) => !byId(`tab-${n}`).hidden);
    const at = shown.indexOf(side.current);
    let next = at;
    if (e.key === "ArrowRight") next = (at + 1) % shown.length;
    if (e.key === "ArrowLeft") next = (at - 1 + shown.length) % shown.length;
    if (e.key === "Home") next = 0;
    if (e.key === "End") next = shown.length - 1;
    e.preventDefault();
    openPanel(shown[next], { focus: true });
  });
  byId("side-close").addEventListener("click", closePanel);
  byId("side").addEventListener("keydown", (event) => {
    if (/** @type {KeyboardEvent} */ (event).key === "Escape" && isPhone()) closePanel();
  });
  // The teacher's attendance comes and goes with the lesson (attendance.js shows its section).
  const attendance = byId("attendance-panel");
  const follow = () => {
    byId("tab-attendance").hidden = attendance.hidden;
    if (attendance.hidden && side.current === "attendance") side.current = "people";
    renderPanels();
  };
  new MutationObserver(follow).observe(attendance, { attributes: true, attributeFilter: ["hidden"] });
  follow();
  // Turning a tablet or resizing a window across the phone width: a sheet is closed on a phone,
  // the column open at a desk.
  window.matchMedia(PHONE).addEventListener("change", (e) => {
    side.open = !e.matches;
    renderPanels();
  });
}
