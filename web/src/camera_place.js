// Where the teacher's camera goes beside shared content (Lecture, Chat in focus). No DOM here
// (tests/unit/test_camera_place_js.py runs it under Node); camera_fit.js measures and applies it.
//
// The camera used to lie over the stage's lower right corner, on top of the slide: a teacher's
// slide must never be hidden. So the camera gets its own column beside the content, or its own
// row under it, whichever leaves the content's picture larger:
//  - it first takes the band the content leaves empty anyway (a 4:3 slide on a wide stage
//    leaves a column; a 16:9 screen on a phone leaves a row), at least `min` wide and at most
//    `max`;
//  - beyond that band the content's box never drops below `keep` px² (half the window: the
//    stage's size rule, tests/e2e/test_stage.py) — there the camera is smaller rather than the
//    content (Chat in focus: its narrower stage leaves the camera just the band under a screen),
//    though never below half of `min`: a teacher still to be made out;
//  - both are packed together in the middle of the stage (no band between them).

/**
 * @typedef {{width: number, height: number, aspect: number, extra?: number,
 *   cameraAspect?: number, gap: number, min: number, max: number, keep: number}} CameraRoom
 *   the stage's box (px); the content's picture width / height; `extra` px the content needs
 *   under its picture (a document's bar); the camera's width / height; the gap between them;
 *   the camera's least and largest width; the least area of the content's box
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

/** A column right of the content. */
function beside(room) {
  const ratio = room.cameraAspect || 4 / 3;
  const extra = room.extra || 0;
  const empty = room.width - room.gap - (room.height - extra) * room.aspect;
  const max = Math.min(room.max, room.height * ratio);
  let camera = clamp(empty, room.min, max);
  if ((room.width - camera - room.gap) * room.height < room.keep) {
    camera = Math.max(clamp(empty, 0, max), room.width - room.gap - room.keep / room.height, room.min / 2);
  }
  return placed(room, "right", camera);
}

/** A row under the content. */
function under(room) {
  const ratio = room.cameraAspect || 4 / 3;
  const extra = room.extra || 0;
  const empty = room.height - room.gap - (room.width / room.aspect + extra);
  const max = Math.min(room.max, room.width);
  let camera = clamp(empty * ratio, room.min, max);
  if (room.width * (room.height - camera / ratio - room.gap) < room.keep) {
    const byKeep = (room.height - room.gap - room.keep / room.width) * ratio;
    camera = Math.max(clamp(empty * ratio, 0, max), byKeep, room.min / 2);
  }
  return placed(room, "below", camera);
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
