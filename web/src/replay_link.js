// The lesson's journal page: a link to its recording when the lesson was recorded
// (docs/recordings.md). Asked of the recordings API, which checks who may watch.
import { http } from "./api.js";

/** Shows the "Watch the recording" card if the lesson has a recording; quiet otherwise. */
export async function showReplayLink(lessonId) {
  const section = document.getElementById("replay-section");
  const link = document.getElementById("lesson-replay");
  if (!section || !link || !lessonId) return;
  try {
    const { recordings } = await http("GET", `/api/lessons/${encodeURIComponent(lessonId)}/recordings`);
    const any = Array.isArray(recordings) && recordings.some((r) => r.tracks && r.tracks.length);
    link.setAttribute("href", `/replay/lessons/${encodeURIComponent(lessonId)}`);
    section.hidden = !any;
  } catch {
    section.hidden = true; // not recorded, or not this teacher's: nothing to offer
  }
}
