// The shared document's rules without the DOM (tests/unit/test_document_state_js.py runs them
// under Node): the addresses of its files, which page a viewer sees, where a shared player is.

/** The widths pages are rendered in when the server does not say (server/documents/limits.py). */
export const DEFAULT_WIDTHS = [640, 1280, 1920];

/** A file of a room's document, with the room's ticket (an <img> cannot send a header). */
export function fileUrl(roomId, documentId, file, access) {
  const room = encodeURIComponent(roomId);
  return `/api/rooms/${room}/documents/${documentId}/${file}?access=${encodeURIComponent(access)}`;
}

/** One file of a shared zip (the server streams it out of the archive). */
export function entryUrl(roomId, documentId, name, access) {
  return `${fileUrl(roomId, documentId, "entry", access)}&name=${encodeURIComponent(name)}`;
}

/**
 * The `srcset` of one page: every rendered width, so the browser takes the one that fits the
 * page's width on screen times the device pixel ratio (with `sizes` set to that width).
 */
export function pageSrcset(roomId, doc, page, access) {
  const widths = doc.widths && doc.widths.length ? doc.widths : DEFAULT_WIDTHS;
  return [...widths]
    .sort((a, b) => a - b)
    .map((w) => `${fileUrl(roomId, doc.id, `${page}-${w}.webp`, access)} ${w}w`)
    .join(", ");
}

/** The width a page gets in a box: as large as fits, keeping its shape (height / width). */
export function fitPage(boxWidth, boxHeight, aspect) {
  const shape = aspect > 0 ? aspect : 0.75;
  const width = Math.max(1, Math.floor(Math.min(boxWidth, boxHeight / shape)));
  return { width, height: Math.floor(width * shape) };
}

/**
 * Where a press of "previous" (-1) or "next" (+1) takes this viewer.
 * A presenter moves everyone (`send`), up to the last page converted so far (`ready`).
 * Anyone else looks back on their own, never beyond the presenter's page; reaching it again
 * is following again.
 * @param {{page: number, following: boolean}} view this viewer's page
 * @param {{page: number, document: {pages: number}}} share the room's shared document
 * @returns {{page: number, following: boolean, send: number|null}}
 */
export function step(view, share, delta, presenter, ready = Infinity) {
  if (presenter) {
    const last = Math.min(share.document.pages, ready);
    const page = Math.max(1, Math.min(last, share.page + delta));
    return { page, following: true, send: page === share.page ? null : page };
  }
  const from = view.following ? share.page : view.page;
  const page = Math.max(1, Math.min(share.page, from + delta));
  return { page, following: page === share.page, send: null };
}

/** The page this viewer sees: the presenter's while following, else their own. */
export function shownPage(view, share) {
  return view.following ? share.page : Math.min(view.page, share.page);
}

/**
 * The shared player's position now: it was `position_s` at the server's time `at`, and has
 * run on since if playing. `serverNow` is the server's clock (the page's clock plus its offset).
 */
export function playerPosition(player, serverNow, duration) {
  let at = player.position_s;
  if (player.playing) at += Math.max(0, serverNow - player.at);
  return duration ? Math.min(at, duration) : at;
}

/** Seconds as m:ss (or h:mm:ss). */
export function clock(seconds) {
  const s = Math.max(0, Math.floor(Number(seconds) || 0));
  const two = (n) => String(n).padStart(2, "0");
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h ? `${h}:${two(m)}:${two(s % 60)}` : `${m}:${two(s % 60)}`;
}

/** A pointer position from a point on the page's box: fractions of its width and height. */
export function pointerFraction(x, y, rect) {
  if (!rect.width || !rect.height) return null;
  const fx = (x - rect.left) / rect.width;
  const fy = (y - rect.top) / rect.height;
  if (fx < 0 || fx > 1 || fy < 0 || fy > 1) return null;
  return { x: Math.round(fx * 10000) / 10000, y: Math.round(fy * 10000) / 10000 };
}
