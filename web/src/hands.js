// Raise hand: the participant's toggle on the toolbar (asking for mic and/or camera, chosen in
// the People panel) with its queue position;
// hosts and presenters see the queue; hosts lower hands and grant or revoke rights.
import { announce, byId, clearError, h, showError } from "./dom.js";
import { language, t } from "./i18n.js";
import { showCount } from "./banner.js";
import {
  act,
  button,
  focusedControl,
  isHost,
  isStaff,
  onPeopleChange,
  peopleChanged,
  restoreFocus,
  state,
} from "./shared.js";

/** The host's chosen grant duration in seconds, or null for "until revoked". */
export function grantSeconds() {
  const select = document.getElementById("grant-duration");
  const value = select instanceof HTMLSelectElement ? Number(select.value) : 0;
  return value > 0 ? value : null;
}

function queueItem(entry) {
  const conn = state.conn;
  const wants = [entry.speak ? t("hands.wants_mic") : null, entry.video ? t("hands.wants_camera") : null]
    .filter(Boolean)
    .join(", ");
  const actions = [];
  if (isHost()) {
    actions.push(
      button(
        t("hands.grant"),
        "grant",
        (el) =>
          act(
            el,
            () => conn.rightsGrant(entry.id, entry.speak, entry.video, grantSeconds()),
            "hands-title",
          ),
        { label: t("hands.grant_label", { name: entry.name }), cls: "small primary" },
      ),
      button(
        t("hands.lower"),
        "lower",
        (el) => act(el, () => conn.handLower(entry.id), "hands-title"),
        { label: t("hands.lower_label", { name: entry.name }) },
      ),
    );
  }
  return h(
    "li",
    { class: "person-item", "data-hand": entry.id, "data-key": `h:${entry.id}` },
    h(
      "div",
      { class: "person" },
      h("span", { class: "hand-position", text: `${entry.position}. ` }),
      h("span", { class: "person-name", text: entry.name }),
      wants ? h("span", { class: "muted", text: ` (${wants})` }) : null,
    ),
    actions.length ? h("div", { class: "actions" }, ...actions) : null,
  );
}

/** What a host granted you ("You may speak and show video until 10:32."), or "" without a grant. */
function grantedSentence(you) {
  // Hosts and presenters hold these rights by role: nothing was granted to them.
  if (!you || you.role === "host" || you.role === "presenter" || !(you.mic || you.camera)) return "";
  const key = you.mic && you.camera ? "hands.granted_both" : you.mic ? "hands.granted_mic" : "hands.granted_camera";
  if (typeof you.granted_until !== "number") return t(key);
  const until = new Intl.DateTimeFormat(language(), {
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).format(new Date(you.granted_until * 1000));
  return `${t(key)} ${t("hands.granted_until", { time: until })}`;
}

export function renderHands() {
  const you = state.you;
  const raised = state.handPosition !== null;
  const granted = grantedSentence(you);
  const rights = byId("hand-rights");
  rights.textContent = granted;
  rights.hidden = !granted;
  const toggle = byId("hand-toggle");
  toggle.setAttribute("aria-pressed", String(raised));
  toggle.querySelector(".tool-label").textContent = t(raised ? "hands.lower_own" : "hands.raise");
  toggle.setAttribute("title", `${t(raised ? "hands.lower_own" : "hands.raise")} (H)`);
  byId("hand-wants").hidden = raised;
  byId("hand-position").textContent = raised
    ? t("hands.your_position", { position: state.handPosition })
    : "";
  // People who already may speak and show video have nothing to ask for.
  const nothingToAsk = !!you && you.mic && you.camera && !raised;
  byId("hand-own").hidden = nothingToAsk;
  toggle.hidden = !you || nothingToAsk;

  const staff = isStaff();
  const count = staff ? state.hands.length : 0;
  showCount("hands", count, t("hands.badge_label", { count }));
  byId("hands-queue").hidden = !staff;
  // Staff read the queue's own heading; "Raise hand" is for those who may raise one.
  byId("hand-title").hidden = staff;
  if (!staff) return;
  const list = byId("hands");
  const saved = focusedControl(list);
  byId("hands-title").textContent = t("hands.queue_title", { count: state.hands.length });
  byId("hands-empty").hidden = state.hands.length > 0;
  list.replaceChildren(...state.hands.map(queueItem));
  restoreFocus(list, saved);
  const host = isHost();
  byId("hands-host").hidden = !host;
  /** @type {HTMLButtonElement} */ (byId("hands-lower-all")).disabled = !state.hands.length;
}

export function setupHands() {
  const toggle = /** @type {HTMLButtonElement} */ (byId("hand-toggle"));
  toggle.addEventListener("click", async () => {
    clearError();
    const conn = state.conn;
    if (!conn) return;
    toggle.disabled = true;
    try {
      if (state.handPosition !== null) {
        await conn.handLower();
        state.handPosition = null;
      } else {
        const speak = /** @type {HTMLInputElement} */ (byId("hand-speak")).checked;
        const video = /** @type {HTMLInputElement} */ (byId("hand-video")).checked;
        if (!speak && !video) {
          showError({ code: "hand_nothing" });
          return;
        }
        await conn.handRaise(speak, video);
      }
    } catch (e) {
      showError(e);
    } finally {
      toggle.disabled = false;
      renderHands();
      peopleChanged();
    }
  });
  const lowerAll = /** @type {HTMLButtonElement} */ (byId("hands-lower-all"));
  lowerAll.addEventListener("click", () => act(lowerAll, () => state.conn.handsLowerAll()));
  // The card depends on your rights too: a grant given, run out or revoked arrives as
  // participant_updated, not as a hand event (without this the card stayed hidden after a
  // mic+camera grant ran out, until a reload).
  onPeopleChange(renderHands);
}

/** Mic and camera rights as one value, to see whether they changed while a hand was up. */
const rightsKey = (you) => (you ? `${!!you.mic}/${!!you.camera}` : "");
let rightsWhenRaised = "";

export function bindHands(conn) {
  conn.on("room_state", (msg) => {
    state.hands = Array.isArray(msg.hands) ? msg.hands : [];
    state.handPosition = msg.hand && typeof msg.hand.position === "number" ? msg.hand.position : null;
    rightsWhenRaised = rightsKey(msg.you);
    renderHands();
  });
  conn.on("hands", ({ queue }) => {
    const before = new Set(state.hands.map((e) => e.id));
    state.hands = Array.isArray(queue) ? queue : [];
    const fresh = state.hands.filter((e) => !before.has(e.id));
    if (fresh.length === 1) announce(t("hands.news", { name: fresh[0].name }));
    renderHands();
    peopleChanged();
  });
  conn.on("hand", ({ position }) => {
    const was = state.handPosition;
    state.handPosition = typeof position === "number" ? position : null;
    if (was === null && state.handPosition !== null) rightsWhenRaised = rightsKey(state.you);
    // A grant answers the hand: its notice (notices.js) is what to hear, not "hand lowered"
    // read over it.
    const answered = rightsKey(state.you) !== rightsWhenRaised;
    if (was !== null && state.handPosition === null && !answered) announce(t("hands.lowered"));
    renderHands();
    peopleChanged();
  });
}
