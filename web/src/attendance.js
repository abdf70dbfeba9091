// The lesson teacher's attendance panel in the room: the bridge's live proposal (refreshed every
// 15 s and when someone joins or leaves), who of the class is missing right now, a "Mark" button
// next to each present pupil, and "End lesson" with a confirmation where statuses can be
// corrected. Shown only in a lesson's room, to its teacher (the room's host).
import { journalApi } from "./journal_api.js";
import { errorText, has, onLanguageChange, t } from "./i18n.js";
import { formatTime, useSchoolZone } from "./journal_common.js";
import { api } from "./api.js";
import { announce, byId, clearError, focusOn, h, showError } from "./dom.js";
import { button, isHost, onPeopleChange, state } from "./shared.js";
import { presenceText, proposalNotes } from "./presence_text.js";

const REFRESH_MS = 15000;
// Joins and leaves come in bursts (a class entering together): one refresh for the burst.
const SETTLE_MS = 500;

const panel = {
  /** @type {number|null} the lesson shown (null: not a lesson room, or not its teacher) */
  lessonId: null,
  /** @type {object[]} the latest proposal */ rows: [],
  /** @type {Map<number, object>} marks by pupil id */ marks: new Map(),
  /** @type {{min: number, max: number}|null} the school's mark scale, when the server gives it */
  scale: null,
  /** @type {string|null} a sentence instead of the table (e.g. the lesson has not started) */
  note: null,
  ended: false,
  /** @type {number|null} whose mark the form is for */ marking: null,
  refused: false,
  /** @type {number|null} */ timer: null,
  /** @type {number|null} */ settle: null,
  /** @type {Promise<void>|null} the refresh on its way */ pending: null,
  // Asked for while an answer was on its way: that answer may predate a join, so ask again.
  again: false,
  peopleKey: "",
};

/** The room's lesson, when the signed-in teacher hosts it. */
function wantedLesson() {
  const lesson = state.room && state.room.lesson_id;
  const teacher = !!state.user && state.user.kind === "teacher";
  return lesson && teacher && isHost() && !panel.refused ? Number(lesson) : null;
}

function errorSentence(err) {
  const code = err && err.code;
  // Without the scale, the server's own sentence says what the range is.
  if (code === "out_of_range" && !panel.scale) return (err && err.message) || errorText(err);
  const key = `attendance.error_${code}`;
  if (!has(key)) return errorText(err);
  return panel.scale ? t(key, { min: panel.scale.min, max: panel.scale.max }) : t(key);
}

// ---------------------------------------------------------------- loading

async function loadLesson(lessonId) {
  // Existing marks and (if the server says) the school's scale; the proposal works without them.
  try {
    // Times as the journal shows them: on the school's clock, whatever the browser's zone.
    useSchoolZone((await api.school()).timezone);
  } catch {
    // The browser's own clock then.
  }
  try {
    const data = await journalApi.lesson(lessonId);
    panel.marks = new Map((data.marks || []).map((m) => [m.pupil_id, m]));
    const scale = [data, data.mark_scale, data.school, data.lesson].find(
      (o) => o && typeof o.mark_min === "number" && typeof o.mark_max === "number",
    ) || {};
    panel.scale =
      typeof scale.mark_min === "number" && typeof scale.mark_max === "number"
        ? { min: scale.mark_min, max: scale.mark_max }
        : null;
    panel.ended = !!data.lesson && data.lesson.state === "closed";
  } catch (e) {
    if (e && e.code === "not_permitted") throw e;
  }
}

/** Asks for the proposal. Asked again while an answer is on its way, it waits for that one and
 * one more (that answer may predate a join or leave); resolves once the newest is shown. */
function refresh() {
  const lessonId = panel.lessonId;
  if (lessonId === null) return Promise.resolve();
  if (panel.pending) {
    panel.again = true;
    return panel.pending;
  }
  panel.pending = load(lessonId).finally(() => {
    panel.pending = null;
    // Asked for while a lesson that is no longer shown was loading: ask for the shown one.
    if (panel.again && panel.lessonId !== null && panel.lessonId !== lessonId) refresh();
  });
  return panel.pending;
}

async function load(lessonId) {
  do {
    panel.again = false;
    if (wantedLesson() !== lessonId) {
      stop(); // left the room (the "ended" screen re-renders no participant list)
      return;
    }
    try {
      panel.rows = await journalApi.proposal(lessonId);
      panel.note = null;
    } catch (e) {
      if (e && e.code === "not_permitted") {
        stop(true);
        return;
      }
      // Said in the panel (e.g. the server briefly away), and asked again at the next refresh.
      panel.note = errorSentence(e);
    }
    if (panel.lessonId !== lessonId) return;
    render();
  } while (panel.again);
}

function start(lessonId) {
  panel.lessonId = lessonId;
  panel.rows = [];
  panel.note = null;
  panel.peopleKey = peopleKey();
  byId("attendance-panel").hidden = false;
  render();
  loadLesson(lessonId)
    .then(() => {
      if (panel.lessonId !== lessonId) return;
      if (!panel.ended) panel.timer = window.setInterval(refresh, REFRESH_MS);
      return refresh();
    })
    .catch(() => stop(true));
}

/** Stops the panel; `refused` (another teacher's lesson) keeps it away for this page. */
function stop(refused = false) {
  if (panel.timer !== null) window.clearInterval(panel.timer);
  if (panel.settle !== null) window.clearTimeout(panel.settle);
  panel.timer = panel.settle = null;
  panel.lessonId = null;
  panel.again = false;
  panel.marking = null;
  panel.refused = panel.refused || refused;
  byId("attendance-panel").hidden = true;
}

function peopleKey() {
  return [...state.participants.keys()].sort().join(",");
}

/** Follows the room: start when the teacher is in their lesson's room, refresh on joins/leaves. */
function sync() {
  const wanted = wantedLesson();
  if (wanted === null) {
    if (panel.lessonId !== null) stop();
    return;
  }
  if (panel.lessonId !== wanted) {
    start(wanted);
    return;
  }
  const key = peopleKey();
  if (key !== panel.peopleKey && !panel.ended) {
    panel.peopleKey = key;
    if (panel.settle !== null) window.clearTimeout(panel.settle);
    panel.settle = window.setTimeout(() => {
      panel.settle = null;
      refresh();
    }, SETTLE_MS);
  }
}

// ---------------------------------------------------------------- rendering

/** The school's clock time of Unix seconds ("10:03"), as the journal pages show it. */
function clock(seconds) {
  return formatTime(seconds);
}

/** What is true now (in since, left at, not here yet): never a verdict while the lesson runs. */
function presenceCell(row) {
  const { text, kind } = presenceText(row, clock);
  return h("td", {}, h("span", { class: `presence presence-${kind}`, text }));
}

function notesText(row) {
  const notes = [];
  if (row.network_lost_min > 0) {
    notes.push(t("attendance.network_lost", { minutes: row.network_lost_min }));
  }
  return notes.join(", ");
}

/** Marks go to pupils who are here or counted present (the journal refuses absent ones). */
function markable(row) {
  return row.in_room_now || row.status === "present";
}

function markCell(row) {
  const mark = panel.marks.get(row.pupil_id);
  const cell = h("td", { class: "mark-cell" });
  if (mark) {
    cell.append(h("strong", { class: "mark-value", text: String(mark.value) }));
    if (mark.comment) cell.append(" ", h("span", { class: "muted", text: mark.comment }));
  }
  if (markable(row) && !(panel.ended && row.status !== "present")) {
    cell.append(
      " ",
      button(
        t(mark ? "attendance.mark_change" : "attendance.mark"),
        "mark",
        () => openMark(row.pupil_id),
        { label: t("attendance.mark_label", { name: row.name }) },
      ),
    );
  }
  return cell;
}

function render() {
  const rows = panel.rows;
  const inRoom = rows.filter((r) => r.in_room_now);
  const missing = rows.filter((r) => !r.in_room_now);
  const summary = byId("attendance-summary");
  const summaryText = rows.length
    ? t("attendance.summary", { here: inRoom.length, total: rows.length })
    : "";
  if (summary.textContent !== summaryText) summary.textContent = summaryText;
  byId("attendance-missing").textContent = !rows.length
    ? ""
    : missing.length
      ? t("attendance.missing", { names: missing.map((r) => r.name).join(", ") })
      : t("attendance.none_missing");
  const note = byId("attendance-note");
  const noteText = panel.ended ? t("attendance.ended_note") : panel.note || "";
  note.textContent = noteText;
  note.hidden = !noteText;

  const focused = document.activeElement;
  const focusedPupil =
    focused instanceof HTMLElement && focused.closest("#attendance-rows")
      ? focused.closest("tr")?.dataset.pupil
      : null;
  byId("attendance-rows").replaceChildren(
    ...rows.map((row) =>
      h(
        "tr",
        { "data-pupil": String(row.pupil_id), class: row.in_room_now ? "in-room" : "not-in-room" },
        h("th", { scope: "row", text: row.name }),
        presenceCell(row),
        h("td", { text: String(row.attended_min) }),
        h("td", { text: notesText(row) }),
        markCell(row),
      ),
    ),
  );
  byId("attendance-table").hidden = rows.length === 0;
  byId("attendance-end").hidden = panel.ended;
  if (focusedPupil) {
    // A refresh replaced the row under the keyboard: give focus back to its button.
    const again = byId("attendance-rows").querySelector(`tr[data-pupil="${focusedPupil}"] button`);
    if (again instanceof HTMLElement) again.focus();
  }
}

// ---------------------------------------------------------------- marks

function rowOf(pupilId) {
  return panel.rows.find((r) => r.pupil_id === pupilId) || null;
}

function markButtonOf(pupilId) {
  return byId("attendance-rows").querySelector(`tr[data-pupil="${pupilId}"] button[data-action="mark"]`);
}

function openMark(pupilId) {
  const row = rowOf(pupilId);
  if (!row) return;
  clearError();
  panel.marking = pupilId;
  const mark = panel.marks.get(pupilId);
  const form = /** @type {HTMLFormElement} */ (byId("mark-form"));
  byId("mark-title").textContent = t("attendance.mark_for", { name: row.name });
  const value = /** @type {HTMLInputElement} */ (byId("mark-value"));
  value.value = mark ? String(mark.value) : "";
  if (panel.scale) {
    value.min = String(panel.scale.min);
    value.max = String(panel.scale.max);
  }
  byId("mark-scale").textContent = panel.scale
    ? t("attendance.mark_scale", { min: panel.scale.min, max: panel.scale.max })
    : "";
  /** @type {HTMLTextAreaElement} */ (byId("mark-comment")).value = mark && mark.comment ? mark.comment : "";
  setMarkError(null);
  form.hidden = false;
  focusOn(value);
}

function closeMark(focusBack) {
  const pupilId = panel.marking;
  panel.marking = null;
  byId("mark-form").hidden = true;
  if (focusBack && pupilId !== null) focusOn(markButtonOf(pupilId) || byId("attendance-title"));
}

function setMarkError(text) {
  const el = byId("mark-error");
  el.textContent = text || "";
  el.hidden = !text;
  if (text) byId("mark-value").setAttribute("aria-invalid", "true");
  else byId("mark-value").removeAttribute("aria-invalid");
}

async function saveMark(form) {
  const pupilId = panel.marking;
  const lessonId = panel.lessonId;
  if (pupilId === null || lessonId === null) return;
  const raw = String(/** @type {HTMLInputElement} */ (byId("mark-value")).value).trim();
  const comment = String(/** @type {HTMLTextAreaElement} */ (byId("mark-comment")).value).trim();
  if (!/^-?\d+$/.test(raw)) {
    setMarkError(t("attendance.mark_whole_number"));
    focusOn(byId("mark-value"));
    return;
  }
  setMarkError(null);
  const controls = [...form.querySelectorAll("button, input, textarea")];
  controls.forEach((c) => {
    c.disabled = true;
  });
  try {
    const mark = await journalApi.setMark(lessonId, pupilId, Number(raw), comment || null);
    panel.marks.set(pupilId, mark || { pupil_id: pupilId, value: Number(raw), comment });
    const row = rowOf(pupilId);
    render();
    closeMark(true);
    announce(t("attendance.mark_saved", { value: raw, name: row ? row.name : "" }));
  } catch (e) {
    setMarkError(errorSentence(e));
    focusOn(byId("mark-value"));
  } finally {
    controls.forEach((c) => {
      c.disabled = false;
    });
  }
}

// ---------------------------------------------------------------- end lesson

function endRow(row) {
  const notes = proposalNotes(row);
  const select = h(
    "select",
    { "aria-label": t("attendance.status_of", { name: row.name }), "data-pupil": row.pupil_id },
    h("option", { value: "present", text: t("attendance.status_present") }),
    h("option", { value: "absent", text: t("attendance.status_absent") }),
  );
  /** @type {HTMLSelectElement} */ (select).value = row.status;
  return h(
    "tr",
    { "data-pupil": String(row.pupil_id), "data-proposed": row.status },
    // The proposal's notes (late, left early) under the name: narrow screens keep three columns.
    h(
      "th",
      { scope: "row" },
      row.name,
      notes ? h("span", { class: "end-notes", "data-field": "notes", text: notes }) : null,
    ),
    h("td", {}, select),
    h(
      "td",
      {},
      h("input", {
        type: "text",
        maxlength: 500,
        class: "end-comment",
        "aria-label": t("attendance.comment_of", { name: row.name }),
      }),
    ),
  );
}

async function openEnd() {
  clearError();
  await refresh(); // confirm what is true now, not 15 s ago
  if (panel.lessonId === null) return;
  byId("end-rows").replaceChildren(...panel.rows.map(endRow));
  byId("end-error").hidden = true;
  const dialog = /** @type {HTMLDialogElement} */ (byId("end-dialog"));
  dialog.showModal();
  const first = dialog.querySelector("select") || byId("end-confirm");
  focusOn(first);
}

function corrections() {
  const out = [];
  for (const tr of byId("end-rows").querySelectorAll("tr")) {
    const status = /** @type {HTMLSelectElement} */ (tr.querySelector("select")).value;
    const comment = String(/** @type {HTMLInputElement} */ (tr.querySelector("input")).value).trim();
    const correction = { pupil_id: Number(tr.dataset.pupil) };
    if (status !== tr.dataset.proposed) correction.status = status;
    if (comment) correction.comment = comment;
    if (Object.keys(correction).length > 1) out.push(correction);
  }
  return out;
}

async function confirmEnd() {
  const lessonId = panel.lessonId;
  if (lessonId === null) return;
  const dialog = /** @type {HTMLDialogElement} */ (byId("end-dialog"));
  const confirm = /** @type {HTMLButtonElement} */ (byId("end-confirm"));
  confirm.disabled = true;
  const keepOpen = Number(/** @type {HTMLSelectElement} */ (byId("end-keep-open")).value) || 0;
  try {
    const answer = await journalApi.end(lessonId, corrections(), keepOpen);
    panel.ended = true;
    if (panel.timer !== null) window.clearInterval(panel.timer);
    panel.timer = null;
    dialog.close();
    // Closed now, the room has already sent everyone (us too) to the "lesson has ended" screen.
    if (state.ended || !keepOpen) return;
    await refresh();
    render();
    announce(t("attendance.ended", { count: answer.queued ?? panel.rows.length }));
    focusOn(byId("attendance-title"));
  } catch (e) {
    const el = byId("end-error");
    el.textContent = errorSentence(e);
    el.hidden = false;
  } finally {
    confirm.disabled = false;
  }
}

// ---------------------------------------------------------------- wiring

/** Wires the panel; it follows the room through the participant-list updates. */
export function setupAttendance() {
  const form = /** @type {HTMLFormElement} */ (byId("mark-form"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    saveMark(form);
  });
  byId("mark-cancel").addEventListener("click", () => closeMark(true));
  form.addEventListener("keydown", (event) => {
    if (event.key === "Escape") closeMark(true);
  });
  byId("attendance-end").addEventListener("click", () => {
    openEnd().catch((e) => showError(e));
  });
  byId("end-form").addEventListener("submit", (event) => {
    event.preventDefault();
    confirmEnd();
  });
  const dialog = /** @type {HTMLDialogElement} */ (byId("end-dialog"));
  byId("end-cancel").addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", () => {
    if (!panel.ended && !state.ended) focusOn(byId("attendance-end"));
  });
  onPeopleChange(sync);
  onLanguageChange(() => {
    if (panel.lessonId === null) return;
    render();
    const row = panel.marking !== null ? rowOf(panel.marking) : null;
    if (row) byId("mark-title").textContent = t("attendance.mark_for", { name: row.name });
  });
}
