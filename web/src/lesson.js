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
  formatLocalDay,
  timeRange,
} from "./journal_common.js";
import { wireDialog } from "./journal_dialog.js";
import { data, lessonId, readScale } from "./journal_lesson_state.js";
import {
  awaitRecords,
  clearCorrections,
  correctionList,
  refreshNow,
  renderAttendance,
  renderEndProposal,
  startLive,
  stopLiveRefresh,
} from "./journal_attendance.js";
import { renderMarks } from "./journal_marks.js";
import { renderAssignments, wireAssignments } from "./journal_assignments.js";
import { renderLessonDocuments } from "./lesson_documents.js";
import { showReplayLink } from "./replay_link.js";
import { renderGuests } from "./journal_guests.js";
import { fillConnectionTable } from "./journal_connections.js";

const STATE_CHECK_MS = 15000;
/** @type {(() => void)|null} */
let stopStateCheck = null;

function inviteUrl() {
  if (data.lesson && data.lesson.invite_url) return data.lesson.invite_url;
  const roomId = data.lesson && data.lesson.room_id;
  return roomId ? `${window.location.origin}/r/${encodeURIComponent(roomId)}` : "";
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
  const period = lesson.period || t("journal.no_period");
  const week = lesson.week ? t("journal.week_short", { week: lesson.week }) : "";
  byId("info-period").textContent = [period, week].filter(Boolean).join(" · ");
  byId("info-state").textContent = t(`journal.state_${lesson.state}`);
  const back = byId("back");
  const query = lesson.week ? `?week=${encodeURIComponent(lesson.week)}` : "";
  back.setAttribute("href", `/journal${query}`);
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
    watchOpenLesson();
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
  byId("end").addEventListener("click", async () => {
    await refreshNow(); // confirm what End lesson would record now, not a few seconds ago
    byId("end-dialog-text").textContent = t("journal.end_confirm_text", {
      corrections: correctionList().length,
    });
    renderEndProposal();
    endDialog.open("end-cancel");
  });
}

/**
 * While the lesson is open: the live proposal, and now and then its state, since the lesson may
 * end elsewhere (End lesson in the room, or the finaliser after the scheduled end).
 */
function watchOpenLesson() {
  startLive();
  if (stopStateCheck) return;
  stopStateCheck = every(STATE_CHECK_MS, async () => {
    let answer;
    try {
      answer = await journalApi.lesson(lessonId);
    } catch {
      return; // the next check tries again
    }
    if (answer.lesson.state === data.lesson.state) return;
    stopWatching();
    data.lesson = answer.lesson;
    data.attendance = Array.isArray(answer.attendance) ? answer.attendance : [];
    // Marks and assignments being typed stay: only what the state changes is redrawn.
    renderInfo();
    renderRoom();
    renderAttendance();
    announce(t("journal.ended"));
    await awaitRecords();
  });
}

function stopWatching() {
  stopLiveRefresh();
  if (stopStateCheck) stopStateCheck();
  stopStateCheck = null;
}

async function endLesson() {
  clearError();
  const button = /** @type {HTMLButtonElement} */ (byId("end"));
  button.disabled = true;
  try {
    const keepOpen = Number(/** @type {HTMLSelectElement} */ (byId("end-keep-open")).value) || 0;
    await journalApi.end(lessonId, correctionList(), keepOpen);
    stopWatching();
    clearCorrections();
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

// ---- loading ----

function renderAll() {
  renderInfo();
  renderTopic();
  renderRoom();
  renderAttendance();
  renderMarks();
  renderAssignments();
  renderGuests();
  renderLessonDocuments(data.documents);
  renderConnections();
}

function renderConnections() {
  const lines = data.connections;
  byId("conn-empty").hidden = lines.length > 0;
  byId("conn-table").hidden = lines.length === 0;
  fillConnectionTable(byId("conn-table"), "lesson", lines);
}

async function load() {
  const answer = await journalApi.lesson(lessonId);
  data.lesson = answer.lesson;
  data.attendance = Array.isArray(answer.attendance) ? answer.attendance : [];
  data.marks = new Map((answer.marks || []).map((m) => [m.pupil_id, m]));
  data.assignments = answer.assignments || [];
  data.pupils = answer.pupils || data.attendance.map((r) => ({ id: r.pupil_id, name: r.name }));
  data.plan = answer.plan || [];
  data.guests = answer.guests || [];
  data.documents = answer.documents || [];
  data.connections = answer.connections || [];
  data.scale = readScale(answer);
  renderAll();
  showReplayLink(lessonId);
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
  if (data.lesson.state === "open") watchOpenLesson();
  if (data.lesson.state === "closed") await awaitRecords();
}

main().catch((e) => {
  console.error(e); // eslint-disable-line no-console
});
