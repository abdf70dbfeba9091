// The room page's screens around the classroom: the title, how to enter (signed in, sign in,
// or as a guest), the lobby queue and the "ended" screen. room.js runs the connection.
import { api } from "./protocol.js";
import { t } from "./i18n.js";
import {
  busy,
  byId,
  clearError,
  fieldValue,
  focusOn,
  showError,
  showOnly,
  wireSignIn,
} from "./dom.js";
import { state } from "./shared.js";

const SECTIONS = ["loading", "entry", "lobby", "ended", "inside"];
// Why a session ended (the `signed_out` event's reason) → what the ended screen says.
const SIGNED_OUT_TEXTS = {
  signed_out: "ended.signed_out_text",
  password_changed: "ended.password_changed_text",
  password_reset: "ended.password_reset_text",
  ended_by_admin: "ended.ended_by_admin_text",
  disabled: "ended.disabled_text",
};

export function renderHeader() {
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

export function renderEntry() {
  const signedIn = !!state.user;
  byId("entry-user").hidden = !signedIn;
  // Signed in: the Enter card only; signed out: the guest form (and the folded sign-in).
  byId("entry-anonymous").hidden = signedIn;
  for (const el of document.querySelectorAll(".user-name")) {
    el.textContent = signedIn ? state.user.display_name : "";
  }
}

export function renderLobby() {
  const pos = state.waiting ? state.waiting.position : null;
  byId("lobby-position").textContent =
    typeof pos === "number" && pos > 0 ? t("lobby.position", { position: pos }) : "";
  byId("lobby-host-absent").hidden = !state.waiting || state.waiting.host_present !== false;
}

/** Where someone goes from a room whose lesson ended: a pupil to their diary, the lesson's
 * teacher to the lesson in the journal, everyone else to the home page. */
function wayBack(wasHost) {
  const user = state.user;
  const lessonId = state.room && state.room.lesson_id;
  if (user && user.kind === "pupil") return { href: "/diary", text: "ended.to_diary" };
  if (user && user.kind === "teacher" && lessonId && wasHost) {
    return { href: `/journal/lessons/${encodeURIComponent(lessonId)}`, text: "ended.to_journal" };
  }
  return { href: "/", text: "notfound.home" };
}

export function renderEnded() {
  const ended = state.ended;
  if (!ended) return;
  const home = byId("ended-home");
  const lessonEnded = ended.reason === "lesson_ended";
  const back = lessonEnded ? wayBack(!!ended.host) : { href: "/", text: "notfound.home" };
  home.setAttribute("href", back.href);
  home.textContent = t(back.text);
  home.classList.toggle("primary", lessonEnded);
  // Nothing to enter again once the lesson is over.
  byId("ended-back").hidden = lessonEnded;
  let title = "ended.left_title";
  let text = "ended.left_text";
  if (lessonEnded) {
    title = "ended.lesson_title";
    text = "ended.lesson_text";
  } else if (ended.reason === "denied") {
    title = "ended.denied_title";
    text = ended.detail === "policy" ? "ended.denied_policy_text" : "ended.denied_text";
  } else if (ended.reason === "removed") {
    title = "ended.removed_title";
    text = "ended.removed_text";
  } else if (ended.reason === "replaced") {
    title = "ended.replaced_title";
    text = "ended.replaced_text";
  } else if (ended.reason === "signed_out") {
    title = "ended.signed_out_title";
    text = SIGNED_OUT_TEXTS[ended.detail] || "ended.signed_out_text";
  } else if (ended.reason === "disconnected" || ended.reason === "failed") {
    title = "ended.disconnected_title";
    text = "ended.disconnected_text";
  }
  byId("ended-title").textContent = t(title);
  byId("ended-text").textContent = t(text);
  let again = "ended.back";
  if (ended.reason === "left") again = "ended.enter_again";
  if (ended.reason === "signed_out") again = "ended.sign_in_again";
  byId("ended-back").textContent = t(again);
}

/**
 * A one-time password's sign-in can only choose a new password: that is on the index page,
 * which brings the person back to this room afterwards.
 */
export function choosePasswordFirst() {
  window.location.assign(`/?next=${encodeURIComponent(window.location.pathname)}`);
}

export function show(section, focusTarget) {
  const wasHidden = byId(section).hidden;
  showOnly(SECTIONS, section);
  if (wasHidden && focusTarget) focusOn(byId(focusTarget));
}

/**
 * Wires the entry forms and the lobby/ended buttons. join(as, name?, institution?) enters the
 * room (room.js).
 */
export function wireEntry(join) {
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
        focusOn(byId("guest-name"));
      } catch (e) {
        showError(e);
      }
    });
  }

  wireSignIn(async (login, password, form) => {
    state.user = await api.signIn(login, password);
    form.reset();
    if (state.user.must_change_password) {
      choosePasswordFirst();
      return;
    }
    renderEntry();
    // Whether this account enters directly ("Enter again" after leaving) was asked as nobody.
    if (state.room) {
      state.room = await api.room(state.room.id).catch(() => state.room);
    }
    await join("user");
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
  byId("ended-back").addEventListener("click", async () => {
    clearError();
    const signedOut = state.ended && state.ended.reason === "signed_out";
    state.ended = null;
    if (!signedOut && state.user && state.room && state.room.enters_directly) {
      // The room's teacher or a pupil of its class: "Enter again" is the one click.
      try {
        await join("user");
        return;
      } catch (e) {
        showError(e);
      }
    }
    show("entry", "entry-title");
    // "Sign in again" opens the folded sign-in; anyone else starts at the first field.
    const details = /** @type {HTMLDetailsElement} */ (byId("signin-details"));
    if (signedOut) details.open = true;
    let first = byId("guest-name");
    if (state.user) first = byId("enter-user");
    else if (signedOut) first = byId("signin-login");
    focusOn(first);
  });
}
