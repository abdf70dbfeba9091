// /replay/lessons/{id}: a lesson's recording after the lesson (docs/recordings.md). One clock
// (ms since the recording started) drives every file: each track's element is kept within
// 0.25 s of where that clock says it should be, and the shared document's page (its image too)
// and the public chat are read from the timeline up to that time.
import { http } from "./api.js";
import { initI18n, onLanguageChange, t } from "./i18n.js";
import { byId, h, showError } from "./dom.js";
import { DEFAULT_WIDTHS } from "./document_state.js";

const lessonId = location.pathname.split("/").filter(Boolean).pop() || "";
/** @type {{tracks: any[], timeline: any[], duration: number}} */
const rec = { tracks: [], timeline: [], duration: 0 };
let clockMs = 0; // where the replay is
let playing = false;
let lastTick = 0;
const elements = { camera: "replay-camera", screen: "replay-screen", mic: "replay-mic" };

function media(source) {
  return /** @type {HTMLMediaElement} */ (byId(elements[source]));
}

function clock(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

/** Each file follows the clock: playing where it has media at this time, else paused. */
function follow() {
  const speed = Number(/** @type {HTMLSelectElement} */ (byId("replay-speed")).value) || 1;
  for (const track of rec.tracks) {
    const el = media(track.source);
    const at = (clockMs - track.start_ms) / 1000;
    const inside = at >= 0 && (!Number.isFinite(el.duration) || at <= el.duration);
    el.playbackRate = speed;
    if (!inside) {
      if (!el.paused) el.pause();
      continue;
    }
    if (Math.abs(el.currentTime - at) > 0.25) el.currentTime = at;
    if (playing && el.paused) el.play().catch(() => {});
    if (!playing && !el.paused) el.pause();
  }
  renderAt();
}

function renderAt() {
  const seek = /** @type {HTMLInputElement} */ (byId("replay-seek"));
  seek.value = String(clockMs / 1000);
  seek.setAttribute("aria-valuetext", `${clock(clockMs)} / ${clock(rec.duration)}`);
  byId("replay-time").textContent = `${clock(clockMs)} / ${clock(rec.duration)}`;
  byId("replay-play").textContent = t(playing ? "replay.pause" : "replay.play");
  let doc = null;
  let page = 0;
  const chat = [];
  for (const e of rec.timeline) {
    if (e.t > clockMs) break;
    const data = e.data || {};
    if (e.type === "share_changed") {
      doc = data.share ? data.share.document : null;
      page = data.share ? data.share.page : 0;
    } else if (e.type === "page_changed") page = data.page;
    else if (e.type === "sharing_stopped") doc = null;
    else if (e.type === "chat_message" && data.message && !data.message.to) chat.push(data.message);
  }
  const docText = doc ? t("replay.page", { name: doc.name, page, pages: doc.pages || "?" }) : t("replay.no_document");
  const docEl = byId("replay-doc");
  if (docEl.textContent !== docText) docEl.textContent = docText;
  showPage(doc, page);
  const list = byId("replay-chat");
  if (list.childElementCount !== chat.length) {
    list.replaceChildren(...chat.map((m) => h("li", {}, h("strong", { text: `${(m.from && m.from.name) || ""}: ` }), m.text || "")));
  }
}

/** A page of a lesson's document, served after the lesson by the session (docs/recordings.md). */
function pageUrl(doc, page, width) {
  return `/api/lessons/${encodeURIComponent(lessonId)}/documents/${encodeURIComponent(doc.id)}/pages/${page}?width=${width}`;
}

/** The page image shown at the clock: every rendered width in `srcset`, the browser picks. */
function showPage(doc, page) {
  const img = /** @type {HTMLImageElement} */ (byId("replay-page"));
  const shown = doc && doc.id && page >= 1 && (!doc.pages || page <= doc.pages);
  img.hidden = !shown;
  if (!shown) return;
  const key = `${doc.id}/${page}`;
  if (img.dataset.page !== key) {
    img.dataset.page = key;
    const widths = [...(doc.widths && doc.widths.length ? doc.widths : DEFAULT_WIDTHS)].sort((a, b) => a - b);
    img.srcset = widths.map((w) => `${pageUrl(doc, page, w)} ${w}w`).join(", ");
    img.src = pageUrl(doc, page, widths[0]);
  }
  const alt = t("doc.page_of", { page, pages: doc.pages || "?" });
  if (img.alt !== alt) img.alt = alt;
}

function tick(now) {
  if (playing) {
    const speed = Number(/** @type {HTMLSelectElement} */ (byId("replay-speed")).value) || 1;
    clockMs = Math.min(rec.duration, clockMs + (now - lastTick) * speed);
    if (clockMs >= rec.duration) playing = false;
    follow();
  }
  lastTick = now;
  requestAnimationFrame(tick);
}

function seekTo(ms) {
  clockMs = Math.max(0, Math.min(rec.duration, ms));
  follow();
}

function togglePlay() {
  playing = !playing;
  if (playing && clockMs >= rec.duration) clockMs = 0;
  follow();
}

function wire() {
  byId("replay-play").addEventListener("click", togglePlay);
  byId("replay-seek").addEventListener("input", (e) => seekTo(Number(/** @type {HTMLInputElement} */ (e.target).value) * 1000));
  byId("replay-speed").addEventListener("change", follow);
  document.addEventListener("keydown", (e) => {
    const target = /** @type {HTMLElement} */ (e.target);
    if (target && ["INPUT", "SELECT", "TEXTAREA"].includes(target.tagName)) return;
    if (e.key === "k" || (e.key === " " && target.tagName !== "BUTTON")) {
      e.preventDefault();
      togglePlay();
    } else if (e.key === "ArrowRight" || e.key === "l") seekTo(clockMs + 5000);
    else if (e.key === "ArrowLeft" || e.key === "j") seekTo(clockMs - 5000);
  });
  onLanguageChange(renderAt);
}

async function main() {
  await initI18n();
  wire();
  try {
    const { recordings } = await http("GET", `/api/lessons/${encodeURIComponent(lessonId)}/recordings`);
    byId("loading").hidden = true;
    const recording = (recordings || [])[recordings.length - 1];
    if (!recording) {
      byId("replay-empty").hidden = false;
      return;
    }
    const lines = await (await fetch(recording.timeline_url, { credentials: "same-origin" })).text();
    rec.timeline = lines.split("\n").filter(Boolean).flatMap((line) => {
      try {
        return [JSON.parse(line)];
      } catch {
        return []; // a line cut short by a crash
      }
    });
    rec.duration = recording.duration_ms;
    // The presenter: the first camera, screen and microphone recorded.
    const seen = new Set();
    rec.tracks = recording.tracks.filter((tr) => elements[tr.source] && !seen.has(tr.source) && seen.add(tr.source));
    for (const track of rec.tracks) {
      const el = media(track.source);
      el.src = track.url;
      el.hidden = false;
      el.preload = "auto";
    }
    const seek = /** @type {HTMLInputElement} */ (byId("replay-seek"));
    seek.max = String(rec.duration / 1000);
    byId("replay").hidden = false;
    follow();
    requestAnimationFrame((now) => {
      lastTick = now;
      tick(now);
    });
  } catch (e) {
    byId("loading").hidden = true;
    showError(e);
  }
}

main();
