// Pupils' connections over lessons, as the server kept them (docs/journal.md, "Connection
// history"): the lesson page's table and the pupil's page share these rows. A pupil whose line
// was poor in the last 3 lessons (poor_streak ≥ 3) is marked in words, not by colour alone.
import { t } from "./i18n.js";
import { h } from "./dom.js";
import { formatLocalDay, formatTime } from "./journal_common.js";

export const STREAK = 3;

/** Seconds as m:ss (the same in every language). */
export function duration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

function verdictCell(line) {
  const words = [h("span", { class: `flag flag-quality-${line.verdict}`, text: t(`quality.${line.verdict}`) })];
  if (line.poor_streak >= STREAK) {
    words.push(" ", h("strong", { class: "conn-streak", "data-testid": "poor-streak", text: t("conn.poor_streak") }));
  }
  return h("td", {}, ...words);
}

/** The figures of one line, after its first cell (the pupil's name or the lesson). */
export function figureCells(line) {
  return [
    verdictCell(line),
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
export function lessonRow(line) {
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
    ...figureCells(line),
  );
}

/** A row of the pupil's page: the lesson's day and subject, and the figures. */
export function pupilRow(line) {
  return h(
    "tr",
    { "data-lesson": String(line.lesson_id) },
    h(
      "th",
      { scope: "row" },
      h("a", {
        href: `/journal/lessons/${encodeURIComponent(String(line.lesson_id))}`,
        text: `${formatLocalDay(line.starts_at)} ${formatTime(line.starts_at)} · ${line.subject}`,
      }),
    ),
    ...figureCells(line),
  );
}
