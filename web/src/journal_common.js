// What the journal pages (schedule, lesson, diary) share: who may see the page, ISO weeks,
// dates and times in the reader's language, the week switcher and the week kept in the URL.
import { api } from "./api.js";
import { initI18n, language, t } from "./i18n.js";
import { byId, clearError, focusOn, showError } from "./dom.js";

const WEEK_RE = /^(\d{4})-W(\d{2})$/;
const DAY_MS = 24 * 3600 * 1000;

/** Monday 00:00 UTC of an ISO week "2026-W47" (null when malformed). */
export function weekMonday(week) {
  const m = WEEK_RE.exec(String(week || ""));
  if (!m) return null;
  const year = Number(m[1]);
  const number = Number(m[2]);
  if (number < 1 || number > 53) return null;
  // ISO week 1 holds 4 January; its Monday is the week's start.
  const jan4 = Date.UTC(year, 0, 4);
  const jan4Day = (new Date(jan4).getUTCDay() + 6) % 7; // Monday = 0
  return new Date(jan4 - jan4Day * DAY_MS + (number - 1) * 7 * DAY_MS);
}

/** The ISO week ("2026-W47") of a UTC calendar date. */
export function isoWeek(date) {
  const day = (date.getUTCDay() + 6) % 7;
  // The Thursday of the same week decides the week's year.
  const thursday = new Date(date.getTime() + (3 - day) * DAY_MS);
  const year = thursday.getUTCFullYear();
  const first = weekMonday(`${year}-W01`);
  const number = Math.round((thursday.getTime() - first.getTime()) / (7 * DAY_MS)) + 1;
  return `${year}-W${String(number).padStart(2, "0")}`;
}

/** The week `offset` weeks after `week`. */
export function shiftWeek(week, offset) {
  const monday = weekMonday(week);
  return monday ? isoWeek(new Date(monday.getTime() + offset * 7 * DAY_MS)) : week;
}

/** A valid week from the page's ?week= parameter, else null (the server's current week). */
export function weekFromUrl() {
  const week = new URLSearchParams(window.location.search).get("week");
  return week && weekMonday(week) ? week : null;
}

/** Keeps the shown week in the address, so a reload or a shared link shows the same week. */
export function weekToUrl(week) {
  const url = new URL(window.location.href);
  if (week) url.searchParams.set("week", week);
  else url.searchParams.delete("week");
  window.history.replaceState(null, "", url.pathname + url.search);
}

function locale() {
  return language();
}

/**
 * The calendar day of a moment in a time zone (undefined: the browser's). Names of days and
 * months come from our locale files, not from Intl: some browsers ship no Kazakh calendar names
 * and print "M11 22, Sun" instead.
 */
function calendarDay(date, zone) {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: zone,
    year: "numeric",
    month: "numeric",
    day: "numeric",
  }).formatToParts(date);
  const part = (type) => Number((parts.find((p) => p.type === type) || { value: "0" }).value);
  const year = part("year");
  const month = part("month");
  const day = part("day");
  return { month, day, weekday: new Date(Date.UTC(year, month - 1, day)).getUTCDay() };
}

function dayText({ month, day, weekday }, withWeekday) {
  return t(withWeekday ? "journal.date_long" : "journal.date_short", {
    weekday: t(`journal.weekday_${weekday}`),
    month: t(`journal.month_${month}`),
    day,
  });
}

/** "Monday, November 16" of a calendar date (a UTC Date from parseDate); without the weekday
 * when `weekday` is false. */
export function formatDay(date, { weekday = true } = {}) {
  return dayText(calendarDay(date, "UTC"), weekday);
}

/** A "2026-11-16" date string as a UTC Date. */
export function parseDate(text) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(text || ""));
  return m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : null;
}

/** The school's IANA time zone when the server says it; else the browser's own. */
let schoolZone;

/** Takes the school's IANA time zone (from GET /api/school), so times and days are the
 * school's even in a browser set to another zone. An unknown name keeps the browser's zone. */
export function useSchoolZone(zone) {
  if (typeof zone !== "string" || !zone) return;
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone }).format(0);
    schoolZone = zone;
  } catch {
    // An unknown zone name: the browser's zone is the next best thing.
  }
}

/** How far the school's clock is ahead of UTC at a moment, in seconds. */
function zoneOffset(seconds) {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: schoolZone,
    hourCycle: "h23",
    year: "numeric",
    month: "numeric",
    day: "numeric",
    hour: "numeric",
    minute: "numeric",
    second: "numeric",
  }).formatToParts(new Date(seconds * 1000));
  const part = (type) => Number((parts.find((p) => p.type === type) || { value: "0" }).value);
  const wall = Date.UTC(part("year"), part("month") - 1, part("day"), part("hour"), part("minute"), part("second"));
  return wall / 1000 - seconds;
}

/** Unix seconds of a date ("2026-11-16") and time of day ("09:00") on the school's clock, or null. */
export function schoolSeconds(date, time) {
  const d = /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(date || ""));
  const t = /^(\d{2}):(\d{2})/.exec(String(time || ""));
  if (!d || !t) return null;
  const wall = Date.UTC(Number(d[1]), Number(d[2]) - 1, Number(d[3]), Number(t[1]), Number(t[2])) / 1000;
  // Twice: the first guess may sit on the other side of a daylight-saving change.
  const first = wall - zoneOffset(wall);
  return wall - zoneOffset(first);
}

/** The school's time of day of Unix seconds ("09:00"). */
export function formatTime(seconds) {
  return new Intl.DateTimeFormat(locale(), {
    hour: "2-digit",
    minute: "2-digit",
    timeZone: schoolZone,
  }).format(new Date(seconds * 1000));
}

/** The school's date of Unix seconds ("Monday, November 16"); without the weekday when
 * `weekday` is false ("November 16"). */
export function formatLocalDay(seconds, { weekday = true } = {}) {
  return dayText(calendarDay(new Date(seconds * 1000), schoolZone), weekday);
}

/** "09:00–09:45" */
export function timeRange(startsAt, endsAt) {
  return `${formatTime(startsAt)}–${formatTime(endsAt)}`;
}

/** "Week 2026-W47: November 16 – November 22" */
export function weekLabel(week) {
  const monday = weekMonday(week);
  if (!monday) return String(week || "");
  const sunday = new Date(monday.getTime() + 6 * DAY_MS);
  return t("journal.week_label", {
    week,
    from: formatDay(monday, { weekday: false }),
    to: formatDay(sunday, { weekday: false }),
  });
}

/** A period as the server sends it: a name, or an object with a name (and a week number). */
export function periodText(period, weekNumber) {
  if (!period) return t("journal.no_period");
  const name = typeof period === "string" ? period : String(period.name || "");
  const number = typeof period === "object" && period.week_number ? period.week_number : weekNumber;
  return number
    ? t("journal.period_week", { period: name, number })
    : t("journal.period", { period: name });
}

/**
 * Starts a journal page: translation, then the signed-in user. Shows `#signedout` when nobody is
 * signed in (or must first choose a password on the home page), `#wrongkind` for the wrong kind
 * of user, else `#content`. Returns the user or null.
 */
export async function bootPage(kind) {
  await initI18n();
  let user = null;
  try {
    user = await api.me();
  } catch (e) {
    showError(e);
  }
  byId("loading").hidden = true;
  for (const el of document.querySelectorAll(".user-name")) {
    el.textContent = user ? user.display_name : "";
  }
  if (!user || user.must_change_password) {
    byId("signedout").hidden = false;
    return null;
  }
  if (user.kind !== kind) {
    byId("wrongkind").hidden = false;
    return null;
  }
  try {
    useSchoolZone((await api.school()).timezone);
  } catch (e) {
    showError(e);
  }
  wireSignOut();
  byId("content").hidden = false;
  return user;
}

function wireSignOut() {
  for (const button of document.querySelectorAll(".signout")) {
    button.addEventListener("click", async () => {
      clearError();
      try {
        await api.signOut();
      } catch (e) {
        showError(e);
        return;
      }
      window.location.assign("/");
    });
  }
}

/**
 * Wires the week switcher (#week-prev, #week-next, #week-current) of a page. `show(week|null)`
 * loads a week; it returns the week actually shown, which the switcher then steps from.
 */
export function wireWeekSwitch(getWeek, show) {
  const go = async (week, focusId) => {
    clearError();
    await show(week);
    weekToUrl(week);
    focusOn(byId(focusId));
  };
  byId("week-prev").addEventListener("click", () => go(shiftWeek(getWeek(), -1), "week-prev"));
  byId("week-next").addEventListener("click", () => go(shiftWeek(getWeek(), 1), "week-next"));
  byId("week-current").addEventListener("click", () => go(null, "week-current"));
}

/**
 * Runs `fn` every `ms` while the page is visible (and once more when it comes back), never two
 * at a time. Returns a function that stops it.
 */
export function every(ms, fn) {
  let running = false;
  const tick = async () => {
    if (running || document.hidden) return;
    running = true;
    try {
      await fn();
    } finally {
      running = false;
    }
  };
  const timer = window.setInterval(tick, ms);
  const onVisible = () => {
    if (!document.hidden) tick();
  };
  document.addEventListener("visibilitychange", onVisible);
  return () => {
    window.clearInterval(timer);
    document.removeEventListener("visibilitychange", onVisible);
  };
}

/** An http(s) URL from the server, or null (never a javascript: or data: link). */
export function safeUrl(value) {
  try {
    const url = new URL(String(value), window.location.href);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}

/** The attendance status in words (present, late, left early, absent). */
export function statusText(record) {
  if (!record || !record.status) return t("journal.status_none");
  const parts = [t(`journal.status_${record.status}`)];
  if (record.late) parts.push(t("journal.late"));
  if (record.left_early) parts.push(t("journal.left_early"));
  return parts.join(", ");
}
