// Pupils' connections over lessons, as the server kept them (docs/journal.md, "Connection
// history"): the lesson page's table and the pupil's page share the table's head and rows. A
// pupil whose line was poor in the last 3 lessons (poor_streak ≥ 3) is marked in words, not by
// colour alone: on the lesson page in their row, on their own page once, above the table.
import { t } from "./i18n.js";
import { h, stackable } from "./dom.js";
import { formatLocalDay, formatTime } from "./journal_common.js";

export const STREAK = 3;

/** The columns after the first (the pupil or the lesson); the phone's labels are the same words. */
const FIGURES = [
  "conn.col_verdict",
  "conn.col_delay",
  "conn.col_loss",
  "conn.col_levels",
  "conn.col_video",
  "conn.col_drops",
];

/** Seconds as m:ss (the same in every language). */
export function duration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

function verdictCell(line, streak) {
  const words = [h("span", { class: `flag flag-quality-${line.verdict}`, text: t(`quality.${line.verdict}`) })];
  if (streak && line.poor_streak >= STREAK) {
    words.push(" ", h("strong", { class: "conn-streak", "data-testid": "poor-streak", text: t("conn.poor_streak") }));
  }
  return h("td", {}, ...words);
}

/** The figures of one line, after its first cell; `streak`: say "poor in the last 3 lessons". */
function figureCells(line, streak) {
  return [
    verdictCell(line, streak),
    h("td", { text: t("conn.delay", { p50: line.delay_p50_ms, p95: line.delay_p95_ms }) }),
    h("td", { text: `${line.loss_pct} % (${line.loss_p95_pct} %)` }), // numbers only: every language
    h("td", {
      text: `${duration(line.good_s)} / ${duration(line.fair_s)} / ${duration(line.poor_s)}`,
    }),
    h("td", { text: duration(line.video_lost_s) }),
    h("td", { text: String(line.disconnections) }),
  ];
}

/** A row of the lesson page: the pupil (a link to their page) and the figures. */
function lessonRow(line) {
  return h(
    "tr",
    { "data-pupil": String(line.pupil_id) },
    h(
      "th",
      { scope: "row" },
      h("a", {
        href: `/journal/pupils/${encodeURIComponent(String(line.pupil_id))}`,
        "aria-label": t("conn.pupil_link_label", { name: line.name }),
        text: line.name,
      }),
    ),
    ...figureCells(line, true),
  );
}

/**
 * A row of the pupil's page: the lesson's day without the weekday ("5 December 11:37 · Algebra":
 * with it the cell took four lines on a phone) and the figures. The streak is said once, above
 * the table, not again in the newest row.
 */
function pupilRow(line) {
  return h(
    "tr",
    { "data-lesson": String(line.lesson_id) },
    h(
      "th",
      { scope: "row" },
      h("a", {
        href: `/journal/lessons/${encodeURIComponent(String(line.lesson_id))}`,
        text: `${formatLocalDay(line.starts_at, { weekday: false })} ${formatTime(line.starts_at)} · ${line.subject}`,
      }),
    ),
    ...figureCells(line, false),
  );
}

/** Fills `table` with the head and a row per line: per pupil ("lesson" page) or per lesson ("pupil"). */
export function fillConnectionTable(table, page, lines) {
  const first = page === "lesson" ? "conn.col_pupil" : "conn.col_lesson";
  const columns = [first, ...FIGURES];
  table.replaceChildren(
    h("thead", {}, h("tr", {}, ...columns.map((key) => h("th", { scope: "col", text: t(key) })))),
    h("tbody", { id: "conn-rows" }, ...lines.map(page === "lesson" ? lessonRow : pupilRow)),
  );
  stackable(table, columns.map((key) => t(key)));
}
