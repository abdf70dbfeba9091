// Notices for the person at this page: a right granted ("You may speak now — turn on your
// microphone", with the button right there), a countdown while a timed right runs, the host
// changing the layout or the chat. Shown in the banner area and read out by the polite live
// region. What counts as news is decided in news.js.
import { announce, h } from "./dom.js";
import { t } from "./i18n.js";
import { bannerArea } from "./banner.js";
import {
  changeNotices,
  chatLockNotice,
  clock,
  crossedMark,
  layoutNotice,
  noticeText,
  secondsLeft,
} from "./news.js";
import { isHost, state } from "./shared.js";

// A notice stays this long unless closed or followed by another.
const NOTICE_MS = 20_000;
// The controls a notice's action presses (the page's own media buttons).
const ACTIONS = {
  mic: { id: "publish-mic", key: "notice.turn_on_mic" },
  camera: { id: "publish-camera", key: "notice.turn_on_camera" },
};

const seen = {
  /** @type {object|null} your Participant as last seen */ you: null,
  publicLocked: false,
  /** @type {{key: string, action?: string, params?: object}|null} */ notice: null,
  /** @type {number|undefined} */ hideTimer: undefined,
  /** @type {number|undefined} */ tickTimer: undefined,
  /** @type {number|null} */ left: null,
};

function parts() {
  let bar = document.getElementById("notice-bar");
  if (!bar) {
    bar = h(
      "div",
      { id: "notice-bar", class: "notice-bar", "data-testid": "notice", hidden: true },
      h("p", { id: "notice-text", class: "notice-text" }),
      h("span", { id: "notice-actions", class: "actions" }),
    );
    const countdown = h("p", {
      id: "grant-countdown",
      class: "grant-countdown",
      "data-testid": "grant-countdown",
      hidden: true,
    });
    bannerArea().append(bar, countdown);
  }
  return {
    bar,
    text: /** @type {HTMLElement} */ (document.getElementById("notice-text")),
    actions: /** @type {HTMLElement} */ (document.getElementById("notice-actions")),
    countdown: /** @type {HTMLElement} */ (document.getElementById("grant-countdown")),
  };
}

/** The action's button, if the page offers that control to you now. */
function actionControl(action) {
  const spec = action ? ACTIONS[action] : null;
  const el = spec ? document.getElementById(spec.id) : null;
  if (!(el instanceof HTMLButtonElement) || el.hidden || el.disabled) return null;
  if (el.getAttribute("aria-disabled") === "true") return null; // shown, but not yours yet
  return el.getAttribute("aria-pressed") === "true" ? null : el;
}

function renderNotice() {
  const { bar, text, actions } = parts();
  const notice = seen.notice;
  bar.hidden = !notice;
  if (!notice) return;
  text.textContent = noticeText(notice, t);
  const buttons = [];
  const spec = notice.action ? ACTIONS[notice.action] : null;
  if (spec && actionControl(notice.action)) {
    buttons.push(
      h("button", {
        type: "button",
        class: "small primary",
        "data-testid": "notice-action",
        text: t(spec.key),
        on: {
          click: () => {
            const control = actionControl(notice.action);
            if (control) control.click();
            hideNotice();
          },
        },
      }),
    );
  }
  buttons.push(
    h("button", {
      type: "button",
      class: "small notice-close",
      "aria-label": t("notice.dismiss_label"),
      title: t("notice.dismiss_label"),
      text: "×",
      on: { click: hideNotice },
    }),
  );
  actions.replaceChildren(...buttons);
}

function hideNotice() {
  seen.notice = null;
  window.clearTimeout(seen.hideTimer);
  renderNotice();
}

/** Shows a notice and reads it out. */
export function notify(notice) {
  seen.notice = notice;
  renderNotice();
  announce(noticeText(notice, t));
  window.clearTimeout(seen.hideTimer);
  seen.hideTimer = window.setTimeout(hideNotice, NOTICE_MS);
}

// ---------------------------------------------------------------- the countdown

function countdownKey(you) {
  if (you.mic && you.camera) return "notice.countdown_both";
  return you.mic ? "notice.countdown_mic" : "notice.countdown_camera";
}

function tick() {
  const { countdown } = parts();
  const you = state.you;
  const timed = you && you.role !== "host" && you.role !== "presenter" && (you.mic || you.camera);
  const left = timed ? secondsLeft(you.granted_until, Date.now() / 1000) : null;
  const was = seen.left;
  seen.left = left;
  countdown.hidden = left === null;
  if (left === null) {
    countdown.textContent = "";
    window.clearInterval(seen.tickTimer);
    seen.tickTimer = undefined;
    return;
  }
  countdown.textContent = t(countdownKey(you), { time: clock(left) });
  if (crossedMark(was, left) !== null) announce(countdown.textContent);
}

/** Starts or stops the countdown of your timed right, following `state.you`. */
function followCountdown() {
  const you = state.you;
  const running = !!you && typeof you.granted_until === "number";
  if (running && seen.tickTimer === undefined) seen.tickTimer = window.setInterval(tick, 1000);
  if (!running) seen.left = null;
  tick();
}

// ---------------------------------------------------------------- wiring

function youChanged(next) {
  const before = seen.you;
  seen.you = next;
  // Only the same join: a new participant id (a rejoin) is not news.
  if (before && next && before.id === next.id) {
    const notices = changeNotices(before, next, Date.now() / 1000);
    if (notices.length) notify(notices[notices.length - 1]);
    for (const notice of notices.slice(0, -1)) announce(noticeText(notice, t));
  }
  followCountdown();
}

/** Listens to one connection (after room.js's own handlers have updated `state`). */
export function bindNotices(conn) {
  conn.on("room_state", (msg) => {
    seen.publicLocked = !!(msg.chat && msg.chat.public_locked);
    youChanged(msg.you || null);
  });
  conn.on("participant_updated", ({ participant }) => {
    if (participant && seen.you && participant.id === seen.you.id) youChanged(participant);
  });
  conn.on("layout_changed", ({ layout }) => {
    if (typeof layout === "string" && !isHost()) notify(layoutNotice(layout));
  });
  conn.on("chat_settings", (msg) => {
    const locked = !!msg.public_locked;
    if (locked !== seen.publicLocked && !isHost()) notify(chatLockNotice(locked));
    seen.publicLocked = locked;
  });
  conn.on("ended", () => {
    seen.you = null;
    hideNotice();
    followCountdown();
  });
}

/** Renders again in the current language. */
export function renderNotices() {
  renderNotice();
  tick();
}
