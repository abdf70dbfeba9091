// The chat panel: public and private messages, history, host moderation, font size, and a
// rate-limited announcement of new messages for screen readers. Message text is only ever
// put in with textContent; http(s) links become <a> elements built here.
import { announce, byId, clearError, focusOn, h, showError } from "./dom.js";
import { language, t } from "./i18n.js";
import {
  act,
  button,
  isHost,
  isMe,
  onPeopleChange,
  peopleChanged,
  sortedParticipants,
  state,
} from "./shared.js";
import { openPanel } from "./panels.js";

const SIZES = ["small", "normal", "large"];
const SIZE_KEY = "sabaq.chatSize";
const ANNOUNCE_GAP_MS = 3000;
const URL_RE = /\bhttps?:\/\/[^\s<>"']+/gi;

const chat = {
  /** @type {Map<number, object>} */ messages: new Map(),
  publicLocked: false,
  /** who may write privately to whom: "hosts" | "staff" | "classmates" (rooms/chat_policy.py) */
  privateChat: "staff",
  /** @type {Record<string, string[]>} for each role, the roles it may write to privately */
  privateTo: {},
  /** pending announcement: messages not yet read out */
  pending: /** @type {object[]} */ ([]),
  lastAnnounce: 0,
  /** @type {number|null} */ timer: null,
  /** @type {Map<string, string>} names of chosen recipients, for when they leave */
  names: new Map(),
};

// ---------------------------------------------------------------- text → nodes

/** The message text as nodes: plain text, with http(s) URLs as safe links. */
export function linkify(text) {
  const nodes = [];
  let last = 0;
  for (const match of text.matchAll(URL_RE)) {
    let url = match[0];
    // Trailing punctuation belongs to the sentence, not the link.
    const trail = /[.,;:!?)\]]+$/.exec(url);
    if (trail) url = url.slice(0, -trail[0].length);
    let parsed = null;
    try {
      parsed = new URL(url);
    } catch {
      parsed = null;
    }
    if (!parsed || (parsed.protocol !== "http:" && parsed.protocol !== "https:")) continue;
    const start = match.index ?? 0;
    if (start > last) nodes.push(document.createTextNode(text.slice(last, start)));
    const a = document.createElement("a");
    a.href = parsed.href;
    a.textContent = url;
    a.rel = "noopener noreferrer";
    a.target = "_blank";
    nodes.push(a);
    last = start + url.length;
  }
  if (last < text.length) nodes.push(document.createTextNode(text.slice(last)));
  return nodes;
}

function timeOf(at) {
  return new Date(at * 1000).toLocaleTimeString(language(), { hour: "2-digit", minute: "2-digit" });
}

function messageItem(m) {
  const from = m.from || {};
  const head = h(
    "div",
    { class: "chat-head" },
    h("span", { class: "chat-from", text: from.name || "" }),
    m.to
      ? h("span", {
          class: "chat-private",
          text: isMe(m.to.id)
            ? t("chat.private_to_you")
            : t("chat.private_to", { name: m.to.name }),
        })
      : null,
    h("time", { class: "chat-time muted", text: timeOf(m.at) }),
  );
  const body = m.deleted
    ? h("p", { class: "chat-text muted", text: t("chat.deleted") })
    : h("p", { class: "chat-text" }, ...linkify(String(m.text)));
  const item = h(
    "li",
    { class: m.to ? "chat-item chat-item-private" : "chat-item", "data-message": m.id, "data-key": `m:${m.id}` },
    head,
    body,
  );
  if (isHost() && !m.deleted) {
    item.append(
      button(t("chat.delete"), "delete", (el) => act(el, () => state.conn.chatDelete(m.id), "tab-chat"), {
        label: t("chat.delete_label", { name: from.name || "" }),
        cls: "small danger chat-delete",
      }),
    );
  }
  return item;
}

// ---------------------------------------------------------------- rendering

function renderStatus() {
  const you = state.you;
  const notes = [];
  if (you && you.chat_muted) notes.push(t("chat.you_are_muted"));
  if (chat.publicLocked) notes.push(t("chat.public_locked"));
  const el = byId("chat-state");
  el.textContent = notes.join(" ");
  el.hidden = !notes.length;
  byId("chat-rule").textContent = t(`chat.rule_${chat.privateChat}`);
  const host = isHost();
  byId("chat-host").hidden = !host;
  if (host) {
    /** @type {HTMLInputElement} */ (byId("chat-lock-public")).checked = chat.publicLocked;
    /** @type {HTMLSelectElement} */ (byId("chat-private")).value = chat.privateChat;
    const id = encodeURIComponent(state.room ? state.room.id : "");
    byId("export-chat-csv").setAttribute("href", `/api/rooms/${id}/chat.csv`);
    byId("export-chat-txt").setAttribute("href", `/api/rooms/${id}/chat.txt`);
    byId("export-polls-csv").setAttribute("href", `/api/rooms/${id}/polls.csv`);
  }
}

/** How `private_to` names someone: their standing at the school and role in the room. */
const endOf = (p) => `${p.standing}/${p.role}`;

/** Whether the room's rule lets you write privately to participant `p` (the server decides). */
export function mayWritePrivately(p) {
  const you = state.you;
  if (!you || !p || p.id === you.id) return false;
  const allowed = chat.privateTo[endOf(you)];
  return Array.isArray(allowed) && allowed.includes(endOf(p));
}

function renderRecipients() {
  const select = /** @type {HTMLSelectElement} */ (byId("chat-to"));
  const wanted = select.value;
  const options = [h("option", { value: "", text: t("chat.to_everyone") })];
  let kept = false;
  for (const p of sortedParticipants()) {
    if (isMe(p.id)) continue;
    chat.names.set(p.id, p.name);
    if (!mayWritePrivately(p)) continue; // only the people the room's rule lets you reach
    options.push(h("option", { value: p.id, text: t("chat.to_person", { name: p.name }) }));
    kept = kept || p.id === wanted;
  }
  if (wanted && !kept) {
    // The chosen recipient left, or the rule changed: never fall back to "everyone" behind the
    // writer's back; the server refuses if they try, and they can pick someone else.
    const name = chat.names.get(wanted) || "";
    const key = state.participants.has(wanted) ? "chat.to_person_not_allowed" : "chat.to_person_left";
    options.push(h("option", { value: wanted, text: t(key, { name }) }));
  }
  select.replaceChildren(...options);
  select.value = wanted;
}

function renderMessages() {
  const log = byId("chat-log");
  const nearBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
  const items = [...chat.messages.values()].sort((a, b) => a.id - b.id).map(messageItem);
  log.replaceChildren(...items);
  byId("chat-empty").hidden = items.length > 0;
  if (nearBottom) log.scrollTop = log.scrollHeight;
}

export function renderChat() {
  renderStatus();
  renderRecipients();
  renderMessages();
}

function applySize(size) {
  const log = byId("chat-log");
  for (const s of SIZES) log.classList.toggle(`chat-size-${s}`, s === size);
}

// ---------------------------------------------------------------- announcements

function flushAnnouncement() {
  chat.timer = null;
  if (!chat.pending.length) return;
  const region = byId("chat-news");
  const [first] = chat.pending;
  const text =
    chat.pending.length === 1
      ? t(first.to ? "chat.news_private" : "chat.news_one", {
          name: first.from.name,
          text: String(first.text).slice(0, 200),
        })
      : t("chat.news_many", { count: chat.pending.length });
  chat.pending = [];
  chat.lastAnnounce = Date.now();
  region.textContent = text;
}

function announceMessage(m) {
  if (!m.from || isMe(m.from.id)) return;
  chat.pending.push(m);
  if (chat.timer !== null) return;
  const wait = Math.max(0, chat.lastAnnounce + ANNOUNCE_GAP_MS - Date.now());
  chat.timer = window.setTimeout(flushAnnouncement, wait);
}

// ---------------------------------------------------------------- actions

/** Opens a private conversation with one participant: selects them and focuses the input. */
export function startPrivateChat(participantId) {
  renderRecipients();
  const select = /** @type {HTMLSelectElement} */ (byId("chat-to"));
  select.value = participantId;
  // Started from the People panel: the chat's tab comes forward to write in.
  openPanel("chat");
  focusOn(byId("chat-text"));
}

/** Wires the static chat controls once. */
export function setupChat() {
  const form = /** @type {HTMLFormElement} */ (byId("chat-form"));
  const input = /** @type {HTMLTextAreaElement} */ (byId("chat-text"));
  const send = async () => {
    clearError();
    const text = input.value;
    if (!text.trim()) {
      showError({ code: "empty" });
      return;
    }
    if (!state.conn) return;
    const to = /** @type {HTMLSelectElement} */ (byId("chat-to")).value || undefined;
    const submit = /** @type {HTMLButtonElement} */ (byId("chat-send"));
    submit.disabled = true;
    try {
      await state.conn.chatSend(text, to);
      input.value = "";
    } catch (e) {
      showError(e);
    } finally {
      submit.disabled = false;
      input.focus();
    }
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    send();
  });
  // Enter sends, Shift+Enter makes a new line.
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      send();
    }
  });

  const size = /** @type {HTMLSelectElement} */ (byId("chat-size"));
  let saved = "normal";
  try {
    saved = localStorage.getItem(SIZE_KEY) || "normal";
  } catch {
    saved = "normal";
  }
  size.value = SIZES.includes(saved) ? saved : "normal";
  applySize(size.value);
  size.addEventListener("change", () => {
    applySize(size.value);
    try {
      localStorage.setItem(SIZE_KEY, size.value);
    } catch {
      // Private mode: the choice lasts for this page only.
    }
  });

  const lock = /** @type {HTMLInputElement} */ (byId("chat-lock-public"));
  lock.addEventListener("change", async () => {
    clearError();
    try {
      await state.conn.chatLock({ public: lock.checked });
    } catch (e) {
      showError(e);
      lock.checked = chat.publicLocked;
    }
  });
  const privateChat = /** @type {HTMLSelectElement} */ (byId("chat-private"));
  privateChat.addEventListener("change", async () => {
    clearError();
    try {
      await state.conn.chatPrivate(privateChat.value);
    } catch (e) {
      showError(e);
      privateChat.value = chat.privateChat;
    }
  });
  onPeopleChange(() => {
    renderRecipients();
    renderStatus();
  });
}

/** Listens to one connection's chat events. */
export function bindChat(conn) {
  conn.on("room_state", (msg) => {
    const c = msg.chat || {};
    chat.messages = new Map((c.messages || []).map((m) => [m.id, m]));
    applySettings(c);
    renderChat();
    peopleChanged(); // the people list (rendered before this handler) follows the rule too
  });
  conn.on("chat_message", ({ message }) => {
    if (!message || typeof message.id !== "number") return;
    chat.messages.set(message.id, message);
    renderMessages();
    announceMessage(message);
  });
  conn.on("chat_deleted", ({ id }) => {
    const m = chat.messages.get(id);
    if (!m) return;
    chat.messages.set(id, { ...m, deleted: true, text: "" });
    renderMessages();
  });
  conn.on("chat_settings", (msg) => {
    const before = chat.privateChat;
    applySettings(msg);
    renderStatus();
    renderRecipients();
    peopleChanged(); // the people list's "Message privately" buttons follow the rule
    if (chat.privateChat !== before) announce(t(`chat.rule_${chat.privateChat}`));
  });
}

const PRIVATE_SETTINGS = ["hosts", "staff", "classmates"];

function applySettings(c) {
  chat.publicLocked = !!c.public_locked;
  chat.privateChat = PRIVATE_SETTINGS.includes(c.private_chat) ? c.private_chat : "staff";
  chat.privateTo = c.private_to && typeof c.private_to === "object" ? c.private_to : {};
}

/** Forgets the chat (left the room). */
export function resetChat() {
  chat.messages = new Map();
  chat.publicLocked = false;
  chat.privateChat = "staff";
  chat.privateTo = {};
  chat.pending = [];
  const select = document.getElementById("chat-to");
  if (select instanceof HTMLSelectElement) select.value = "";
}
