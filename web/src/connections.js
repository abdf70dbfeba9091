// The host's view of everyone's connection (hosts and presenters): each participant's latest
// reading — delay, round trip, loss, jitter, bitrate, the picture they receive — worst first,
// a notice when someone passes 2 s of delay or loses video, and on demand a chart of their
// last minute. Readings come as `participant_quality` every 2 s per participant (quality.js).
//
// The chart is a hand-drawn SVG polyline (linkstats.js sparkPoints, ~20 lines): one series of
// at most 30 points per person needs no charting library (uPlot would add ~50 KB to the room
// bundle for it).
import { byId, h } from "./dom.js";
import { t } from "./i18n.js";
import {
  CHART_SECONDS,
  connectionNews,
  layerWords,
  sparkPoints,
  worstFirst,
} from "./linkstats.js";
import { notify } from "./notices.js";
import { button, focusedControl, isMe, isStaff, restoreFocus, state } from "./shared.js";

const SVG_NS = "http://www.w3.org/2000/svg";
const CHART_W = 240;
const CHART_H = 48;
// The chart's scale: at least this many ms, so a clean link's 30 ms is a flat low line.
const CHART_TOP_MS = 200;
// Readings arrive from every participant every 2 s: the list is drawn at most this often.
const RENDER_MS = 1000;

const view = {
  /** @type {Map<string, {at: number, value: number, loss: number}[]>} */ history: new Map(),
  /** @type {Map<string, object>} the reading before the latest */ previous: new Map(),
  /** @type {Map<string, {delay: boolean, video: boolean}>} */ said: new Map(),
  /** @type {Set<string>} charts open */ open: new Set(),
  /** @type {number|undefined} */ timer: undefined,
};

/** A participant's reading arrived (staff): keep its history, say what is news, redraw soon. */
export function noteReading(id, q) {
  const now = Date.now();
  const samples = (view.history.get(id) || []).filter((s) => s.at >= now - CHART_SECONDS * 1000);
  samples.push({ at: now, value: q.delay_ms, loss: q.loss_pct });
  view.history.set(id, samples);
  const { news, said } = connectionNews(
    view.said.get(id) || { delay: false, video: false },
    q,
    view.previous.get(id) || null,
  );
  view.said.set(id, said);
  view.previous.set(id, q);
  const p = state.participants.get(id);
  if (p && isStaff()) {
    for (const what of news) {
      notify({
        key: what === "delay" ? "connections.notice_delay" : "connections.notice_video",
        params: { name: p.name, seconds: (q.delay_ms / 1000).toFixed(1) },
      });
    }
  }
  if (view.timer === undefined) {
    view.timer = window.setTimeout(() => {
      view.timer = undefined;
      renderConnections();
    }, RENDER_MS);
  }
}

/** Someone left: forget their history. */
export function forgetConnection(id) {
  view.history.delete(id);
  view.previous.delete(id);
  view.said.delete(id);
  view.open.delete(id);
}

function figures(q) {
  const picture =
    q.video === "lost"
      ? t("connections.video_lost")
      : q.video_height
        ? t("connections.picture", { height: q.video_height })
        : t("connections.no_picture");
  return t("connections.figures", {
    delay: q.delay_ms,
    rtt: q.rtt_ms,
    loss: q.loss_pct,
    jitter: q.jitter_ms ?? 0,
    kbps_in: q.kbps_in ?? 0,
    kbps_out: q.kbps_out ?? 0,
    picture,
  });
}

/** Whose video an entry of `received` is, in words ("your camera", "Aigerim's screen"). */
function videoName(r) {
  const source = r.source === "screen" ? "screen" : "camera";
  if (isMe(r.from)) return t(`connections.video_your_${source}`);
  const who = state.participants.get(r.from);
  return t(`connections.video_${source}`, { name: who ? who.name : t("connections.someone") });
}

/**
 * The layer the server forwards this participant of each video they are shown, and what holds
 * it there (participant_quality.received): one plain sentence per video, in a list named for
 * the participant so a screen reader says whose it is.
 */
function layersList(p, received) {
  const entries = received.map((r) => {
    const w = layerWords(r);
    const video = videoName(r);
    const layer = w.height ? t("connections.layer_size", { layer: t(w.name), height: w.height }) : t(w.name);
    const text = w.paused
      ? t("connections.layer_entry_paused", { video, why: t(w.why) })
      : t("connections.layer_entry", { video, layer, why: t(w.why) });
    return h("li", { text, "data-limit": w.paused ? "paused" : r.limit || "none" });
  });
  return h(
    "ul",
    { class: "connection-layers", "aria-label": t("connections.layers_label", { name: p.name }) },
    ...entries,
  );
}

function chart(id, name) {
  const samples = view.history.get(id) || [];
  const values = samples.map((s) => s.value);
  const label = values.length
    ? t("connections.chart_label", {
        name,
        min: Math.min(...values),
        max: Math.max(...values),
        last: values[values.length - 1],
      })
    : t("connections.chart_empty", { name });
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", `0 0 ${CHART_W} ${CHART_H}`);
  svg.setAttribute("class", "spark");
  svg.setAttribute("preserveAspectRatio", "none"); // the minute spans the box's width
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", label);
  svg.id = `chart-${id}`;
  const base = document.createElementNS(SVG_NS, "line");
  for (const [k, v] of Object.entries({ x1: 0, y1: CHART_H - 0.5, x2: CHART_W, y2: CHART_H - 0.5 })) {
    base.setAttribute(k, String(v));
  }
  base.setAttribute("class", "spark-base");
  const line = document.createElementNS(SVG_NS, "polyline");
  line.setAttribute("points", sparkPoints(samples, Date.now(), CHART_W, CHART_H - 2, CHART_TOP_MS));
  line.setAttribute("class", "spark-line");
  svg.append(base, line);
  // The time axis in words under it (the SVG's own name already says it all to a screen reader).
  const axis = h(
    "div",
    { class: "spark-axis muted", "aria-hidden": "true" },
    h("span", { text: t("connections.chart_start") }),
    h("span", { text: t("connections.chart_now") }),
  );
  return h("div", { class: "spark-box" }, svg, axis, h("p", { class: "muted spark-caption", text: label }));
}

function item(p, q) {
  const open = view.open.has(p.id);
  const toggle = button(
    t(open ? "connections.chart_hide" : "connections.chart_show"),
    "chart",
    () => {
      if (view.open.has(p.id)) view.open.delete(p.id);
      else view.open.add(p.id);
      renderConnections();
    },
    { label: t(open ? "connections.chart_hide_label" : "connections.chart_show_label", { name: p.name }) },
  );
  toggle.setAttribute("aria-expanded", String(open));
  if (open) toggle.setAttribute("aria-controls", `chart-${p.id}`);
  const level = q ? t(`quality.${q.level}`) : t("connections.no_reading");
  return h(
    "li",
    {
      class: "person-item connection-item",
      "data-key": `c:${p.id}`,
      "data-connection": p.id,
      "data-level": q ? q.level : "none",
      "data-video": q ? q.video || "none" : "none",
    },
    h(
      "div",
      { class: "person" },
      h("span", { class: "person-name", text: p.name }),
      " ",
      h("span", { class: `flag flag-quality-${q ? q.level : "none"}`, text: level }),
      q ? h("div", { class: "connection-figures", text: figures(q) }) : null,
      q && Array.isArray(q.received) && q.received.length ? layersList(p, q.received) : null,
    ),
    q ? h("div", { class: "actions" }, toggle) : null,
    open && q ? chart(p.id, p.name) : null,
  );
}

/** Draws the list (staff only), keeping keyboard focus on the same row's button. */
export function renderConnections() {
  const section = byId("connections-panel");
  const staff = isStaff();
  section.hidden = !staff;
  const list = byId("connections");
  if (!staff) {
    list.replaceChildren();
    return;
  }
  const saved = focusedControl(list);
  const rows = [...state.participants.values()]
    .filter((p) => !state.you || p.id !== state.you.id)
    .map((p) => ({ id: p.id, p, reading: state.quality.get(p.id) }));
  const sorted = worstFirst(rows);
  const count = (test) => rows.filter((r) => r.reading && test(r.reading)).length;
  byId("connections-summary").textContent = t("connections.summary", {
    poor: count((q) => q.level === "poor"),
    fair: count((q) => q.level === "fair"),
    lost: count((q) => q.video === "lost"),
  });
  byId("connections-empty").hidden = sorted.length > 0;
  list.replaceChildren(...sorted.map((r) => item(r.p, r.reading)));
  restoreFocus(list, saved);
}
