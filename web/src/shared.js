// State shared by the room page's UI modules (room.js, people.js, chat.js, hands.js, polls.js,
// layout.js, mediaui.js) and the small helpers they all use. The DOM is rendered from `state`.
import { byId, clearError, focusOn, showError } from "./dom.js";

const ROLE_ORDER = { host: 0, presenter: 1, participant: 2, guest: 3 };

/** Page state. */
export const state = {
  /** @type {object|null} */ room: null,
  /** @type {object|null} */ user: null,
  /** @type {import("./protocol.js").RoomConnection|null} */ conn: null,
  /** @type {object|null} */ you: null,
  /** @type {Map<string, object>} */ participants: new Map(),
  /** @type {object[]} */ lobby: [],
  policy: "ask_host",
  layout: "lecture",
  /** @type {{position: number, host_present: boolean}|null} */ waiting: null,
  /** @type {{reason: string, detail?: string, host?: boolean}|null} */ ended: null,
  /** @type {number|null} the lesson ended; the room closes by itself then (Unix seconds) */
  closesAt: null,
  /** @type {object[]} hands queue (hosts and presenters) */ hands: [],
  /** @type {number|null} own place in the hands queue */ handPosition: null,
  /** @type {object|null} the shared document, its page and player (docs/protocol.md Share) */
  share: null,
  /** @type {Map<string, {level: string, delay_ms: number, loss_pct: number}>} (staff) */
  quality: new Map(),
};

export function isHost() {
  return !!state.you && state.you.role === "host";
}

/** Hosts and presenters: they see the hands queue and run polls. */
export function isStaff() {
  return !!state.you && (state.you.role === "host" || state.you.role === "presenter");
}

export function isMe(id) {
  return !!state.you && state.you.id === id;
}

export function sortedParticipants() {
  return [...state.participants.values()].sort(
    (a, b) =>
      (ROLE_ORDER[a.role] ?? 9) - (ROLE_ORDER[b.role] ?? 9) || a.name.localeCompare(b.name),
  );
}

/** Listeners for "the participants changed" (names, roles, rights), e.g. the chat recipients. */
const peopleListeners = new Set();
export function onPeopleChange(fn) {
  peopleListeners.add(fn);
}
export function peopleChanged() {
  for (const fn of peopleListeners) fn();
}

/**
 * Runs a command from a button: disabled while it runs, errors to the alert region. If the
 * button's list row went away meanwhile, focus goes to a neighbour or to `fallbackId`.
 */
export async function act(button, fn, fallbackId) {
  clearError();
  const list = button.closest("ul, ol");
  const item = button.closest("li");
  const index = list && item ? [...list.children].indexOf(item) : -1;
  button.disabled = true;
  try {
    await fn();
  } catch (e) {
    showError(e);
  } finally {
    button.disabled = false;
  }
  // Focus already given back by a re-render (restoreFocus) stays where it is.
  const lost = !document.activeElement || document.activeElement === document.body;
  if (!button.isConnected && list && lost) {
    // The same control in the re-rendered row, else a neighbour row's first button.
    const key = item ? item.dataset.key : null;
    const row = key ? [...list.children].find((li) => li.dataset.key === key) : null;
    const same = row ? row.querySelector(`button[data-action="${button.dataset.action}"]`) : null;
    const next = list.children[Math.min(index, list.children.length - 1)];
    const target = same || (next ? next.querySelector("button") : null);
    focusOn(target || (fallbackId ? byId(fallbackId) : null));
  }
}

/** A small button; `label` is its accessible name when the visible text is not enough. */
export function button(text, action, onClick, { label, cls = "small", testid } = {}) {
  const el = document.createElement("button");
  el.type = "button";
  el.className = cls;
  el.textContent = text;
  el.dataset.action = action;
  if (label) el.setAttribute("aria-label", label);
  if (testid) el.dataset.testid = testid;
  el.addEventListener("click", () => onClick(el));
  return el;
}

/** Which list button has focus (row key + action), so a re-render can give it back. */
export function focusedControl(container) {
  const el = document.activeElement;
  if (!(el instanceof HTMLElement) || !el.dataset.action || !container.contains(el)) return null;
  const row = el.closest("li");
  return row && row.dataset.key ? { key: row.dataset.key, action: el.dataset.action } : null;
}

export function restoreFocus(container, saved) {
  if (!saved) return;
  for (const row of container.querySelectorAll("li[data-key]")) {
    if (/** @type {HTMLElement} */ (row).dataset.key !== saved.key) continue;
    const el = row.querySelector(`button[data-action="${saved.action}"]`);
    if (el instanceof HTMLElement) el.focus();
    return;
  }
}
