// The lesson page's attendance: the proposal from the room, refreshed live while the lesson is
// open (rows updated in place, so corrections being typed and focus stay), the corrections sent
// with "End lesson", and the journal's records once the outbox delivered them.
import { journalApi } from "./journal_api.js";
import { t } from "./i18n.js";
import { byId, h, showError } from "./dom.js";
import { every, formatTime, statusText } from "./journal_common.js";
import { presenceText } from "./presence_text.js";
import { data, lessonId } from "./journal_lesson_state.js";

const LIVE_REFRESH_MS = 4000;
const RECORDS_REFRESH_MS = 1000;
const RECORDS_TRIES = 30;

/** The teacher's corrections typed before "End lesson", by pupil id. */
const corrections = new Map();
/** @type {(() => void)|null} */
let stopLive = null;

export function correctionList() {
  const list = [];
  for (const [pupilId, c] of corrections) {
    const comment = c.comment.trim();
    if (!c.status && !comment) continue;
    list.push({
      pupil_id: pupilId,
      ...(c.status ? { status: c.status } : {}),
      ...(comment ? { comment } : {}),
    });
  }
  return list;
}

function correctionOf(pupilId) {
  if (!corrections.has(pupilId)) corrections.set(pupilId, { status: "", comment: "" });
  return corrections.get(pupilId);
}

/** The editable cells of a row while the room is open: a status correction and a comment. */
function correctionCells(pupilId, name) {
  const c = correctionOf(pupilId);
  const select = /** @type {HTMLSelectElement} */ (
    h(
      "select",
      { "aria-label": t("journal.correction_of", { name }), "data-field": "correction" },
      h("option", { value: "", text: t("journal.as_proposed") }),
      h("option", { value: "present", text: t("journal.status_present") }),
      h("option", { value: "absent", text: t("journal.status_absent") }),
    )
  );
  select.value = c.status;
  select.addEventListener("change", () => {
    c.status = select.value;
  });
  const input = /** @type {HTMLInputElement} */ (
    h("input", {
      maxlength: "500",
      autocomplete: "off",
      "aria-label": t("journal.attendance_comment_of", { name }),
      "data-field": "correction-comment",
      value: c.comment,
    })
  );
  input.addEventListener("input", () => {
    c.comment = input.value;
  });
  return [h("td", { class: "when-open" }, select), h("td", {}, input)];
}

/** One row per pupil; while open, rows are updated in place so typed corrections and focus stay. */
function attendanceRow(record, open) {
  const key = String(record.pupil_id);
  let row = /** @type {HTMLTableRowElement|null} */ (
    byId("attendance").querySelector(`tr[data-pupil="${CSS.escape(key)}"]`)
  );
  if (!row || row.dataset.open !== String(open)) {
    const cells = open
      ? correctionCells(record.pupil_id, record.name)
      : [h("td", { "data-field": "comment-text" })];
    row = /** @type {HTMLTableRowElement} */ (
      h(
        "tr",
        { "data-pupil": key, "data-open": String(open) },
        h("th", { scope: "row", "data-field": "name" }),
        h("td", { "data-field": "status" }),
        h("td", { "data-field": "minutes" }),
        ...cells,
      )
    );
  }
  const set = (field, text) => {
    const cell = row.querySelector(`[data-field="${field}"]`);
    if (cell && cell.textContent !== text) cell.textContent = text;
  };
  set("name", record.name);
  // While the lesson runs: what is true now. The verdict (present/absent) is End lesson's.
  const presence = open ? presenceText(record, formatTime) : null;
  set("status", presence ? presence.text : statusText(record));
  const cell = row.querySelector('[data-field="status"]');
  if (cell) cell.className = presence ? `presence presence-${presence.kind}` : "";
  set("minutes", t("journal.minutes", { minutes: record.attended_min ?? 0 }));
  if (open) {
    const select = row.querySelector("select");
    const options = select ? select.options : [];
    const labels = ["journal.as_proposed", "journal.status_present", "journal.status_absent"];
    labels.forEach((key2, i) => {
      if (options[i]) options[i].textContent = t(key2);
    });
  } else {
    set("comment-text", record.comment || "");
  }
  row.classList.toggle("absent", !open && record.status === "absent");
  return row;
}

export function renderAttendance() {
  const state = data.lesson.state;
  const open = state === "open";
  const records = open ? data.proposal || [] : state === "closed" ? data.attendance : [];
  const table = byId("attendance-table");
  table.hidden = records.length === 0;
  table.classList.toggle("is-open", open);
  for (const th of table.querySelectorAll("thead .when-open")) {
    /** @type {HTMLElement} */ (th).hidden = !open;
  }
  byId("col-status").textContent = t(open ? "journal.col_presence" : "journal.col_status");
  byId("attendance-caption").textContent = t(
    open ? "journal.attendance_caption_live" : "journal.attendance_caption_final",
  );
  const body = byId("attendance");
  const rows = records.map((record) => attendanceRow(record, open));
  // Appending an existing row moves it: the order follows the records without rebuilding rows.
  rows.forEach((row, i) => {
    if (body.children[i] !== row) body.insertBefore(row, body.children[i] || null);
  });
  while (body.children.length > rows.length) body.lastElementChild.remove();

  let note = "";
  if (state === "scheduled") note = t("journal.attendance_scheduled");
  else if (open) note = t("journal.attendance_live");
  else if (records.length < data.pupils.length) note = t("journal.attendance_writing");
  else note = t("journal.attendance_final");
  byId("attendance-note").textContent = note;

  const missing = open && data.proposal ? data.proposal.filter((p) => !p.in_room_now) : [];
  const missingText = !open
    ? ""
    : missing.length
      ? t("journal.missing_now", { names: missing.map((p) => p.name).join(", ") })
      : t("journal.missing_none");
  const region = byId("missing");
  if (region.textContent !== missingText) region.textContent = missingText;
}

async function refreshProposal() {
  try {
    data.proposal = await journalApi.proposal(lessonId);
  } catch (e) {
    showError(e);
    data.proposal = data.proposal || [];
  }
  if (data.lesson.state === "open") renderAttendance();
}

export function startLive() {
  if (stopLive) return;
  refreshProposal();
  stopLive = every(LIVE_REFRESH_MS, refreshProposal);
}

export function stopLiveRefresh() {
  if (stopLive) stopLive();
  stopLive = null;
}

/** After "End lesson" the records reach the journal through the outbox within moments. */
export async function awaitRecords() {
  for (let i = 0; i < RECORDS_TRIES && data.attendance.length < data.pupils.length; i += 1) {
    await new Promise((resolve) => window.setTimeout(resolve, RECORDS_REFRESH_MS));
    // Only the attendance is redrawn: marks being typed meanwhile stay as they are.
    const answer = await journalApi.lesson(lessonId);
    data.attendance = Array.isArray(answer.attendance) ? answer.attendance : [];
    renderAttendance();
  }
}

/** End lesson's proposal, as the confirmation lists it: "Name: absent, late, left early". */
export function renderEndProposal() {
  const list = byId("end-proposal");
  const rows = data.proposal || [];
  list.replaceChildren(
    ...rows.map((row) => {
      const c = corrections.get(row.pupil_id);
      const status = c && c.status ? { ...row, status: c.status } : row;
      return h("li", { text: t("journal.end_proposal_row", { name: row.name, status: statusText(status) }) });
    }),
  );
  list.hidden = rows.length === 0;
}

/** The proposal now (before End lesson's confirmation shows it). */
export async function refreshNow() {
  await refreshProposal();
}

export function clearCorrections() {
  corrections.clear();
}
