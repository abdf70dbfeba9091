// Lesson recording in the room page (docs/recordings.md): the indicator everyone sees, the
// host's Start/Stop button, and the notice on the entry and lobby screens before anyone enters.
import { t } from "./i18n.js";
import { announce, byId, clearError, showError, showErrorText } from "./dom.js";
import { state } from "./shared.js";

/** @type {{on: boolean, since: number|null, by: string|null, allowed: boolean, rule?: string, stopped_because: string|null}} */
let recording = { on: false, since: null, by: null, allowed: false, stopped_because: null };

/** Whether you may start and stop it under the school's rule (the server is the judge). */
function mayRecord() {
  const you = state.you;
  if (!you || !recording.allowed) return false;
  if (you.role === "host") return true;
  return recording.rule === "presenters" && you.role === "presenter";
}

export function renderRecording() {
  const indicator = byId("recording-indicator");
  indicator.hidden = !recording.on;
  byId("recording-text").textContent = recording.on ? t("recording.on") : "";
  indicator.title = recording.on ? t("recording.entry_notice") : "";
  const button = /** @type {HTMLButtonElement} */ (byId("recording-toggle"));
  button.hidden = !mayRecord();
  button.textContent = t(recording.on ? "recording.stop" : "recording.start");
  button.setAttribute("aria-pressed", recording.on ? "true" : "false");
}

/** The entry and lobby screens: told before entering that the lesson is being recorded. */
export function renderEntryRecording() {
  const on = !!(state.room && state.room.recording);
  byId("entry-recording").hidden = !on;
  byId("lobby-recording").hidden = !on;
}

function stoppedText(reason) {
  if (reason === "quota") return t("recording.stopped_quota");
  if (reason === "disk_full") return t("recording.stopped_disk_full");
  if (reason === "error") return t("recording.stopped_error");
  return t("recording.stopped");
}

export function setupRecording() {
  const button = /** @type {HTMLButtonElement} */ (byId("recording-toggle"));
  button.addEventListener("click", async () => {
    clearError();
    button.disabled = true;
    try {
      await state.conn.request(recording.on ? "stop_recording" : "start_recording", {});
    } catch (e) {
      showError(e);
    } finally {
      button.disabled = false;
    }
  });
}

export function bindRecording(conn) {
  conn.on("room_state", (msg) => {
    if (msg.recording) recording = msg.recording;
    renderRecording();
  });
  conn.on("recording", ({ recording: next }) => {
    if (!next) return;
    const was = recording.on;
    recording = next;
    renderRecording();
    if (next.on && !was) announce(t("recording.started_by", { name: next.by || "" }));
    else if (!next.on && was) {
      const text = stoppedText(next.stopped_because);
      announce(text);
      if (next.stopped_because && next.stopped_because !== "stopped") {
        showErrorText(text); // the host must know: the alert stays until dismissed
      }
    }
  });
}
