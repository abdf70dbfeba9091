// The room page (/r/{id}): runs the connection to the room and hands its events to the
// classroom modules (people.js, chat.js, hands.js, polls.js, layout.js, mediaui.js,
// attendance.js), which share `state` from shared.js; the entry, lobby and ended screens live in
// entry.js. A resume token is kept in sessionStorage so that a reload comes back into the room
// without knocking.
import { api, ProtocolError, RoomConnection } from "./protocol.js";
import { errorText, initI18n, onLanguageChange, t } from "./i18n.js";
import { formatTime } from "./journal_common.js";
import { announce, byId, clearError, showError, showErrorText } from "./dom.js";
import {
  choosePasswordFirst,
  renderEnded,
  renderEntry,
  renderHeader,
  renderLobby,
  show,
  wireEntry,
} from "./entry.js";
import { isHost, onPeopleChange, peopleChanged, state } from "./shared.js";
import { renderPeople, showQuality } from "./people.js";
import { forgetConnection, noteReading, renderConnections } from "./connections.js";
import { bindChat, renderChat, resetChat, setupChat } from "./chat.js";
import { bindHands, renderHands, setupHands } from "./hands.js";
import { bindPolls, renderPolls, resetPolls, setupPolls } from "./polls.js";
import { bindLayout, renderLayout, setupLayout } from "./layout.js";
import {
  bindMediaUi,
  closeMedia,
  renderMediaControls,
  setupMediaUi,
  startMediaEarly,
  earlyMediaAnswered,
} from "./mediaui.js";
import { discardPrewarmed, prewarmSubscribe } from "./media.js";
import { setupAttendance } from "./attendance.js";
import { announceKnocks, renderKnocks, setupKnocks } from "./knocks.js";
import { bindNotices, renderNotices } from "./notices.js";
import { enterRoom, setupPanels } from "./panels.js";
import { renderStageChrome, setupStage } from "./stageview.js";
import { renderToolbar, setupToolbar } from "./toolbar.js";
import { renderTiles } from "./tiles.js";
import { bindDocuments, renderDocuments, setupDocuments } from "./documents.js";
import {
  bindRecording,
  renderEntryRecording,
  renderRecording,
  setupRecording,
} from "./recording.js";

const ACKED_COMMANDS = new Set([
  "join",
  "leave",
  "admit",
  "deny",
  "admit_all",
  "deny_all",
  "set_role",
  "remove",
  "set_guest_policy",
  "chat_send",
  "chat_delete",
  "chat_mute",
  "chat_lock",
  "chat_private",
  "hand_raise",
  "hand_lower",
  "hands_lower_all",
  "rights_grant",
  "rights_revoke",
  "poll_create",
  "poll_launch",
  "poll_close",
  "poll_publish",
  "poll_vote",
  "set_layout",
  // documents.js shows its own refusals (a pointer's is not worth a sentence).
  "document_access",
  "share_document",
  "set_page",
  "set_player",
  "set_pointer",
  "stop_sharing",
  // recording.js shows its own refusals.
  "start_recording",
  "stop_recording",
  // media.js reports its own refusals through MediaSession's "error" event.
  "media_start",
  "media_answer",
  "media_publish",
  "media_unpublish",
  "media_stop",
]);

const roomId = decodeURIComponent(location.pathname.replace(/^\/r\//, "").split("/")[0] || "");
const RESUME_KEY = `sabaq.resume.${roomId}`;

// ---------------------------------------------------------------- resume (this tab only)

/** @returns {{as: string, name?: string, institution?: string, token: string}|null} */
function savedResume() {
  try {
    const data = JSON.parse(sessionStorage.getItem(RESUME_KEY) || "null");
    return data && typeof data.token === "string" && typeof data.as === "string" ? data : null;
  } catch {
    return null;
  }
}

function saveResume(data) {
  try {
    if (data) sessionStorage.setItem(RESUME_KEY, JSON.stringify(data));
    else sessionStorage.removeItem(RESUME_KEY);
  } catch {
    // Storage refused (private mode): a reload asks again.
  }
}

// ---------------------------------------------------------------- rendering
function renderInside() {
  const you = state.you;
  byId("you-name").textContent = you ? you.name : "";
  const youRole = byId("you-role");
  youRole.className = you ? `badge badge-${you.role}` : "badge";
  youRole.textContent = you ? t(`role.${you.role}`) : "";
  const host = isHost();
  byId("host-panel").hidden = !host;
  if (host) {
    /** @type {HTMLSelectElement} */ (byId("policy-select")).value = state.policy;
  }
  renderKnocks();
  renderConnections();
  // The participant list, chat recipients, media buttons and tiles follow (onPeopleChange).
  peopleChanged();
}

/** The lesson has ended and the room stays open for questions until a time: say until when. */
function renderClosing() {
  const el = byId("closing-notice");
  const at = state.closesAt;
  const inside = !!state.you && !state.ended;
  el.hidden = !(at && inside);
  el.textContent = at && inside ? t("room.closing", { time: clockTime(at) }) : "";
}

function clockTime(seconds) {
  // The school's clock when known (the teacher's panel loads it), else the browser's.
  return formatTime(seconds);
}

function renderConnection(status) {
  const el = byId("connection");
  if (status === "reconnecting" || status === "restarting") {
    el.textContent = t(`room.${status}`);
    el.hidden = false;
  } else {
    el.textContent = "";
    el.hidden = true;
  }
}

function renderAll() {
  renderHeader();
  renderEntry();
  renderLobby();
  renderEnded();
  renderInside();
  renderLayout();
  renderRecording();
  renderChat();
  renderHands();
  renderPolls(true);
  renderMediaControls();
  renderTiles();
  renderStageChrome();
  renderToolbar();
  renderDocuments();
  renderConnection(state.conn ? state.conn.status : "idle");
  renderClosing();
  renderNotices();
}

// ---------------------------------------------------------------- connection

function resetRoom(keep = null) {
  state.you = null;
  state.participants = new Map();
  state.lobby = [];
  state.waiting = null;
  state.hands = [];
  state.handPosition = null;
  state.share = null;
  resetChat();
  resetPolls();
  closeMedia(keep); // the one-click try's media, started early, is adopted (mediaui.js)
}

/**
 * The socket opened while the page loads, so that the first join goes out at once. The server
 * takes the session cookie when the socket opens: it is used only by the account it opened as
 * (`user`: that of /api/me, asked at the same moment), not after a sign-in or out on this page.
 * @type {{conn: RoomConnection, user: number|null|undefined}|null}
 */
let preopened = null;

function takePreopened() {
  const early = preopened;
  preopened = null;
  if (!early) return null;
  if (early.user !== (state.user ? state.user.id : null)) {
    early.conn.close();
    return null;
  }
  return early.conn;
}

/** A connection of this page with the room's handlers on it: a new one, or `given` (the
 * one-click try, whose held events then reach the handlers). */
function connect(given) {
  if (state.conn) state.conn.close();
  const conn = given || takePreopened() || new RoomConnection(roomId);
  state.conn = conn;
  resetRoom(conn);
  state.ended = null;

  // The room's own handlers run first, then the classroom modules'.
  conn.on("status", ({ status }) => {
    if (state.conn !== conn) return;
    renderConnection(status);
  });
  conn.on("room_state", (msg) => {
    state.you = msg.you || null;
    state.participants = new Map((msg.participants || []).map((p) => [p.id, p]));
    if (state.you && !state.participants.has(state.you.id)) {
      state.participants.set(state.you.id, state.you);
    }
    state.policy = (msg.room && msg.room.guest_policy) || state.policy;
    state.closesAt = msg.room && typeof msg.room.closes_at === "number" ? msg.room.closes_at : null;
    if (msg.room && msg.room.title && state.room) state.room.title = msg.room.title;
    const before = state.lobby;
    state.lobby = msg.lobby || [];
    state.waiting = null;
    clearError();
    renderHeader();
    renderInside();
    announceKnocks(before, state.lobby);
    renderClosing();
    // Focus to the top of the room (its hidden heading), never to a list far down: on a phone
    // that scrolled the teacher's video away and Chromium paused it.
    show("inside", "inside-title");
    enterRoom();
  });
  conn.on("room_closing", ({ closes_at: at }) => {
    if (typeof at !== "number") return;
    state.closesAt = at;
    renderClosing();
    announce(t("room.closing", { time: clockTime(at) }));
  });
  bindLayout(conn);
  bindChat(conn);
  bindHands(conn);
  bindPolls(conn);
  bindMediaUi(conn);
  bindDocuments(conn);
  bindRecording(conn);
  conn.on("resume", ({ token }) => {
    const saved = savedResume();
    if (conn.joinRequest) {
      const { as, name, institution } = conn.joinRequest;
      saveResume({ as, name, institution, token });
    } else if (saved) {
      saveResume({ ...saved, token });
    }
  });
  conn.on("participant_joined", ({ participant }) => {
    if (!participant) return;
    state.participants.set(participant.id, participant);
    renderInside();
  });
  conn.on("participant_updated", ({ participant }) => {
    if (!participant) return;
    state.participants.set(participant.id, participant);
    // What changed for you is shown and read out by notices.js.
    if (state.you && participant.id === state.you.id) state.you = participant;
    renderInside();
  });
  conn.on("participant_quality", (q) => {
    if (q && typeof q.participant === "string" && state.participants.has(q.participant)) {
      showQuality(q.participant, q);
      noteReading(q.participant, q);
    }
  });
  conn.on("participant_left", ({ participant }) => {
    if (typeof participant !== "string") return;
    state.participants.delete(participant);
    state.quality.delete(participant);
    forgetConnection(participant);
    renderInside();
  });
  conn.on("lobby", ({ lobby }) => {
    const before = state.lobby;
    state.lobby = Array.isArray(lobby) ? lobby : [];
    renderInside();
    announceKnocks(before, state.lobby);
  });
  conn.on("policy_changed", ({ guest_policy: policy }) => {
    if (typeof policy !== "string") return;
    state.policy = policy;
    renderInside();
    if (isHost()) announce(t("host.policy_now", { policy: t(`policy.${policy}`) }));
  });
  conn.on("waiting", (msg) => {
    state.waiting = {
      position: Number(msg.position) || 0,
      host_present: msg.host_present !== false,
    };
    renderLobby();
    show("lobby", "lobby-title");
  });
  conn.on("admitted", () => announce(t("lobby.admitted")));
  // Refusals of our own commands arrive twice (ack and `error` event); the ack is shown.
  conn.on("error", (e) => {
    if (!ACKED_COMMANDS.has(e.command)) showError(e);
  });
  conn.on("ended", (msg) => {
    if (state.conn !== conn) return;
    const detail = msg.detail && typeof msg.detail.reason === "string" ? msg.detail.reason : undefined;
    state.ended = { reason: msg.reason, detail, host: isHost() };
    state.closesAt = null;
    if (msg.reason === "signed_out") {
      state.user = null; // the cookie no longer signs anyone in: the entry offers sign-in
      renderEntry();
    }
    saveResume(null);
    resetRoom();
    renderEnded();
    renderConnection("idle");
    renderClosing();
    show("ended", "ended-title");
  });
  // Last: notices compare with what the handlers above made of `state` and the page.
  bindNotices(conn);
  conn.release(); // events that came before the page listened (the one-click try)
  return conn;
}

async function join(as, name, institution, resume) {
  clearError();
  const conn = connect();
  try {
    // The server opens our media with the join: the teacher's video needs no second round trip.
    const ack = await conn.join(as, name, institution, resume, { media: true });
    if (state.conn !== conn) return;
    if (ack.status === "waiting" && conn.status !== "joined") {
      if (!state.waiting) state.waiting = { position: 0, host_present: true };
      renderLobby();
      show("lobby", "lobby-title");
    }
  } catch (e) {
    if (state.conn !== conn || conn.status === "ended") return;
    if (e instanceof ProtocolError && e.code === "denied") {
      state.ended = { reason: "denied", detail: "policy" };
      renderEnded();
      show("ended", "ended-title");
      return;
    }
    if (e instanceof ProtocolError && e.code === "room_closed") {
      // The lesson ended before we came (an old link, a reload): the same screen as for those in it.
      saveResume(null);
      state.ended = { reason: "lesson_ended" };
      renderEnded();
      show("ended", "ended-title");
      return;
    }
    throw e;
  }
}

// ---------------------------------------------------------------- wiring

function wire() {
  wireEntry(join);

  const policySelect = /** @type {HTMLSelectElement} */ (byId("policy-select"));
  policySelect.addEventListener("change", async () => {
    clearError();
    const wanted = policySelect.value;
    try {
      if (!state.conn) return;
      await state.conn.setGuestPolicy(wanted);
      state.policy = wanted;
    } catch (e) {
      showError(e);
      policySelect.value = state.policy;
    }
  });

  onPeopleChange(renderPeople);
  setupChat();
  setupHands();
  setupPolls();
  setupLayout();
  setupRecording();
  setupKnocks();
  setupMediaUi();
  setupAttendance();
  setupStage();
  setupPanels();
  setupToolbar();
  setupDocuments();
  onLanguageChange(renderAll);
  window.addEventListener("pagehide", () => {
    if (state.conn) state.conn.close();
  });
}

/** How long the page leaves its main thread to the one-click try before drawing anyway. */
const WAY_IN_FIRST_MS = 1000;

/** Refusals of the one-click try that only mean "not straight in": the entry is shown. */
const NOT_STRAIGHT_IN = new Set(["not_expected", "not_signed_in", "password_change_required"]);

async function main() {
  // All at once: the strings, the room's facts and who we are, and the socket. Nothing of the
  // way in waits for another part of it (docs/entry.md).
  const saved = savedResume();
  const early = new RoomConnection(roomId);
  early.hold(); // its events wait for the page's handlers (connect(), once the strings are in)
  early.preconnect();
  // The one-click try, sent the moment the socket is open, before the page knows who we are:
  // the room's teacher or a pupil of its class is in; anyone else is refused, nothing left.
  const direct = saved
    ? null
    : early.join("user", undefined, undefined, undefined, { media: true, knock: false });
  // Its subscribe side gathers now, while the join goes out (media.js).
  if (direct) prewarmSubscribe();
  // Let in: answer the server's offer now, not once the page is drawn (ICE and DTLS come up
  // meanwhile); the room's media code adopts the session (mediaui.js).
  if (direct) direct.then(() => startMediaEarly(early)).catch(() => {}); // looked at below
  else preopened = { conn: early, user: undefined };
  const facts = Promise.all([api.room(roomId), api.me()]);
  facts.catch(() => {}); // reported below, once the strings are in
  const strings = initI18n();
  if (direct) {
    // The way in first: until the try is answered (and a let-in page's answer to the server's
    // offer is sent) the page's main thread is left to it — each socket packet on the way in
    // waited behind the page's drawing, 40–100 ms in all. Drawing comes after, while ICE and
    // DTLS come up. Capped, so a server that does not answer does not keep the page blank.
    const wayIn = direct.then(() => earlyMediaAnswered()).catch(() => {});
    await Promise.race([wayIn, new Promise((resolve) => setTimeout(resolve, WAY_IN_FIRST_MS))]);
  }
  await strings;
  wire();
  try {
    const [room, user] = await facts;
    state.room = room;
    state.user = user;
    renderEntryRecording();
    if (preopened) preopened.user = user ? user.id : null;
    if (user && user.must_change_password) {
      choosePasswordFirst();
      return;
    }
  } catch (e) {
    early.close();
    closeMedia();
    preopened = null;
    renderHeader();
    byId("loading").hidden = true;
    showErrorText(errorText(e));
    return;
  }
  renderAll();
  if (saved) {
    // A reload inside the room: come back as who we were, without knocking again.
    try {
      await join(saved.as, saved.name, saved.institution, saved.token);
      return;
    } catch (e) {
      saveResume(null);
      showError(e);
    }
  }
  if (direct) {
    try {
      await direct;
      // The server's offer came before the join's ack: answer it before drawing the room (a
      // long task), so ICE and DTLS come up while the room draws (docs/entry.md).
      await earlyMediaAnswered();
      // In: the room's handlers take over, and get what came meanwhile (held), in order. Only
      // then — the modules' bindings are per connection and must not be made for a refused try.
      connect(early);
      return;
    } catch (e) {
      discardPrewarmed(); // not let in: no subscribe side for now
      if (e instanceof ProtocolError && e.code === "room_closed") {
        // The lesson ended before we came (an old link, a reload): as for those who were in it.
        state.ended = { reason: "lesson_ended" };
        renderEnded();
        show("ended", "ended-title");
        return;
      }
      if (!(e instanceof ProtocolError && NOT_STRAIGHT_IN.has(e.code))) showError(e);
    }
  }
  show("entry");
}

main().catch((e) => {
  console.error(e); // eslint-disable-line no-console
});
