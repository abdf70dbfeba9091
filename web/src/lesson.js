// /journal/lessons/{id}: one lesson of the teacher's journal — its facts, the topic, "Start lesson"
// (confirmed in a dialog; the room opens and its invite link appears), the attendance (proposed
// live while the room is open, corrected at "End lesson", the journal's records afterwards),
// marks with comments next to each pupil, and assignments.
import { journalApi } from "./journal_api.js";
import { onLanguageChange, t } from "./i18n.js";
import {
  announce,
  busy,
  byId,
  clearError,
  copyText,
  fieldValue,
  focusOn,
  h,
  showError,
  showErrorText,
} from "./dom.js";
import {
  bootPage,
  every,
  formatDay,
  formatLocalDay,
  parseDate,
  periodText,
  statusText,
  timeRange,
} from "./journal_common.js";
import { wireDialog } from "./journal_dialog.js";

const LIVE_REFRESH_MS = 4000;
const RECORDS_REFRESH_MS = 1000;
const RECORDS_TRIES = 30;

const lessonId = (/^\/journal\/lessons\/(\d+)\/?$/.exec(window.location.pathname) || [])[1];

/** The page's data, as GET /api/lessons/{id} answers it (plus the live proposal). */
const data = {
  /** @type {any} */ lesson: null,
  /** @type {object[]} final attendance records */ attendance: [],
  /** @type {Map<number, object>} */ marks: new Map(),
  /** @type {object[]} */ assignments: [],
  /** @type {{id: number, name: string}[]} */ pupils: [],
  /** @type {object[]} */ plan: [],
  /** @type {object[]|null} the live proposal while the room is open */ proposal: null,
  scale: { min: 1, max: 5 },
};
/** The teacher's corrections typed before "End lesson", by pupil id. */
const corrections = new Map();
/** @type {(() => void)|null} */
let stopLive = null;

function pupilName(id) {
  const pupil = data.pupils.find((p) => p.id === id);
  return pupil ? pupil.name : String(id);
}

function inviteUrl() {
  const roomId = data.lesson && data.lesson.room_id;
  return roomId ? `${window.location.origin}/r/${encodeURIComponent(roomId)}` : "";
}

/** The school's mark scale, wherever the server puts it (default 1–5). */
function readScale(answer) {
  const source = answer.scale || answer.school || answer;
  const min = Number(source.mark_min ?? source.min);
  const max = Number(source.mark_max ?? source.max);
  return Number.isInteger(min) && Number.isInteger(max) && min <= max ? { min, max } : data.scale;
}

// ---- facts and topic ----

function renderInfo() {
  const lesson = data.lesson;
  const title = t("journal.lesson_heading", { subject: lesson.subject, class: lesson.class_name });
  byId("lesson-title").textContent = title;
  document.title = `${title} · Sabaq`;
  byId("info-class").textContent = lesson.class_name;
  byId("info-subject").textContent = lesson.subject;
  byId("info-day").textContent = formatLocalDay(lesson.starts_at);
  byId("info-time").textContent = timeRange(lesson.starts_at, lesson.ends_at);
  const week = lesson.week ? t("journal.week_short", { week: lesson.week }) : "";
  byId("info-period").textContent = [periodText(lesson.period), week].filter(Boolean).join(" · ");
  byId("info-state").textContent = t(`journal.state_${lesson.state}`);
  const back = byId("back");
  back.setAttribute("href", lesson.week ? `/journal?week=${encodeURIComponent(lesson.week)}` : "/journal");
  byId("topic-current").textContent = lesson.topic || t("journal.topic_none");
}

function renderTopic() {
  const select = /** @type {HTMLSelectElement} */ (byId("topic-plan"));
  const topics = [...data.plan].sort((a, b) => a.position - b.position);
  select.replaceChildren(
    h("option", { value: "", text: t("journal.topic_plan_none") }),
    ...topics.map((topic) =>
      h("option", {
        value: String(topic.id),
        text: t("journal.plan_topic", {
          position: topic.position,
          title: topic.title,
          hours: topic.hours,
        }),
      }),
    ),
  );
  byId("topic-plan-field").hidden = topics.length === 0;
  const chosen = data.lesson.topic_id ? String(data.lesson.topic_id) : "";
  select.value = [...select.options].some((o) => o.value === chosen) ? chosen : "";
  const typed = /** @type {HTMLInputElement} */ (byId("topic-text"));
  typed.value = select.value ? "" : data.lesson.topic || "";
}

function wireTopic() {
  const form = /** @type {HTMLFormElement} */ (byId("topic-form"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearError();
    const topicId = fieldValue(form, "topic_id");
    const typed = fieldValue(form, "topic");
    if (!topicId && !typed) {
      showErrorText(t("journal.topic_required"));
      focusOn(byId("topic-text"));
      return;
    }
    await busy(form, async () => {
      try {
        const body = topicId ? { topic_id: Number(topicId) } : { topic: typed };
        data.lesson = { ...data.lesson, ...(await journalApi.setTopic(lessonId, body)) };
        renderInfo();
        renderTopic();
        announce(t("journal.topic_saved", { topic: data.lesson.topic || "" }));
      } catch (e) {
        showError(e);
      }
    });
  });
  // Choosing a plan topic and typing one exclude each other.
  byId("topic-plan").addEventListener("change", (event) => {
    if (/** @type {HTMLSelectElement} */ (event.target).value) {
      /** @type {HTMLInputElement} */ (byId("topic-text")).value = "";
    }
  });
  byId("topic-text").addEventListener("input", () => {
    /** @type {HTMLSelectElement} */ (byId("topic-plan")).value = "";
  });
}

// ---- the room: start, invite link ----

function renderRoom() {
  const state = data.lesson.state;
  byId("room-scheduled").hidden = state !== "scheduled";
  byId("start").hidden = state !== "scheduled";
  byId("room-open").hidden = state !== "open";
  byId("room-closed").hidden = state !== "closed";
  const url = inviteUrl();
  /** @type {HTMLInputElement} */ (byId("invite-link")).value = url;
  byId("open-room").setAttribute("href", url || "#");
  byId("end").hidden = state !== "open";
}

function openRoom(url) {
  // Opened straight from the confirmation (still a user gesture); when a pop-up blocker
  // refuses, the link on the page does the same.
  const tab = window.open(url, "_blank");
  if (tab) tab.opener = null;
  return !!tab;
}

async function startLesson() {
  clearError();
  try {
    const answer = await journalApi.start(lessonId);
    data.lesson = { ...data.lesson, ...answer.lesson };
    renderAll();
    const opened = openRoom(answer.invite_url || inviteUrl());
    announce(t(opened ? "journal.started" : "journal.started_link"));
    focusOn(byId("invite-link"));
    startLive();
  } catch (e) {
    showError(e);
    focusOn(byId("start"));
  }
}

function wireRoom() {
  const startDialog = wireDialog("start-dialog", "start", (choice) => {
    if (choice === "start") startLesson();
  });
  byId("start").addEventListener("click", () => {
    byId("start-dialog-text").textContent = t("journal.start_confirm_text", {
      subject: data.lesson.subject,
      class: data.lesson.class_name,
    });
    startDialog.open("start-confirm");
  });
  byId("copy-invite").addEventListener("click", async () => {
    const input = /** @type {HTMLInputElement} */ (byId("invite-link"));
    const ok = await copyText(input.value, input);
    announce(ok ? t("home.copied") : t("home.copy_failed"));
  });
  const endDialog = wireDialog("end-dialog", "end", (choice) => {
    if (choice === "end") endLesson();
  });
  byId("end").addEventListener("click", () => {
    byId("end-dialog-text").textContent = t("journal.end_confirm_text", {
      corrections: correctionList().length,
    });
    endDialog.open("end-cancel");
  });
}

// ---- attendance ----

function correctionList() {
  const list = [];
  for (const [pupilId, c] of corrections) {
    const comment = c.comment.trim();
    if (!c.status && !comment) continue;
    list.push({ pupil_id: pupilId, ...(c.status ? { status: c.status } : {}), ...(comment ? { comment } : {}) });
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
      { "aria-label": t("journal.correction_of", { name }), "data-field": "status" },
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
      "data-field": "comment",
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
        open ? h("td", { "data-field": "now" }) : null,
        ...cells,
      )
    );
  }
  const set = (field, text) => {
    const cell = row.querySelector(`[data-field="${field}"]`);
    if (cell && cell.textContent !== text) cell.textContent = text;
  };
  set("name", record.name);
  set("status", statusText(record));
  set("minutes", t("journal.minutes", { minutes: record.attended_min ?? 0 }));
  if (open) {
    set("now", t(record.in_room_now ? "journal.in_room_yes" : "journal.in_room_no"));
    const select = row.querySelector("select");
    const options = select ? select.options : [];
    const labels = ["journal.as_proposed", "journal.status_present", "journal.status_absent"];
    labels.forEach((key2, i) => {
      if (options[i]) options[i].textContent = t(key2);
    });
  } else {
    set("comment-text", record.comment || "");
  }
  row.classList.toggle("absent", record.status === "absent");
  return row;
}

function renderAttendance() {
  const state = data.lesson.state;
  const open = state === "open";
  const records = open ? data.proposal || [] : state === "closed" ? data.attendance : [];
  const table = byId("attendance-table");
  table.hidden = records.length === 0;
  table.classList.toggle("is-open", open);
  for (const th of table.querySelectorAll("thead .when-open, #col-now")) {
    /** @type {HTMLElement} */ (th).hidden = !open;
  }
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
    // Before the scheduled start there is nothing to propose yet: not an error worth a banner.
    if (!(e && e.code === "invalid_state")) showError(e);
    data.proposal = data.proposal || [];
  }
  if (data.lesson.state === "open") renderAttendance();
}

function startLive() {
  if (stopLive) return;
  refreshProposal();
  stopLive = every(LIVE_REFRESH_MS, refreshProposal);
}

function stopLiveRefresh() {
  if (stopLive) stopLive();
  stopLive = null;
}

/** After "End lesson" the records reach the journal through the outbox within moments. */
async function awaitRecords() {
  for (let i = 0; i < RECORDS_TRIES && data.attendance.length < data.pupils.length; i += 1) {
    await new Promise((resolve) => window.setTimeout(resolve, RECORDS_REFRESH_MS));
    // Only the attendance is redrawn: marks being typed meanwhile stay as they are.
    const answer = await journalApi.lesson(lessonId);
    data.attendance = Array.isArray(answer.attendance) ? answer.attendance : [];
    renderAttendance();
  }
}

async function endLesson() {
  clearError();
  const button = /** @type {HTMLButtonElement} */ (byId("end"));
  button.disabled = true;
  try {
    await journalApi.end(lessonId, correctionList());
    stopLiveRefresh();
    corrections.clear();
    await load();
    announce(t("journal.ended"));
    focusOn(byId("attendance-title"));
    await awaitRecords();
  } catch (e) {
    showError(e);
    focusOn(button);
  } finally {
    button.disabled = false;
  }
}

// ---- marks ----

function markRow(pupil) {
  const mark = data.marks.get(pupil.id) || null;
  const name = pupil.name;
  const select = /** @type {HTMLSelectElement} */ (
    h("select", { "aria-label": t("journal.mark_of", { name }), "data-action": "value" })
  );
  select.append(h("option", { value: "", text: t("journal.mark_none") }));
  for (let v = data.scale.min; v <= data.scale.max; v += 1) {
    select.append(h("option", { value: String(v), text: String(v) }));
  }
  select.value = mark ? String(mark.value) : "";
  const comment = /** @type {HTMLInputElement} */ (
    h("input", {
      maxlength: "500",
      autocomplete: "off",
      "aria-label": t("journal.mark_comment_of", { name }),
      "data-action": "comment",
      value: mark && mark.comment ? mark.comment : "",
    })
  );
  const save = h("button", {
    type: "button",
    class: "small",
    "data-action": "save",
    text: t("journal.mark_save"),
    "aria-label": t("journal.mark_save_of", { name }),
  });
  save.addEventListener("click", () => saveMark(pupil, select, comment, save));
  const remove = mark
    ? h("button", {
        type: "button",
        class: "small danger",
        "data-action": "remove",
        text: t("journal.mark_remove"),
        "aria-label": t("journal.mark_remove_of", { name }),
      })
    : null;
  if (remove) remove.addEventListener("click", () => removeMark(pupil, remove));
  const shown = mark
    ? h("span", { class: "mark-value", text: t("journal.mark_given", { value: mark.value }) })
    : null;
  return h(
    "tr",
    { "data-pupil": String(pupil.id) },
    h("th", { scope: "row" }, name, shown ? " " : null, shown),
    h("td", {}, select),
    h("td", {}, comment),
    h("td", {}, h("div", { class: "actions" }, save, remove)),
  );
}

function renderMarks() {
  byId("marks-scale").textContent = t("journal.marks_scale", data.scale);
  byId("marks-caption").textContent = t("journal.marks_caption");
  byId("marks").replaceChildren(...data.pupils.map(markRow));
}

/** Re-renders one pupil's row and gives focus back to the same control in it. */
function rerenderMarkRow(pupil, action) {
  const old = byId("marks").querySelector(`tr[data-pupil="${CSS.escape(String(pupil.id))}"]`);
  const row = markRow(pupil);
  if (old) old.replaceWith(row);
  const target = row.querySelector(`[data-action="${action}"]`) || row.querySelector("button");
  focusOn(/** @type {HTMLElement} */ (target));
}

async function saveMark(pupil, select, comment, button) {
  clearError();
  if (!select.value) {
    showErrorText(t("journal.mark_required", { name: pupil.name }));
    focusOn(select);
    return;
  }
  button.disabled = true;
  try {
    const mark = await journalApi.setMark(lessonId, pupil.id, Number(select.value), comment.value.trim());
    data.marks.set(pupil.id, mark);
    rerenderMarkRow(pupil, "save");
    announce(t("journal.mark_saved", { name: pupil.name, value: mark.value }));
  } catch (e) {
    showError(e);
  } finally {
    button.disabled = false;
  }
}

async function removeMark(pupil, button) {
  clearError();
  button.disabled = true;
  try {
    await journalApi.deleteMark(lessonId, pupil.id);
    data.marks.delete(pupil.id);
    rerenderMarkRow(pupil, "value");
    announce(t("journal.mark_removed", { name: pupil.name }));
  } catch (e) {
    showError(e);
    button.disabled = false;
  }
}

// ---- assignments ----

function assignmentSummary(a) {
  const parts = [t(`journal.kind_${a.kind}`), t(`journal.difficulty_${a.difficulty}`)];
  const due = parseDate(a.due_on);
  if (due) parts.push(t("journal.due", { date: formatDay(due) }));
  parts.push(
    a.pupil_ids && a.pupil_ids.length
      ? t("journal.for_pupils", { names: a.pupil_ids.map(pupilName).join(", ") })
      : t("journal.for_class"),
  );
  return parts.join(" · ");
}

function assignmentItem(a) {
  const snippet = a.text.length > 40 ? `${a.text.slice(0, 40)}…` : a.text;
  const remove = h("button", {
    type: "button",
    class: "small danger",
    "data-action": "delete",
    text: t("journal.assignment_delete"),
    "aria-label": t("journal.assignment_delete_of", { kind: t(`journal.kind_${a.kind}`), text: snippet }),
  });
  remove.addEventListener("click", () => deleteAssignment(a, remove));
  return h(
    "li",
    { class: "assignment", "data-key": String(a.id) },
    h(
      "div",
      { class: "assignment-body" },
      h("div", { class: "muted", text: assignmentSummary(a) }),
      h("p", { class: "assignment-text", text: a.text }),
    ),
    remove,
  );
}

function renderAssignments() {
  byId("assignments").replaceChildren(...data.assignments.map(assignmentItem));
  byId("assignments-empty").hidden = data.assignments.length > 0;
  const box = byId("assignment-pupils");
  const checked = new Set(
    [...box.querySelectorAll("input:checked")].map((el) => /** @type {HTMLInputElement} */ (el).value),
  );
  box.replaceChildren(
    ...data.pupils.map((p) =>
      h(
        "label",
        { class: "choice" },
        h("input", { type: "checkbox", name: "pupil", value: String(p.id), checked: checked.has(String(p.id)) }),
        " ",
        h("span", { text: p.name }),
      ),
    ),
  );
}

async function deleteAssignment(a, button) {
  clearError();
  button.disabled = true;
  try {
    await journalApi.deleteAssignment(lessonId, a.id);
    const index = data.assignments.indexOf(a);
    data.assignments = data.assignments.filter((x) => x !== a);
    renderAssignments();
    announce(t("journal.assignment_deleted"));
    const items = byId("assignments").querySelectorAll("li button");
    focusOn(
      /** @type {HTMLElement} */ (items[Math.min(index, items.length - 1)]) || byId("assignments-title"),
    );
  } catch (e) {
    showError(e);
    button.disabled = false;
  }
}

function wireAssignments() {
  const form = /** @type {HTMLFormElement} */ (byId("assignment-form"));
  const chosenBox = byId("assignment-pupils");
  for (const radio of form.querySelectorAll('input[name="for"]')) {
    radio.addEventListener("change", () => {
      chosenBox.hidden = form.querySelector('input[name="for"]:checked').value !== "chosen";
    });
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearError();
    const text = /** @type {HTMLTextAreaElement} */ (byId("assignment-text")).value.trim();
    if (!text) {
      showErrorText(t("journal.assignment_text_required"));
      focusOn(byId("assignment-text"));
      return;
    }
    const forChosen = form.querySelector('input[name="for"]:checked').value === "chosen";
    const pupilIds = [...chosenBox.querySelectorAll("input:checked")].map((el) =>
      Number(/** @type {HTMLInputElement} */ (el).value),
    );
    if (forChosen && pupilIds.length === 0) {
      showErrorText(t("journal.assignment_pupils_required"));
      focusOn(/** @type {HTMLElement} */ (chosenBox.querySelector("input")));
      return;
    }
    const body = {
      kind: fieldValue(form, "kind"),
      difficulty: fieldValue(form, "difficulty"),
      text,
      due_on: fieldValue(form, "due_on") || null,
      pupil_ids: forChosen ? pupilIds : null,
    };
    await busy(form, async () => {
      try {
        const assignment = await journalApi.addAssignment(lessonId, body);
        data.assignments = [...data.assignments, assignment];
        form.reset();
        chosenBox.hidden = true;
        renderAssignments();
        announce(t("journal.assignment_added"));
        focusOn(byId("assignment-text"));
      } catch (e) {
        showError(e);
      }
    });
  });
}

// ---- loading ----

function renderAll() {
  renderInfo();
  renderTopic();
  renderRoom();
  renderAttendance();
  renderMarks();
  renderAssignments();
}

async function load() {
  const answer = await journalApi.lesson(lessonId);
  data.lesson = answer.lesson;
  data.attendance = Array.isArray(answer.attendance) ? answer.attendance : [];
  data.marks = new Map((answer.marks || []).map((m) => [m.pupil_id, m]));
  data.assignments = answer.assignments || [];
  data.pupils = answer.pupils || data.attendance.map((r) => ({ id: r.pupil_id, name: r.name }));
  data.plan = answer.plan || [];
  data.scale = readScale(answer);
  renderAll();
}

async function main() {
  const user = await bootPage("teacher");
  if (!user) return;
  if (!lessonId) {
    showError({ code: "unknown_lesson" });
    byId("content").hidden = true;
    return;
  }
  wireTopic();
  wireRoom();
  wireAssignments();
  onLanguageChange(() => {
    if (data.lesson) renderAll();
  });
  try {
    await load();
  } catch (e) {
    showError(e);
    byId("content").hidden = true;
    return;
  }
  if (data.lesson.state === "open") startLive();
  if (data.lesson.state === "closed") await awaitRecords();
}

main().catch((e) => {
  console.error(e); // eslint-disable-line no-console
});
