// Where the room's banners go (the host's knock banner, the notices for everyone): the stage's
// banner slot when the page has one, else a strip at the top of the room that stays in view
// while the page scrolls. One place to change when the page's structure changes.
import { h } from "./dom.js";

// Ids the stage layout may provide for the banner slot, first found wins.
const SLOTS = ["stage-banner", "banner-slot"];

/** The banner area (created on first use). */
export function bannerArea() {
  const existing = document.getElementById("room-banners");
  if (existing) return existing;
  const area = h("div", { id: "room-banners", class: "room-banners" });
  const slot = SLOTS.map((id) => document.getElementById(id)).find(Boolean);
  if (slot) {
    slot.append(area);
  } else {
    // First in <main>: right under "skip to content", and sticky at the top of the window.
    area.classList.add("room-banners-sticky");
    const main = document.getElementById("main") || document.body;
    main.prepend(area);
  }
  return area;
}

/**
 * Shows `count` on every badge named `name` (`data-badge` attribute: the toolbar's, the
 * panels'), with `label` as its accessible name; hidden at zero.
 */
export function showCount(name, count, label) {
  for (const el of document.querySelectorAll(`[data-badge="${name}"]`)) {
    el.textContent = count ? String(count) : "";
    el.hidden = !count;
    if (count) {
      el.setAttribute("aria-label", label);
      el.setAttribute("title", label);
    } else {
      el.removeAttribute("aria-label");
      el.removeAttribute("title");
    }
  }
}
