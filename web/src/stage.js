// What the class looks at: one pure function from the room's state to the stage's content.
// No DOM here (tests/unit/test_stage_js.py runs it under Node); stageview.js draws its answer.
//
// The rule, in order:
//  1. A tile the viewer pinned is the stage (each pupil's own choice, any layout).
//  2. Shared content wins the stage: a shared document page (the slot the sharing work fills),
//     else a shared screen (another's, or your own preview while you share).
//  3. Without content, the teacher's camera: the host's, else a presenter's — whoever of them is
//     speaking first. A teacher sees their own camera there, as the class does. Nobody teaching
//     on camera: another's camera (the speaker first).
//  4. The layout decides the rest: Lecture keeps the teacher's camera beside the content
//     ("pip"); Sharing sends every other camera to the filmstrip; Discussion puts every camera
//     on the stage as an equal grid (the speaker is highlighted where the tiles are drawn);
//     Chat focus shows the same stage as Lecture, smaller, beside a wide chat.
// Sound tiles never take space: they only play.

/** Layouts the stage knows (rooms/layouts.py). */
export const STAGE_LAYOUTS = ["lecture", "discussion", "sharing", "chat_focus"];

const TEACHING_ROLES = ["host", "presenter"];

/**
 * @typedef {{key: string, participantId: string, source: string, kind: string, self?: boolean}} StageTile
 * @typedef {{mode: "single"|"grid"|"empty", content: "document"|"screen"|"camera"|null,
 *   main: string[], pip: string|null, film: string[], audio: string[], highlight: string|null}} StageModel
 */

/**
 * @param {{layout: string, tiles: StageTile[], roles: Record<string, string>,
 *   speaking?: Iterable<string>, pinned?: string|null, documentShared?: boolean}} room
 * @returns {StageModel}
 */
export function stageModel(room) {
  const layout = STAGE_LAYOUTS.includes(room.layout) ? room.layout : "lecture";
  const speaking = new Set(room.speaking || []);
  const audio = room.tiles.filter((t) => t.kind === "audio").map((t) => t.key);
  const videos = room.tiles.filter((t) => t.kind !== "audio");
  const roleOf = (t) => room.roles[t.participantId] || "";
  const highlight = firstSpeaker(videos, speaking);

  const screens = videos.filter((t) => t.source === "screen");
  // Another's screen before your own preview: a host sharing while a presenter shares sees the
  // presenter's, like the class.
  const screen = screens.find((t) => !t.self) || screens[0] || null;
  const cameras = videos.filter((t) => t.source === "camera");
  const teacherCam = teacherCamera(cameras, roleOf, speaking);
  const pinned = room.pinned ? videos.find((t) => t.key === room.pinned) || null : null;

  /** @type {StageModel} */
  const out = { mode: "empty", content: null, main: [], pip: null, film: [], audio, highlight };

  if (layout === "discussion" && !pinned) {
    // An equal grid: content first (it is what is talked about), then every camera.
    const grid = [...(screen ? [screen] : []), ...cameras];
    out.main = grid.map((t) => t.key);
    out.film = videos.filter((t) => !grid.includes(t)).map((t) => t.key);
    out.content = room.documentShared ? "document" : screen ? "screen" : cameras.length ? "camera" : null;
    out.mode = grid.length || room.documentShared ? "grid" : "empty";
    return out;
  }

  let main = pinned;
  // Nobody teaching on camera: whoever else shows one (the speaker first) rather than nothing.
  const anyCam = cameras.find((t) => !t.self && speaking.has(t.participantId)) || cameras.find((t) => !t.self) || null;
  if (!main && !room.documentShared) main = screen || teacherCam || anyCam;
  if (room.documentShared && !pinned) out.content = "document";
  else if (main) out.content = main.source === "screen" ? "screen" : "camera";
  out.main = main ? [main.key] : [];
  out.mode = main || room.documentShared ? "single" : "empty";

  const contentShown = out.content === "document" || out.content === "screen";
  if ((layout === "lecture" || layout === "chat_focus") && contentShown && teacherCam && teacherCam !== main) {
    out.pip = teacherCam.key;
  }
  out.film = videos.filter((t) => t !== main && t.key !== out.pip).map((t) => t.key);
  return out;
}

function firstSpeaker(videos, speaking) {
  const cam = videos.find((t) => t.source === "camera" && speaking.has(t.participantId));
  return cam ? cam.key : null;
}

/** The teacher's camera: a speaking host or presenter first, then the host, then a presenter. */
function teacherCamera(cameras, roleOf, speaking) {
  const teaching = cameras.filter((t) => TEACHING_ROLES.includes(roleOf(t)));
  const rank = (t) => TEACHING_ROLES.indexOf(roleOf(t));
  const ordered = [...teaching].sort((a, b) => rank(a) - rank(b));
  return ordered.find((t) => speaking.has(t.participantId)) || ordered[0] || null;
}
