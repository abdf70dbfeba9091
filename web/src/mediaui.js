// Media controls: the toolbar's mic/camera buttons are off until you may publish that source (by
// role or grant) and say how to ask; presenters and hosts also get screen sharing; others' cameras and
// sound can be turned off; your connection reading. The WebRTC work is done by media.js
// (MediaSession), the tiles are drawn by tiles.js; this module wires them to the page.
import { announce, byId, clearError, showError } from "./dom.js";
import { t } from "./i18n.js";
import { MediaSession } from "./media.js";
import { median } from "./framedelay.js";
import { QualityMonitor } from "./quality.js";
import { SpeakingWatcher } from "./speaking.js";
import { isStaff, onPeopleChange, state } from "./shared.js";
import { clearTiles, muteTiles, renderTiles, setSpeaking } from "./tiles.js";
import { drawIcons } from "./icons.js";
import { showHint } from "./toolbar.js";

const SOURCES = ["mic", "camera", "screen"];

const media = {
  /** @type {MediaSession|null} */ session: null,
  /** @type {QualityMonitor|null} */ monitor: null,
  /** @type {SpeakingWatcher|null} */ speakingWatcher: null,
  /** @type {string} level last shown, to announce changes only */ level: "",
  /** @type {object|null} the connection the session belongs to */ conn: null,
  /** @type {object[]} others' tiles, as the session last reported them */ tiles: [],
  incomingMuted: false,
  camerasOff: false,
  /** @type {object|null} the last reading, said again in a newly chosen language */ reading: null,
  /** @type {{session: MediaSession, conn: object}|null} started early (startMediaEarly) */
  early: null,
};

function allowed(source) {
  const you = state.you;
  if (!you) return false;
  if (source === "mic") return !!you.mic;
  if (source === "camera") return !!you.camera;
  return isStaff();
}

function publishing(source) {
  try {
    return !!media.session && media.session.publishing(source);
  } catch {
    return false;
  }
}

/** Phones' browsers cannot capture the screen: no button that can only fail (and no room taken). */
function canShareScreen() {
  return !!(navigator.mediaDevices && typeof navigator.mediaDevices.getDisplayMedia === "function");
}

/** Sources a pupil may be granted (shown off until granted, with how to ask). */
const GRANTABLE = ["mic", "camera"];

export function renderMediaControls() {
  const inside = !!state.you;
  for (const source of SOURCES) {
    const el = byId(`publish-${source}`);
    const may = allowed(source);
    // Mic and camera are always on the toolbar: off until granted, saying how to ask. Sharing
    // the screen comes with the role only, so it is shown to those who have it.
    el.hidden =
      !inside || (!may && !GRANTABLE.includes(source)) || (source === "screen" && !canShareScreen());
    const on = may && publishing(source);
    el.setAttribute("aria-pressed", String(on));
    if (may) el.removeAttribute("aria-disabled");
    else el.setAttribute("aria-disabled", "true");
    const action = may ? t(`media_ui.${source}_${on ? "on" : "off"}`) : t(`toolbar.locked_${source}`);
    el.setAttribute("title", `${action} (${el.dataset.key})`);
    const iconEl = el.querySelector("[data-icon]");
    if (iconEl && source !== "screen") {
      // A struck-through icon while off: the state is seen, not only read (aria-pressed).
      /** @type {HTMLElement} */ (iconEl).dataset.icon = on ? source : `${source}-off`;
    }
  }
  drawIcons(byId("toolbar"));
  if (media.reading) showReading(media.reading);
  const cameras = byId("cameras-off");
  cameras.setAttribute("aria-pressed", String(media.camerasOff));
  cameras.textContent = t("media_ui.cameras_toggle");
  const mute = byId("mute-incoming");
  mute.setAttribute("aria-pressed", String(media.incomingMuted));
  mute.textContent = t(media.incomingMuted ? "media_ui.incoming_muted" : "media_ui.mute_incoming");
}

async function toggle(source, el) {
  clearError();
  const session = media.session;
  if (!session) return;
  if (!allowed(source)) {
    // Off until granted: say how to ask instead of failing.
    showHint(t(`toolbar.hint_${source}`));
    return;
  }
  const on = !publishing(source);
  el.disabled = true;
  try {
    await session.setPublishing(source, on);
  } catch (e) {
    showError(e);
  } finally {
    el.disabled = false;
    renderMediaControls();
  }
}

/** Stops publishing what you may no longer publish (a grant ran out or was revoked). */
function dropLostRights() {
  const session = media.session;
  if (!session) return;
  for (const source of SOURCES) {
    if (!allowed(source) && publishing(source)) {
      session.setPublishing(source, false).catch(() => {});
    }
  }
}

export function setupMediaUi() {
  for (const source of SOURCES) {
    const el = /** @type {HTMLButtonElement} */ (byId(`publish-${source}`));
    el.addEventListener("click", () => toggle(source, el));
  }
  const cameras = /** @type {HTMLButtonElement} */ (byId("cameras-off"));
  cameras.addEventListener("click", async () => {
    clearError();
    const off = !media.camerasOff;
    cameras.disabled = true;
    try {
      if (media.session) await media.session.setCamerasReceived(!off);
      media.camerasOff = off;
      announce(t(off ? "media_ui.cameras_off_said" : "media_ui.cameras_on_said"));
    } catch (e) {
      showError(e);
    } finally {
      cameras.disabled = false;
      renderMediaControls();
      renderTiles({ camerasOff: media.camerasOff });
    }
  });
  const mute = byId("mute-incoming");
  mute.addEventListener("click", () => {
    media.incomingMuted = !media.incomingMuted;
    if (media.session) media.session.setIncomingMuted(media.incomingMuted);
    muteTiles(media.incomingMuted);
    renderMediaControls();
  });
  onPeopleChange(() => {
    dropLostRights();
    renderMediaControls();
    renderTiles();
  });
}

/**
 * How late the others see your own video, in seconds ("0.04"), for staff who send video: the
 * median of the delays the viewers' pages measure on the frames they show (framedelay.js),
 * which reach staff as participant_quality. null when you send no video or nobody reported.
 */
function seenLate() {
  const session = media.session;
  if (!session || !isStaff() || !["camera", "screen"].some((s) => session.publishing(s))) {
    return null;
  }
  const you = state.you && state.you.id;
  const delays = [...state.quality.entries()]
    .filter(([id, q]) => id !== you && q && typeof q.delay_ms === "number")
    .map(([, q]) => q.delay_ms);
  const ms = median(delays);
  return ms === null ? null : (ms / 1000).toFixed(2);
}

/** Shows your own connection reading (null: no media connection up). */
function showReading(r) {
  media.reading = r;
  const el = byId("quality");
  el.hidden = !r;
  if (!r) return;
  el.dataset.level = r.level;
  el.dataset.delayMs = String(r.delay_ms);
  el.dataset.readAt = String(Math.round(performance.now()));
  el.textContent = t("quality.line", {
    level: t(`quality.${r.level}`),
    delay: r.delay_ms,
    loss: r.loss_pct,
  });
  if (r.level === "poor" && !media.camerasOff) el.textContent += ` ${t("quality.hint_cameras")}`;
  const seen = seenLate();
  if (seen !== null) el.textContent += ` · ${t("quality.seen_late", { seconds: seen })}`;
  // Screen readers hear a change of level, not every two-second update.
  if (media.level && media.level !== r.level) {
    announce(t("quality.changed", { level: t(`quality.${r.level}`) }));
  }
  media.level = r.level;
}

/**
 * Starts the media session of a connection the one-click try let in, before the page has
 * its strings and the room's facts: the server's offer is answered at once and ICE and DTLS
 * come up while the page still renders (docs/entry.md). startSession() adopts it.
 */
export function startMediaEarly(conn) {
  if (media.session || media.early) return;
  const session = new MediaSession(conn, { iceServers: conn.iceServers || [] });
  session.camerasOff = media.camerasOff;
  media.early = { session, conn };
  session.start().catch((e) => console.error(e)); // eslint-disable-line no-console
}

/** Settles once the early session (if any) answered the offers that came with the join. */
export function earlyMediaAnswered() {
  return media.early ? media.early.session.answeredEarly() : Promise.resolve();
}

/** Starts the media session for this connection (after its first room_state). */
function startSession(conn) {
  if (media.session && media.conn === conn) return;
  const early = media.early && media.early.conn === conn ? media.early.session : null;
  if (early) media.early = null; // adopted below, not closed with the rest
  closeMedia();
  const session = early || new MediaSession(conn, { iceServers: conn.iceServers || [] });
  media.session = session;
  media.conn = conn;
  session.on("tiles", (tiles) => {
    if (media.session !== session) return;
    media.tiles = Array.isArray(tiles) ? tiles : [];
    renderTiles({ tiles: media.tiles });
  });
  session.on("publishing", () => {
    renderMediaControls();
    renderTiles({ local: session.localTracks() });
  });
  session.on("error", (e) => showError(e));
  if (media.incomingMuted) session.setIncomingMuted(true);
  // A new session (rejoined) keeps the choice: the first media_start tells the server.
  session.camerasOff = media.camerasOff;
  media.monitor = new QualityMonitor(
    session,
    showReading,
    (r) => {
      // A reading that does not arrive is not worth an error message; the next one follows.
      conn.request("media_quality", r).catch(() => {});
    },
    // Others' video shown to us: a screen always, cameras unless we turned them off.
    () => media.tiles.some((t) => t.kind === "video" && (t.source === "screen" || !media.camerasOff)),
    // Each received video's capture-time line: the page dates its frames by them (framedelay.js).
    () => conn.request("media_clock", {}).then((ack) => ack.capture),
  );
  media.monitor.start();
  media.speakingWatcher = new SpeakingWatcher(session, () => media.tiles, setSpeaking);
  media.speakingWatcher.start();
  if (early) {
    session.emitTiles(); // what it already receives, now that the page listens
    return;
  }
  session.start().catch((e) => {
    if (media.session === session) showError(e);
  });
}

export function bindMediaUi(conn) {
  conn.on("room_state", () => {
    startSession(conn);
    renderMediaControls();
  });
}

/** Closes the media session (leaving, ended); one started early for `keep` stays. */
export function closeMedia(keep = null) {
  if (media.early && media.early.conn !== keep) {
    media.early.session.close(); // started early, never shown
    media.early = null;
  }
  const session = media.session;
  media.session = null;
  media.conn = null;
  if (media.monitor) media.monitor.stop();
  media.monitor = null;
  if (media.speakingWatcher) media.speakingWatcher.stop();
  media.speakingWatcher = null;
  media.level = "";
  media.reading = null;
  const quality = document.getElementById("quality");
  if (quality) quality.hidden = true;
  media.tiles = [];
  clearTiles();
  if (session) {
    try {
      session.close();
    } catch (e) {
      console.error(e); // eslint-disable-line no-console
    }
  }
}
