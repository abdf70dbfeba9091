// Where the teacher's camera goes beside shared content (Lecture, Chat in focus). No DOM here
// (tests/unit/test_camera_place_js.py runs it under Node); camera_fit.js measures and applies it.
//
// The camera used to lie over the stage's lower right corner, on top of the slide: a teacher's
// slide must never be hidden. So the camera gets its own column beside the content, or its own
// row under it, whichever leaves the content's picture larger:
//  - it first takes the band the content leaves empty anyway (a 4:3 slide on a wide stage
//    leaves a column; a 16:9 screen on a phone leaves a row), at least `min` wide and at most
//    `max`. `min` is a camera a class can see a face in (12.5 rem, 200 px: at 8 rem, 128 px,
//    the teacher beside a slide at 1366x768 was a thumbnail, seen in the screenshots);
//  - beyond that band the content's picture never drops below `keep` px² (a third of the
//    window) — there the camera is smaller rather than the content, though never below half
//    of `min`. The picture, not its box: a box with black bands in it keeps nobody's slide large;
//  - both are packed together in the middle of the stage (no band between them).

/**
 * @typedef {{width: number, height: number, aspect: number, extra?: number,
 *   cameraAspect?: number, gap: number, min: number, max: number, keep: number}} CameraRoom
 *   the stage's box (px); the content's picture width / height; `extra` px the content needs
 *   under its picture (a document's bar); the camera's width / height; the gap between them;
 *   the camera's least and largest width; the least area of the content's picture
 * @typedef {{side: "right"|"below", camera: {width: number, height: number},
 *   content: {width: number, height: number}, picture: {width: number, height: number}}} CameraPlace
 */

/**
 * @param {CameraRoom} room
 * @returns {CameraPlace|null} null when the stage has no room for both
 */
export function placeCamera(room) {
  const options = [beside(room), under(room)].filter((o) => o !== null);
  if (!options.length) return null;
  const area = (o) => o.picture.width * o.picture.height;
  // The larger picture; where they are about equal, the larger camera.
  options.sort((a, b) => {
    const d = area(b) - area(a);
    return Math.abs(d) > 0.01 * Math.max(area(a), area(b)) ? d : b.camera.width - a.camera.width;
  });
  return options[0];
}

const clamp = (value, low, high) => Math.max(low, Math.min(high, value));

/** The content's picture fitted into a box (keeping `extra` under it). */
function fit(room, boxWidth, boxHeight) {
  const extra = room.extra || 0;
  const width = Math.max(0, Math.min(boxWidth, (boxHeight - extra) * room.aspect));
  return { width, height: width / room.aspect };
}

/** The picture's area with the camera `camera` px wide on `side`. */
function pictureArea(room, side, camera) {
  const ratio = room.cameraAspect || 4 / 3;
  const picture = side === "right"
    ? fit(room, room.width - camera - room.gap, room.height)
    : fit(room, room.width, room.height - camera / ratio - room.gap);
  return picture.width * picture.height;
}

/** The camera's width on `side`: `wanted`, or less where the content's picture would drop
 * below `keep` — the widest camera between `least` and `wanted` that leaves the picture that
 * much (or as much as any camera there can: a picture bound by the other side does not grow
 * when the camera shrinks, so the camera does not shrink for nothing). */
function keepPicture(room, side, wanted, least) {
  if (wanted <= least || pictureArea(room, side, wanted) >= room.keep) return wanted;
  const target = Math.min(room.keep, pictureArea(room, side, least));
  let lo = least;
  let hi = wanted;
  // The area falls as the camera grows: halve the interval to within a pixel.
  while (hi - lo > 0.5) {
    const mid = (lo + hi) / 2;
    if (pictureArea(room, side, mid) >= target) lo = mid;
    else hi = mid;
  }
  return lo;
}

/** A column right of the content. */
function beside(room) {
  const extra = room.extra || 0;
  const ratio = room.cameraAspect || 4 / 3;
  const empty = room.width - room.gap - (room.height - extra) * room.aspect;
  const max = Math.min(room.max, room.height * ratio);
  const camera = clamp(empty, room.min, max);
  const least = Math.min(camera, Math.max(clamp(empty, 0, max), room.min / 2));
  return placed(room, "right", keepPicture(room, "right", camera, least));
}

/** A row under the content. */
function under(room) {
  const ratio = room.cameraAspect || 4 / 3;
  const extra = room.extra || 0;
  const empty = room.height - room.gap - (room.width / room.aspect + extra);
  const max = Math.min(room.max, room.width);
  const camera = clamp(empty * ratio, room.min, max);
  const least = Math.min(camera, Math.max(clamp(empty * ratio, 0, max), room.min / 2));
  return placed(room, "below", keepPicture(room, "below", camera, least));
}

/** The camera at that width on that side, and the content's box and picture beside it. */
function placed(room, side, cameraWidth) {
  const ratio = room.cameraAspect || 4 / 3;
  // Whole pixels for the camera, rounded down: the content's box only gains by it.
  const width = Math.floor(cameraWidth);
  const height = width / ratio;
  if (width < 1) return null;
  const box = side === "right"
    ? { width: room.width - width - room.gap, height: room.height }
    : { width: room.width, height: room.height - height - room.gap };
  if (box.width < 1 || box.height < 1) return null;
  const picture = fit(room, box.width, box.height);
  // The content's box shrinks to its picture along the side the camera is on: the two sit
  // together rather than with a band between them (that only happens where the picture is
  // as large as the whole stage would make it, so it loses nothing).
  const content = side === "right"
    ? { width: Math.min(box.width, picture.width), height: box.height }
    : { width: box.width, height: Math.min(box.height, picture.height + (room.extra || 0)) };
  return { side, camera: { width, height: Math.floor(height) }, content, picture };
}
