// The room page (/r/{id}): choose how to enter, wait in the lobby, then the live participant
// list; hosts also see the lobby, the guest policy and per-participant controls.
import { api, ProtocolError, RoomConnection } from "./protocol.js";
import { errorText, initI18n, onLanguageChange, t } from "./i18n.js";
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
  showOnly,
} from "./dom.js";

const SECTIONS = ["loading", "entry", "lobby", "ended", "inside"];
const ACKED_COMMANDS = new Set([
  "join",
  "leave",
  "admit",
  "deny",
  "set_role",
  "remove",
  "set_guest_policy",
]);
const ROLE_ORDER = { host: 0, presenter: 1, participant: 2, guest: 3 };

const roomId = decodeURIComponent(location.pathname.replace(/^\/r\//, "").split("/")[0] || "");

/** Page state; the DOM is rendered from it. */
const state = {
  /** @type {object|null} */ room: null,
  /** @type {object|null} */ user: null,
  /** @type {RoomConnection|null} */ conn: null,
  /** @type {object|null} */ you: null,
  /** @type {Map<string, object>} */ participants: new Map(),
  /** @type {object[]} */ lobby: [],
  policy: "ask_host",
  /** @type {{position: number, host_present: boolean}|null} */ waiting: null,
  /** @type {{reason: string, detail?: string}|null} */ ended: null,
};

// ---------------------------------------------------------------- rendering

function isHost() {
  return !!state.you && state.you.role === "host";
}

function renderHeader() {
  byId("room-title").textContent = state.room ? state.room.title : t("room.unknown_title");
  document.title = `${state.room ? state.room.title : t("title.room")} · Sabaq`;
  const cls = byId("room-class");
  if (state.room && state.room.class_name) {
    cls.textContent = t("room.class", { name: state.room.class_name });
    cls.hidden = false;
  } else {
    cls.hidden = true;
  }
}

function renderEntry() {
  const signedIn = !!state.user;
  byId("entry-user").hidden = !signedIn;
  for (const el of document.querySelectorAll(".user-name")) {
    el.textContent = signedIn ? state.user.display_name : "";
  }
}

function renderLobby() {
  const pos = state.waiting ? state.waiting.position : null;
  byId("lobby-position").textContent =
    typeof pos === "number" && pos > 0 ? t("lobby.position", { position: pos }) : "";
  byId("lobby-host-absent").hidden = !state.waiting || state.waiting.host_present !== false;
}

function renderEnded() {
  const ended = state.ended;
  if (!ended) return;
  let title = "ended.left_title";
  let text = "ended.left_text";
  if (ended.reason === "denied") {
    title = "ended.denied_title";
    text = ended.detail === "policy" ? "ended.denied_policy_text" : "ended.denied_text";
  } else if (ended.reason === "removed") {
    title = "ended.removed_title";
    text = "ended.removed_text";
  } else if (ended.reason === "disconnected" || ended.reason === "failed") {
    title = "ended.disconnected_title";
    text = "ended.disconnected_text";
  }
  byId("ended-title").textContent = t(title);
  byId("ended-text").textContent = t(text);
  byId("ended-back").textContent = t(ended.reason === "left" ? "ended.enter_again" : "ended.back");
}

function roleBadge(role) {
  return h("span", { class: `badge badge-${role}`, text: t(`role.${role}`) });
}

function sortedParticipants() {
  return [...state.participants.values()].sort(
    (a, b) => (ROLE_ORDER[a.role] ?? 9) - (ROLE_ORDER[b.role] ?? 9),
  );
}

/** Runs a host command from a button; errors go to the alert region. */
async function hostAction(button, fn) {
  clearError();
  const list = button.closest("ul");
  const item = button.closest("li");
  const index = list && item ? [...list.children].indexOf(item) : -1;
  button.disabled = true;
  try {
    await fn();
  } catch (e) {
    showError(e);
  } finally {
    button.disabled = false;
  }
  // If the row went away, keep keyboard focus nearby instead of losing it to <body>.
  if (!button.isConnected && list) {
    const next = list.children[Math.min(index, list.children.length - 1)];
    const target = next ? next.querySelector("button") : null;
    focusOn(target || byId(list.id === "knocks" ? "knocks-title" : "participants-title"));
  }
}

function participantItem(p) {
  const me = state.you && p.id === state.you.id;
  const info = h(
    "div",
    { class: "person" },
    h("span", { class: "person-name", text: p.name }),
    me ? h("span", { class: "muted", text: ` ${t("room.you_marker")}` }) : null,
    " ",
    roleBadge(p.role),
    p.institution ? h("div", { class: "muted person-institution", text: p.institution }) : null,
  );
  const item = h("li", { class: "person-item", "data-participant": p.id, "data-role": p.role }, info);
  if (isHost() && !me && p.role !== "host") {
    const conn = state.conn;
    const toPresenter = p.role !== "presenter";
    const roleButton = h("button", {
      type: "button",
      "data-action": "role",
      class: "small",
      text: t(toPresenter ? "host.make_presenter" : "host.make_participant"),
      "aria-label": t(toPresenter ? "host.make_presenter_label" : "host.make_participant_label", {
        name: p.name,
      }),
    });
    roleButton.addEventListener("click", () =>
      hostAction(roleButton, () => conn.setRole(p.id, toPresenter ? "presenter" : "participant")),
    );
    const removeButton = h("button", {
      type: "button",
      "data-action": "remove",
      class: "small danger",
      text: t("host.remove"),
      "aria-label": t("host.remove_label", { name: p.name }),
    });
    removeButton.addEventListener("click", () => hostAction(removeButton, () => conn.remove(p.id)));
    item.append(h("div", { class: "actions" }, roleButton, removeButton));
  }
  return item;
}

function knockItem(k) {
  const conn = state.conn;
  const admit = h("button", {
    type: "button",
    "data-action": "admit",
    class: "small primary",
    text: t("host.admit"),
    "aria-label": t("host.admit_label", { name: k.name }),
  });
  admit.addEventListener("click", () => hostAction(admit, () => conn.admit(k.id)));
  const deny = h("button", {
    type: "button",
    "data-action": "deny",
    class: "small danger",
    text: t("host.deny"),
    "aria-label": t("host.deny_label", { name: k.name }),
  });
  deny.addEventListener("click", () => hostAction(deny, () => conn.deny(k.id)));
  return h(
    "li",
    { class: "person-item", "data-knock": k.id },
    h(
      "div",
      { class: "person" },
      h("span", { class: "person-name", text: k.name }),
      " ",
      h("span", { class: "badge", text: t(k.kind === "guest" ? "role.guest" : "host.signed_in") }),
      k.institution ? h("div", { class: "muted person-institution", text: k.institution }) : null,
    ),
    h("div", { class: "actions" }, admit, deny),
  );
}

/** Which list button has focus (row id + action), so a re-render can give it back. */
function focusedControl() {
  const el = document.activeElement;
  if (!(el instanceof HTMLElement) || !el.dataset.action) return null;
  const row = el.closest("li");
  if (!row) return null;
  const id = row.getAttribute("data-participant") || row.getAttribute("data-knock");
  return id ? { id, action: el.dataset.action } : null;
}

function restoreFocus(saved) {
  if (!saved) return;
  for (const row of document.querySelectorAll("#participants > li, #knocks > li")) {
    const id = row.getAttribute("data-participant") || row.getAttribute("data-knock");
    if (id !== saved.id) continue;
    const button = row.querySelector(`button[data-action="${saved.action}"]`);
    if (button instanceof HTMLElement) button.focus();
    return;
  }
}

function renderInside() {
  const saved = focusedControl();
  const you = state.you;
  byId("you-name").textContent = you ? you.name : "";
  const youRole = byId("you-role");
  youRole.className = you ? `badge badge-${you.role}` : "badge";
  youRole.textContent = you ? t(`role.${you.role}`) : "";

  const people = sortedParticipants();
  byId("participants-title").textContent = t("room.participants", { count: people.length });
  byId("participants").replaceChildren(...people.map(participantItem));

  const host = isHost();
  byId("host-panel").hidden = !host;
  if (host) {
    const select = /** @type {HTMLSelectElement} */ (byId("policy-select"));
    select.value = state.policy;
    byId("knocks-title").textContent = t("host.lobby_title", { count: state.lobby.length });
    byId("knocks-empty").hidden = state.lobby.length > 0;
    byId("knocks").replaceChildren(...state.lobby.map(knockItem));
  }
  restoreFocus(saved);
}

function renderConnection(status) {
  const el = byId("connection");
  if (status === "reconnecting") {
    el.textContent = t("room.reconnecting");
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
  renderConnection(state.conn ? state.conn.status : "idle");
}

function show(section, focusTarget) {
  const wasHidden = byId(section).hidden;
  showOnly(SECTIONS, section);
  if (wasHidden && focusTarget) focusOn(byId(focusTarget));
}

// ---------------------------------------------------------------- connection

function resetRoom() {
  state.you = null;
  state.participants = new Map();
  state.lobby = [];
  state.waiting = null;
}

function announceNewKnocks(before, after) {
  if (!isHost()) return;
  const known = new Set(before.map((k) => k.id));
  const fresh = after.filter((k) => !known.has(k.id));
  if (!fresh.length) return;
  const text =
    fresh.length === 1
      ? t("host.knock_one", { name: fresh[0].name })
      : t("host.knock_many", { count: fresh.length });
  const region = byId("knock-news");
  region.textContent = text;
}

function connect() {
  if (state.conn) state.conn.close();
  const conn = new RoomConnection(roomId);
  state.conn = conn;
  resetRoom();
  state.ended = null;

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
    if (msg.room && msg.room.title && state.room) state.room.title = msg.room.title;
    const before = state.lobby;
    state.lobby = msg.lobby || [];
    state.waiting = null;
    clearError();
    renderHeader();
    renderInside();
    announceNewKnocks(before, state.lobby);
    show("inside", "participants-title");
  });
  conn.on("participant_joined", ({ participant }) => {
    if (!participant) return;
    state.participants.set(participant.id, participant);
    renderInside();
  });
  conn.on("participant_updated", ({ participant }) => {
    if (!participant) return;
    state.participants.set(participant.id, participant);
    if (state.you && participant.id === state.you.id) {
      const wasRole = state.you.role;
      state.you = participant;
      if (wasRole !== participant.role) {
        announce(t("room.your_role", { role: t(`role.${participant.role}`) }));
      }
    }
    renderInside();
  });
  conn.on("participant_left", ({ participant }) => {
    if (typeof participant !== "string") return;
    state.participants.delete(participant);
    renderInside();
  });
  conn.on("lobby", ({ lobby }) => {
    const before = state.lobby;
    state.lobby = Array.isArray(lobby) ? lobby : [];
    renderInside();
    announceNewKnocks(before, state.lobby);
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
    state.ended = { reason: msg.reason, detail };
    resetRoom();
    renderEnded();
    renderConnection("idle");
    show("ended", "ended-title");
  });
  return conn;
}

async function join(as, name, institution) {
  clearError();
  const conn = connect();
  try {
    const ack = await conn.join(as, name, institution);
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
    throw e;
  }
}

// ---------------------------------------------------------------- wiring

function wire() {
  byId("enter-user").addEventListener("click", async (event) => {
    const button = /** @type {HTMLButtonElement} */ (event.currentTarget);
    button.disabled = true;
    try {
      await join("user");
    } catch (e) {
      showError(e);
    } finally {
      button.disabled = false;
    }
  });

  for (const button of document.querySelectorAll(".signout")) {
    button.addEventListener("click", async () => {
      clearError();
      try {
        await api.signOut();
        state.user = null;
        renderEntry();
        focusOn(byId("signin-login"));
      } catch (e) {
        showError(e);
      }
    });
  }

  const signinForm = /** @type {HTMLFormElement} */ (byId("signin-form"));
  signinForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearError();
    const login = fieldValue(signinForm, "login");
    const password = signinForm.elements.namedItem("password").value;
    if (!login || !password) {
      showError({ code: "credentials_required" });
      focusOn(byId(login ? "signin-password" : "signin-login"));
      return;
    }
    await busy(signinForm, async () => {
      try {
        state.user = await api.signIn(login, password);
        signinForm.reset();
        renderEntry();
        await join("user");
      } catch (e) {
        showError(e);
      }
    });
  });

  const guestForm = /** @type {HTMLFormElement} */ (byId("guest-form"));
  guestForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearError();
    const name = fieldValue(guestForm, "name");
    const institution = fieldValue(guestForm, "institution");
    if (!name || !institution) {
      showError({ code: "name_required" });
      focusOn(byId(name ? "guest-institution" : "guest-name"));
      return;
    }
    if ([...name].length > 64 || [...institution].length > 64) {
      showError({ code: "name_too_long" });
      return;
    }
    await busy(guestForm, async () => {
      try {
        await join("guest", name, institution);
      } catch (e) {
        showError(e);
      }
    });
  });

  byId("leave-queue").addEventListener("click", () => state.conn && state.conn.leave());
  byId("leave-room").addEventListener("click", () => state.conn && state.conn.leave());
  byId("ended-back").addEventListener("click", () => {
    clearError();
    state.ended = null;
    show("entry", "entry-title");
    const first = state.user ? byId("enter-user") : byId("signin-login");
    focusOn(first);
  });

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

  onLanguageChange(renderAll);
  window.addEventListener("pagehide", () => {
    if (state.conn) state.conn.close();
  });
}

async function main() {
  await initI18n();
  wire();
  try {
    const [room, user] = await Promise.all([api.room(roomId), api.me()]);
    state.room = room;
    state.user = user;
  } catch (e) {
    renderHeader();
    byId("loading").hidden = true;
    showErrorText(errorText(e));
    return;
  }
  renderAll();
  show("entry");
}

main().catch((e) => {
  console.error(e); // eslint-disable-line no-console
});
