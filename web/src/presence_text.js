// What is true now about a pupil during a lesson, in words: "In the room since 10:03, joined
// late", "Left at 10:20", "Not here yet". The present/absent verdict is not said here: it is the
// proposal of End lesson, shown only when the lesson ends (a pupil who came at 10:03 is not
// "absent" at 10:05).
import { t } from "./i18n.js";

/**
 * row: a proposal entry ({in_room_now, since, left_at, late}); clock(seconds) → "10:03".
 * Returns {text, kind}: kind is "here", "left" or "none" (for styling).
 */
export function presenceText(row, clock) {
  const late = row.late ? t("presence.joined_late") : "";
  if (row.in_room_now) {
    const since = typeof row.since === "number" ? t("presence.here_since", { time: clock(row.since) }) : t("presence.here");
    return { text: late ? `${since}, ${late}` : since, kind: "here" };
  }
  if (typeof row.left_at === "number") {
    const left = t("presence.left_at", { time: clock(row.left_at) });
    return { text: late ? `${left} (${late})` : left, kind: "left" };
  }
  return { text: t("presence.not_yet"), kind: "none" };
}

/** Notes of End lesson's proposal: "late, left early" (empty when neither). */
export function proposalNotes(row) {
  const notes = [];
  if (row.late) notes.push(t("presence.late"));
  if (row.left_early) notes.push(t("presence.left_early"));
  return notes.join(", ");
}
