// Puts the teacher's camera beside the shared content on the stage (camera_place.js decides
// where and how large; style.css's [data-pip] rules draw the stage as two grid cells), so it
// never lies over a slide or a shared screen. Measured again whenever the stage, the content's
// shape or the document's bar changes (document_fit.js calls it before sizing the page).
import { byId } from "./dom.js";
import { placeCamera } from "./camera_place.js";

// The same query as document_fit.js and style.css: there an upright phone's stage grows to the
// page or the screen and the camera sits under it in the normal flow (its own rules, tested too).
const UPRIGHT_PHONE = window.matchMedia("(max-width: 48rem) and (orientation: portrait)");
const REM = () => parseFloat(getComputedStyle(document.documentElement).fontSize) || 16;

/** The content's picture shape (width / height) and what it needs under the picture. */
function contentShape(main) {
  if (main.dataset.content === "document") {
    const frame = /** @type {HTMLElement|null} */ (main.querySelector("#stage-document .doc-frame"));
    const bar = main.querySelector("#stage-document .doc-bar");
    const extra = bar ? bar.getBoundingClientRect().height : 0;
    // A player or a zip's listing has no page: a landscape box is what it draws.
    const tall = frame ? Number(frame.dataset.aspect) || 0.75 : 9 / 16;
    return { aspect: 1 / tall, extra };
  }
  const video = /** @type {HTMLVideoElement|null} */ (main.querySelector(":scope > .tile:not(.tile-pip) video"));
  const aspect = video && video.videoWidth && video.videoHeight ? video.videoWidth / video.videoHeight : 16 / 9;
  return { aspect, extra: 0 };
}

function clear(main) {
  if (!main.dataset.pip) return;
  delete main.dataset.pip;
  for (const name of ["--pip-w", "--content-w", "--content-h"]) main.style.removeProperty(name);
}

/** Places the camera beside the content (or takes the placement off when there is none). */
export function fitCamera() {
  const main = document.getElementById("stage-main");
  if (!main) return;
  const pip = main.querySelector(":scope > .tile-pip");
  const content = main.dataset.content;
  const full = document.fullscreenElement === main;
  // An upright phone lays a page or a screen across the width with the camera under it in the
  // normal flow (style.css): no cells to place.
  const upright = UPRIGHT_PHONE.matches && !full;
  if (!pip || (content !== "document" && content !== "screen") || upright) {
    clear(main);
    return;
  }
  const box = main.getBoundingClientRect();
  const rem = REM();
  const max = Math.min(16 * rem, 0.45 * box.width);
  const place = placeCamera({
    width: box.width,
    height: box.height,
    ...contentShape(main),
    gap: parseFloat(getComputedStyle(main).columnGap) || 0,
    min: Math.min(12.5 * rem, max),
    max,
    // A third of the window stays the content's picture (full screen: of the screen).
    keep: (full ? box.width * box.height : window.innerWidth * window.innerHeight) / 3,
  });
  if (!place) {
    clear(main);
    return;
  }
  main.dataset.pip = place.side;
  main.style.setProperty("--pip-w", `${place.camera.width}px`);
  main.style.setProperty("--content-w", `${place.content.width}px`);
  main.style.setProperty("--content-h", `${place.content.height}px`);
}

/** Places it again when the shared screen's shape changes (another window, a turned phone). */
export function watchContentShape() {
  const main = byId("stage-main");
  // Media events do not bubble; a capturing listener on the stage hears every video's.
  for (const type of ["loadedmetadata", "resize"]) main.addEventListener(type, () => fitCamera(), true);
}
