// The participant list (with hand, mic, camera, presenter and chat-muted marks and the per-person
// actions) and the host's lobby list.
import { byId, h } from "./dom.js";
import { language, t } from "./i18n.js";
import {
  act,
  button,
  focusedControl,
  isHost,
  isMe,
  isStaff,
  restoreFocus,
  sortedParticipants,
  state,
} from "./shared.js";
import { mayWritePrivately, startPrivateChat } from "./chat.js";
import { grantSeconds } from "./hands.js";
import { icon } from "./icons.js";

function flag(cls, text, iconName) {
  return h("span", { class: `flag flag-${cls}` }, iconName ? icon(iconName) : null, text);
}

function flags(p) {
  const out = [];
  if (isStaff()) {
    const hand = state.hands.find((entry) => entry.id === p.id);
    if (hand) out.push(flag("hand", t("people.hand", { position: hand.position }), "hand"));
  } else if (isMe(p.id) && state.handPosition) {
    out.push(flag("hand", t("people.hand", { position: state.handPosition }), "hand"));
  }
  if (p.mic) out.push(flag("mic", t("people.mic")));
  if (p.camera) out.push(flag("camera", t("people.camera")));
  if (p.granted_until) {
    const until = new Date(p.granted_until * 1000).toLocaleTimeString(language(), {
      hour: "2-digit",
      minute: "2-digit",
    });
    out.push(flag("until", t("people.granted_until", { time: until })));
  }
  if (p.chat_muted) out.push(flag("muted", t("people.chat_muted")));
  const quality = isStaff() ? state.quality.get(p.id) : undefined;
  if (quality) out.push(qualityFlag(p.id, quality));
  return out;
}

function qualityFlag(id, q) {
  const el = flag(`quality-${q.level}`, qualityText(q));
  el.dataset.qualityFor = id;
  return el;
}

function qualityText(q) {
  return t(`people.quality_${q.level}`, { delay: q.delay_ms, loss: q.loss_pct });
}

// Clients report at least every 10 s while their media is up: a mark three reports old is about
// a connection that is gone, and goes too.
const QUALITY_STALE_MS = 30_000;
const staleTimers = new Map();

/** A participant's connection reading arrived (staff): update its mark in place. */
export function showQuality(id, q) {
  state.quality.set(id, q);
  window.clearTimeout(staleTimers.get(id));
  staleTimers.set(
    id,
    window.setTimeout(() => {
      staleTimers.delete(id);
      if (state.quality.get(id) === q) {
        state.quality.delete(id);
        renderPeople();
      }
    }, QUALITY_STALE_MS),
  );
  const el = byId("participants").querySelector(`[data-quality-for="${CSS.escape(id)}"]`);
  if (el && el.classList.contains(`flag-quality-${q.level}`)) el.textContent = qualityText(q);
  else renderPeople(); // first reading, or another level: the mark changes colour
}

function hostActions(p) {
  const conn = state.conn;
  const name = p.name;
  const out = [];
  const toPresenter = p.role !== "presenter";
  out.push(
    button(
      t(toPresenter ? "host.make_presenter" : "host.make_participant"),
      "role",
      (el) => act(el, () => conn.setRole(p.id, toPresenter ? "presenter" : "participant")),
      {
        label: t(toPresenter ? "host.make_presenter_label" : "host.make_participant_label", {
          name,
        }),
      },
    ),
  );
  if (p.role === "participant" || p.role === "guest") {
    if (!p.mic) {
      out.push(
        button(
          t("rights.grant_mic"),
          "grant-mic",
          (el) => act(el, () => conn.rightsGrant(p.id, true, !!p.camera, grantSeconds())),
          { label: t("rights.grant_mic_label", { name }) },
        ),
      );
    }
    if (!p.camera) {
      out.push(
        button(
          t("rights.grant_camera"),
          "grant-camera",
          (el) => act(el, () => conn.rightsGrant(p.id, !!p.mic, true, grantSeconds())),
          { label: t("rights.grant_camera_label", { name }) },
        ),
      );
    }
    if (p.mic || p.camera) {
      out.push(
        button(t("rights.revoke"), "revoke", (el) => act(el, () => conn.rightsRevoke(p.id)), {
          label: t("rights.revoke_label", { name }),
        }),
      );
    }
  }
  out.push(
    button(
      t(p.chat_muted ? "chat.unmute" : "chat.mute"),
      "chat-mute",
      (el) => act(el, () => conn.chatMute(p.id, !p.chat_muted)),
      { label: t(p.chat_muted ? "chat.unmute_label" : "chat.mute_label", { name }) },
    ),
  );
  out.push(
    button(t("host.remove"), "remove", (el) => act(el, () => conn.remove(p.id), "participants-title"), {
      label: t("host.remove_label", { name }),
      cls: "small danger",
    }),
  );
  return out;
}

function participantItem(p) {
  const me = isMe(p.id);
  const info = h(
    "div",
    { class: "person" },
    h("span", { class: "person-name", text: p.name }),
    me ? h("span", { class: "muted", text: ` ${t("room.you_marker")}` }) : null,
    " ",
    h("span", { class: `badge badge-${p.role}`, text: t(`role.${p.role}`) }),
    " ",
    ...flags(p),
    p.institution ? h("div", { class: "muted person-institution", text: p.institution }) : null,
  );
  const actions = [];
  if (!me && mayWritePrivately(p)) {
    actions.push(
      button(t("chat.private"), "private", () => startPrivateChat(p.id), {
        label: t("chat.private_label", { name: p.name }),
      }),
    );
  }
  if (isHost() && !me && p.role !== "host") actions.push(...hostActions(p));
  return h(
    "li",
    { class: "person-item", "data-participant": p.id, "data-role": p.role, "data-key": `p:${p.id}` },
    info,
    actions.length ? h("div", { class: "actions" }, ...actions) : null,
  );
}

function knockItem(k) {
  const conn = state.conn;
  return h(
    "li",
    { class: "person-item", "data-knock": k.id, "data-key": `k:${k.id}` },
    h(
      "div",
      { class: "person" },
      h("span", { class: "person-name", text: k.name }),
      " ",
      h("span", { class: "badge", text: t(k.kind === "guest" ? "role.guest" : "host.signed_in") }),
      k.institution ? h("div", { class: "muted person-institution", text: k.institution }) : null,
    ),
    h(
      "div",
      { class: "actions" },
      button(t("host.admit"), "admit", (el) => act(el, () => conn.admit(k.id), "knocks-title"), {
        label: t("host.admit_label", { name: k.name }),
        cls: "small primary",
      }),
      button(t("host.deny"), "deny", (el) => act(el, () => conn.deny(k.id), "knocks-title"), {
        label: t("host.deny_label", { name: k.name }),
        cls: "small danger",
      }),
    ),
  );
}

/** Renders the participant list and (hosts) the lobby, keeping keyboard focus in place. */
export function renderPeople() {
  const list = byId("participants");
  const knocks = byId("knocks");
  const saved = focusedControl(list) || focusedControl(knocks);
  const people = sortedParticipants();
  byId("participants-title").textContent = t("room.participants", { count: people.length });
  list.replaceChildren(...people.map(participantItem));
  if (isHost()) {
    byId("knocks-title").textContent = t("host.lobby_title", { count: state.lobby.length });
    byId("knocks-empty").hidden = state.lobby.length > 0;
    knocks.replaceChildren(...state.lobby.map(knockItem));
  } else {
    knocks.replaceChildren();
  }
  restoreFocus(list, saved);
  restoreFocus(knocks, saved);
}
