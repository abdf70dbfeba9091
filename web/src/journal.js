// /journal: the teacher's week — every lesson with its class, subject, topic and state, each a
// link to its lesson page; weeks back and forth; a lesson can be added to the schedule.
import { journalApi } from "./journal_api.js";
import { onLanguageChange, t } from "./i18n.js";
import {
  announce,
  busy,
  byId,
  clearError,
  fieldValue,
  focusOn,
  h,
  showError,
  showErrorText,
} from "./dom.js";
import {
  bootPage,
  formatLocalDay,
  isoWeek,
  parseDate,
  periodText,
  safeUrl,
  schoolSeconds,
  timeRange,
  weekFromUrl,
  weekLabel,
  weekToUrl,
  wireWeekSwitch,
} from "./journal_common.js";

/** @type {{week: string|null, period: any, week_number?: number, lessons: object[]}} */
let shown = { week: null, period: null, lessons: [] };
/** @type {object[]} */
let classes = [];
/** @type {object[]} */
let subjects = [];

function lessonRow(lesson) {
  const day = formatLocalDay(lesson.starts_at);
  const time = timeRange(lesson.starts_at, lesson.ends_at);
  const link = h("a", {
    href: `/journal/lessons/${encodeURIComponent(lesson.id)}`,
    class: "lesson-link",
    text: lesson.subject,
    "aria-label": t("journal.lesson_link", {
      subject: lesson.subject,
      class: lesson.class_name,
      day,
      time,
    }),
  });
  const state = h("span", {
    class: `state state-${lesson.state}`,
    text: t(`journal.state_${lesson.state}`),
  });
  // While a lesson is open its room is one click away from the schedule too.
  const roomUrl = lesson.state === "open" && lesson.invite_url ? safeUrl(lesson.invite_url) : null;
  const room = roomUrl
    ? h("a", {
        href: roomUrl,
        class: "room-link-small",
        text: t("journal.open_room"),
        "aria-label": t("journal.open_room_of", {
          subject: lesson.subject,
          class: lesson.class_name,
        }),
      })
    : null;
  return h(
    "tr",
    { "data-lesson": String(lesson.id), class: lesson.state === "open" ? "is-open" : null },
    h("th", { scope: "row", class: "time", text: time }),
    h("td", { text: lesson.class_name }),
    h("td", {}, link),
    h("td", { text: lesson.topic || "—" }),
    h("td", {}, state, room ? " " : null, room),
  );
}

/** A day of the week: its heading and a table of its lessons. */
function dayTable(day, lessons, index) {
  const headingId = `day-${index}`;
  const columns = [
    "journal.col_time",
    "journal.col_class",
    "journal.col_subject",
    "journal.col_topic",
    "journal.col_state",
  ];
  return h(
    "section",
    { class: "day", "aria-labelledby": headingId },
    h("h3", { id: headingId, text: day }),
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { class: "journal-table schedule-table", "aria-labelledby": headingId },
        h(
          "thead",
          {},
          h("tr", {}, ...columns.map((key) => h("th", { scope: "col", text: t(key) }))),
        ),
        h("tbody", {}, ...lessons.map(lessonRow)),
      ),
    ),
  );
}

function render() {
  byId("week-title").textContent = weekLabel(shown.week);
  byId("week-period").textContent = periodText(shown.period, shown.week_number);
  const lessons = [...shown.lessons].sort((a, b) => a.starts_at - b.starts_at);
  /** @type {Map<string, object[]>} */
  const days = new Map();
  for (const lesson of lessons) {
    const day = formatLocalDay(lesson.starts_at);
    if (!days.has(day)) days.set(day, []);
    days.get(day).push(lesson);
  }
  byId("lessons").replaceChildren(
    ...[...days].map(([day, list], index) => dayTable(day, list, index)),
  );
  byId("lessons-empty").hidden = lessons.length > 0;
}

async function show(week) {
  try {
    const data = await journalApi.schedule(week);
    shown = {
      week: data.week || week,
      period: data.period ?? null,
      week_number: data.week_number,
      lessons: Array.isArray(data.lessons) ? data.lessons : [],
    };
  } catch (e) {
    showError(e);
  }
  render();
}

function renderAddForm() {
  const select = /** @type {HTMLSelectElement} */ (byId("add-class"));
  const chosen = select.value;
  select.replaceChildren(
    h("option", { value: "", text: t("journal.choose_class") }),
    ...classes.map((c) => h("option", { value: String(c.id), text: c.name })),
  );
  select.value = [...select.options].some((o) => o.value === chosen) ? chosen : "";
  byId("subject-list").replaceChildren(...subjects.map((s) => h("option", { value: s.name })));
}

function wireAddForm() {
  const form = /** @type {HTMLFormElement} */ (byId("add-form"));
  const date = /** @type {HTMLInputElement} */ (byId("add-date"));
  if (!date.value) {
    const now = new Date();
    const pad = (n) => String(n).padStart(2, "0");
    date.value = `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearError();
    const classId = fieldValue(form, "class_id");
    const subject = fieldValue(form, "subject");
    const day = fieldValue(form, "date");
    const startsAt = schoolSeconds(day, fieldValue(form, "start"));
    const endsAt = schoolSeconds(day, fieldValue(form, "end"));
    if (!classId || !subject || startsAt === null || endsAt === null) {
      showErrorText(t("journal.fill_all"));
      focusOn(byId(!classId ? "add-class" : !subject ? "add-subject" : "add-date"));
      return;
    }
    const known = subjects.find((s) => s.name === subject);
    const body = {
      class_id: Number(classId),
      starts_at: startsAt,
      ends_at: endsAt,
      ...(known ? { subject_id: known.id } : { subject }),
    };
    await busy(form, async () => {
      try {
        const lesson = await journalApi.createLesson(body);
        const week = lesson.week || isoWeek(parseDate(day));
        await show(week);
        weekToUrl(week);
        announce(t("journal.added", { subject: lesson.subject }));
        const row = document.querySelector(`tr[data-lesson="${CSS.escape(String(lesson.id))}"] a`);
        focusOn(row instanceof HTMLElement ? row : byId("lessons-title"));
      } catch (e) {
        showError(e);
      }
    });
  });
}

async function loadFormChoices() {
  // The form still works with typed subjects when the school has no subject list.
  const [classList, subjectList] = await Promise.allSettled([
    journalApi.classes(),
    journalApi.subjects(),
  ]);
  classes = classList.status === "fulfilled" ? classList.value : [];
  subjects = subjectList.status === "fulfilled" ? subjectList.value : [];
  if (classList.status === "rejected") showError(classList.reason);
  renderAddForm();
}

async function main() {
  const user = await bootPage("teacher");
  if (!user) return;
  wireWeekSwitch(() => shown.week, show);
  wireAddForm();
  onLanguageChange(() => {
    render();
    renderAddForm();
  });
  await Promise.all([show(weekFromUrl()), loadFormChoices()]);
}

main().catch((e) => {
  console.error(e); // eslint-disable-line no-console
});
