// /diary: the pupil's week, filled from the journal and read-only — per day its lessons with
// time, subject, teacher, topic, homework, mark and attendance, and "Join lesson" while a lesson's
// room is open. Today comes first, marked; a "Now: Algebra — Join" banner at the top names every
// lesson whose room is open, whatever week is shown. It refreshes itself so a lesson that starts
// shows its link without a reload.
import { journalApi } from "./journal_api.js";
import { onLanguageChange, t } from "./i18n.js";
import { byId, h, showError, clearError, stackable } from "./dom.js";
import { documentLink } from "./lesson_documents.js";
import {
  bootPage,
  every,
  formatDay,
  parseDate,
  periodText,
  safeUrl,
  statusText,
  timeRange,
  weekFromUrl,
  weekLabel,
  wireWeekSwitch,
} from "./journal_common.js";

const REFRESH_MS = 15000;

/** @type {{week: string|null, period?: any, week_number?: number, days: object[],
 *   today?: string|null, open_now?: object[]}} */
let shown = { week: null, days: [] };
let shownJson = "";

function homeworkCell(lesson) {
  const items = Array.isArray(lesson.homework) ? lesson.homework : [];
  if (!items.length) return h("td", { text: "—" });
  return h(
    "td",
    {},
    h(
      "ul",
      { class: "plain-list homework" },
      ...items.map((a) => {
        const due = parseDate(a.due_on);
        const head = [t(`journal.kind_${a.kind}`), t(`journal.difficulty_${a.difficulty}`)];
        if (due) head.push(t("journal.due", { date: formatDay(due, { weekday: false }) }));
        return h(
          "li",
          {},
          h("span", { class: "muted", text: head.join(" · ") }),
          h("span", { class: "assignment-text", text: a.text }),
        );
      }),
    ),
  );
}

function markCell(lesson) {
  const mark = lesson.mark;
  if (!mark) return h("td", { text: "—" });
  return h(
    "td",
    {},
    h("strong", { class: "mark-value", text: String(mark.value) }),
    mark.comment ? h("span", { class: "mark-comment", text: mark.comment }) : null,
  );
}

function replayLink(lesson) {
  const url = lesson.replay_url ? safeUrl(lesson.replay_url) : null;
  if (!url) return null;
  return h("a", {
    class: "diary-replay",
    href: url,
    "data-testid": "diary-replay",
    text: t("diary.replay"),
    "aria-label": t("diary.replay_label", { subject: lesson.subject }),
  });
}

function roomCell(lesson) {
  const url = lesson.room_url ? safeUrl(lesson.room_url) : null;
  const documents = Array.isArray(lesson.documents) ? lesson.documents : [];
  const replay = url ? null : replayLink(lesson);
  if (!url && (documents.length || replay)) {
    // After the lesson, what was shown in its room stays here (the asynchronous format), and
    // its recording if it was recorded.
    return h(
      "td",
      {},
      replay,
      documents.length
        ? h(
            "ul",
            { class: "plain-list diary-documents", "aria-label": t("diary.documents") },
            ...documents.map((d) => h("li", {}, documentLink(d))),
          )
        : null,
    );
  }
  if (!url) return h("td", { text: "—" });
  return h(
    "td",
    {},
    h("a", {
      class: "button primary join",
      href: url,
      "data-key": `join-${lesson.lesson_id}`,
      text: t("diary.join"),
      "aria-label": t("diary.join_label", { subject: lesson.subject }),
    }),
  );
}

function lessonRow(lesson) {
  return h(
    "tr",
    { "data-lesson": String(lesson.lesson_id) },
    h("th", { scope: "row", class: "time", text: timeRange(lesson.starts_at, lesson.ends_at) }),
    h("td", { text: lesson.subject }),
    h("td", { text: lesson.teacher || "—" }),
    h("td", { text: lesson.topic || "—" }),
    homeworkCell(lesson),
    markCell(lesson),
    h("td", { text: lesson.attendance ? statusText({ status: lesson.attendance }) : "—" }),
    roomCell(lesson),
  );
}

/** "Now: Algebra — Join": one line per lesson whose room is open, at the top of the page. */
function renderNow() {
  const open = (shown.open_now || []).filter((lesson) => lesson.room_url && safeUrl(lesson.room_url));
  byId("now").hidden = open.length === 0;
  byId("now-list").replaceChildren(
    ...open.map((lesson) =>
      h(
        "li",
        { class: "now-item", "data-lesson": String(lesson.lesson_id) },
        h(
          "div",
          { class: "now-what" },
          h("strong", { class: "now-subject", text: t("diary.now", { subject: lesson.subject }) }),
          h("div", {
            class: "muted",
            text: t("diary.now_detail", {
              teacher: lesson.teacher || "—",
              time: timeRange(lesson.starts_at, lesson.ends_at),
            }),
          }),
        ),
        h("a", {
          class: "button primary join",
          href: safeUrl(lesson.room_url),
          "data-key": `now-${lesson.lesson_id}`,
          "data-testid": "now-join",
          text: t("diary.now_join"),
          "aria-label": t("diary.join_label", { subject: lesson.subject }),
        }),
      ),
    ),
  );
}

/** Today first, then the days still to come, then the week's past days (each dated). */
function todayFirst(days, today) {
  const at = days.findIndex((d) => d.date === today);
  if (at < 0) return days;
  return [...days.slice(at), ...days.slice(0, at)];
}

function dayTable(day, index) {
  const date = parseDate(day.date);
  const title = date ? formatDay(date) : String(day.date);
  const headingId = `day-${index}`;
  const isToday = !!shown.today && day.date === shown.today;
  const lessons = [...(day.lessons || [])].sort((a, b) => a.starts_at - b.starts_at);
  const columns = [
    "journal.col_time",
    "journal.col_subject",
    "diary.col_teacher",
    "journal.col_topic",
    "diary.col_homework",
    "journal.col_mark",
    "diary.col_attendance",
    "diary.col_room",
  ];
  const table = h(
    "table",
    { class: "journal-table diary-table stacked-table", "aria-labelledby": headingId },
    h(
      "thead",
      {},
      h("tr", {}, ...columns.map((key) => h("th", { scope: "col", text: t(key) }))),
    ),
    h("tbody", {}, ...lessons.map(lessonRow)),
  );
  stackable(table, columns.map((key) => t(key)));
  return h(
    "section",
    {
      class: isToday ? "card day today" : "card day",
      "aria-labelledby": headingId,
      "data-date": String(day.date),
    },
    h(
      "h2",
      { id: headingId },
      h("span", { text: title }),
      isToday
        ? h("span", { class: "today-badge", "data-testid": "today", text: t("diary.today") })
        : null,
    ),
    h("div", { class: "table-wrap" }, table),
  );
}

function render() {
  byId("week-title").textContent = weekLabel(shown.week);
  byId("week-period").textContent = periodText(shown.period, shown.week_number);
  renderNow();
  const days = todayFirst(
    shown.days.filter((d) => Array.isArray(d.lessons) && d.lessons.length),
    shown.today,
  );
  // A re-render keeps keyboard focus on the same link (by its key) when it is still there.
  const active = document.activeElement;
  const focused = active instanceof HTMLElement ? active.dataset.key : null;
  byId("days").replaceChildren(...days.map(dayTable));
  byId("days-empty").hidden = days.length > 0;
  if (focused) {
    const again = byId("days").querySelector(`[data-key="${CSS.escape(focused)}"]`);
    if (again instanceof HTMLElement) again.focus();
  }
}

/** The shown week from a diary answer (`week` when the answer lacks one). */
function weekOf(data, week) {
  return {
    week: data.week || week,
    period: data.period ?? null,
    week_number: data.week_number,
    days: Array.isArray(data.days) ? data.days : [],
    today: typeof data.today === "string" ? data.today : null,
    open_now: Array.isArray(data.open_now) ? data.open_now : [],
  };
}

async function show(week) {
  try {
    const data = await journalApi.diary(week);
    shown = weekOf(data, week);
    shownJson = JSON.stringify(data);
  } catch (e) {
    showError(e);
  }
  render();
}

async function refresh() {
  try {
    const data = await journalApi.diary(shown.week);
    const json = JSON.stringify(data);
    if (json === shownJson) return;
    shownJson = json;
    shown = weekOf(data, shown.week);
    clearError();
    render();
  } catch {
    // A missed refresh is retried on the next tick; the shown week stays as it was.
  }
}

async function main() {
  const user = await bootPage("pupil");
  if (!user) return;
  wireWeekSwitch(() => shown.week, show);
  onLanguageChange(render);
  await show(weekFromUrl());
  every(REFRESH_MS, refresh);
}

main().catch((e) => {
  console.error(e); // eslint-disable-line no-console
});
