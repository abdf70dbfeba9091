// The shared page's size on the stage (documents.js builds the page, this sizes it): as large as
// the stage allows, keeping its shape; its `sizes` says how wide it is drawn, so the browser
// picks the rendered width that fits.
//
// On an upright phone a landscape slide fitted into the whole stage left black bands above and
// below it (a 16:9 slide is 220 px high on a 390 px phone, the stage ~700 px). There the page
// takes the full width and the stage is only as tall as the page and its bar (style.css, the
// same media query): the teacher's camera and the filmstrip sit right under it.
import { fitCamera, watchContentShape } from "./camera_fit.js";
import { byId } from "./dom.js";
import { fitPage } from "./document_state.js";

const UPRIGHT_PHONE = window.matchMedia("(max-width: 48rem) and (orientation: portrait)");

const height = (el) => (el ? el.getBoundingClientRect().height : 0);

/** The height the page may take: the slot's (less the bar), or on an upright phone what the
 * stage's column offers less the bar, the teacher's camera under the page and the filmstrip. */
function roomFor(slot, bar) {
  const main = byId("stage-main");
  if (!UPRIGHT_PHONE.matches || document.fullscreenElement === main) {
    return slot.getBoundingClientRect().height - height(bar);
  }
  const gap = parseFloat(getComputedStyle(byId("stage")).rowGap) || 0;
  const film = byId("tiles");
  const filmHeight = film.childElementCount ? height(film) + gap : 0;
  return height(byId("stage")) - height(bar) - height(main.querySelector(":scope > .tile-pip")) - filmHeight;
}

/** Sizes the shared page, after placing the teacher's camera beside it or beside a shared
 * screen (again whenever the stage or the window changes). */
export function fitDocument() {
  // The camera's place beside the page decides the page's slot.
  fitCamera();
  const slot = document.getElementById("stage-document");
  const frame = /** @type {HTMLElement|null} */ (slot ? slot.querySelector(".doc-frame") : null);
  if (!slot || !frame) return;
  const width = slot.getBoundingClientRect().width;
  const room = roomFor(slot, slot.querySelector(".doc-bar"));
  if (!width || room <= 0) return;
  const size = fitPage(width, room, Number(frame.dataset.aspect) || 0.75);
  frame.style.width = `${size.width}px`;
  frame.style.height = `${size.height}px`;
  const img = frame.querySelector("img");
  if (img) img.sizes = `${size.width}px`;
}

/** Refits on every change of the stage's size, of its column's, and of the phone's orientation. */
export function watchStageSize() {
  const resize = new ResizeObserver(() => fitDocument());
  resize.observe(byId("stage-main"));
  resize.observe(byId("stage"));
  UPRIGHT_PHONE.addEventListener("change", fitDocument);
  watchContentShape();
}
