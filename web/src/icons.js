// The room's icons, drawn here as small SVG paths (24×24, stroked with currentColor) and bundled
// with the script: no icon font and no emoji, so a hand shows as a hand on every system.
// Icons are decoration: the button's text or label always says the same thing.

const SVG_NS = "http://www.w3.org/2000/svg";

/** name → list of path data (each drawn as a stroked path). */
const PATHS = {
  mic: ["M12 3a3 3 0 0 1 3 3v6a3 3 0 0 1-6 0V6a3 3 0 0 1 3-3z", "M6 11a6 6 0 0 0 12 0", "M12 17v4", "M9 21h6"],
  "mic-off": ["M12 3a3 3 0 0 1 3 3v6a3 3 0 0 1-6 0V6a3 3 0 0 1 3-3z", "M6 11a6 6 0 0 0 12 0", "M12 17v4", "M4 4l16 16"],
  camera: ["M3 7h12v10H3z", "M15 10l6-3v10l-6-3"],
  "camera-off": ["M3 7h12v10H3z", "M15 10l6-3v10l-6-3", "M3 3l18 18"],
  screen: ["M3 4h18v12H3z", "M8 20h8", "M12 16v4", "M12 13V7", "M9 10l3-3 3 3"],
  hand: [
    "M8 13V5.5a1.5 1.5 0 0 1 3 0V11",
    "M11 11V4a1.5 1.5 0 0 1 3 0v7",
    "M14 11V5.5a1.5 1.5 0 0 1 3 0V13",
    "M17 13v-2a1.5 1.5 0 0 1 3 0v3a7 7 0 0 1-7 7h-1a6 6 0 0 1-5-2.7L4.3 15a1.5 1.5 0 0 1 2.4-1.8L8 15",
  ],
  chat: ["M4 5h16v11H9l-5 4z", "M8 9h8", "M8 12h5"],
  people: ["M9 11a3 3 0 1 0 0-6 3 3 0 0 0 0 6z", "M3 20a6 6 0 0 1 12 0", "M16 5.2a3 3 0 0 1 0 5.6", "M18 14.5a6 6 0 0 1 3 5.5"],
  polls: ["M5 20V10", "M12 20V4", "M19 20v-7", "M3 20h18"],
  layout: ["M3 4h18v16H3z", "M3 15h18", "M9 15v5", "M15 15v5"],
  more: ["M5 12h.01", "M12 12h.01", "M19 12h.01"],
  leave: ["M14 4h5v16h-5", "M10 8l-4 4 4 4", "M6 12h11"],
  fullscreen: ["M4 9V4h5", "M20 9V4h-5", "M4 15v5h5", "M20 15v5h-5"],
  pin: ["M9 4h6l-1 6 3 3H7l3-3z", "M12 13v7"],
  close: ["M6 6l12 12", "M18 6L6 18"],
  document: ["M6 3h8l4 4v14H6z", "M14 3v4h4", "M9 12h6", "M9 16h6"],
  upload: ["M12 16V4", "M7 9l5-5 5 5", "M4 20h16"],
  prev: ["M15 5l-7 7 7 7"],
  next: ["M9 5l7 7-7 7"],
  keyboard: ["M3 6h18v12H3z", "M7 10h.01", "M11 10h.01", "M15 10h.01", "M7 14h10"],
};

/** An icon element (aria-hidden); an unknown name gives an empty icon. */
export function icon(name) {
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("width", "24");
  svg.setAttribute("height", "24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  svg.setAttribute("class", `icon icon-${name}`);
  for (const d of PATHS[name] || []) {
    const path = document.createElementNS(SVG_NS, "path");
    path.setAttribute("d", d);
    svg.append(path);
  }
  return svg;
}

/** Fills every `[data-icon]` placeholder under root with its icon (again after a change). */
export function drawIcons(root = document) {
  for (const el of root.querySelectorAll("[data-icon]")) {
    const name = /** @type {HTMLElement} */ (el).dataset.icon || "";
    const have = el.firstElementChild;
    if (have && have.getAttribute("class") === `icon icon-${name}`) continue;
    el.replaceChildren(icon(name));
  }
}
