// The index page: sign in; a teacher's dashboard (create a room, invite link, their rooms, the
// journal); a pupil's note with the diary; the administrator's way to the administration page.
import { api } from "./api.js";
import { initI18n, onLanguageChange, t } from "./i18n.js";
import {
  announce,
  busy,
  byId,
  clearError,
  copyText,
  fieldValue,
  focusOn,
  h,
  showError,
  showOnly,
  wireSignIn,
} from "./dom.js";

const SECTIONS = ["loading", "signin", "password", "pupil", "teacher", "admin"];

/** @type {object|null} */
let user = null;
/** @type {object[]} */
let rooms = [];
/** @type {object[]} */
let classes = [];

function setUserName() {
  for (const el of document.querySelectorAll(".user-name")) {
    el.textContent = user ? user.display_name : "";
  }
}

function policyText(policy) {
  return t(`policy.${policy}`);
}

function renderClasses() {
  const select = byId("room-class");
  const chosen = select.value;
  select.replaceChildren(h("option", { value: "", text: t("home.no_class") }));
  for (const c of classes) {
    select.append(h("option", { value: String(c.id), text: c.name }));
  }
  select.value = [...select.options].some((o) => o.value === chosen) ? chosen : "";
}

function roomItem(room) {
  const details = [room.class_name ? room.class_name : t("home.no_class"), policyText(room.guest_policy)];
  const copyButton = h("button", {
    type: "button",
    class: "small",
    text: t("home.copy"),
    "aria-label": t("home.copy_room", { title: room.title }),
  });
  // Shown only when the clipboard is unavailable (e.g. plain http): the link, selected.
  const fallback = /** @type {HTMLInputElement} */ (
    h("input", {
      readonly: true,
      hidden: true,
      class: "link-fallback",
      value: room.invite_url,
      "aria-label": t("home.invite_link_of", { title: room.title }),
    })
  );
  copyButton.addEventListener("click", async () => {
    const ok = await copyText(room.invite_url);
    if (!ok) {
      fallback.hidden = false;
      fallback.focus();
      fallback.select();
    }
    announce(ok ? t("home.copied") : t("home.copy_failed"));
  });
  return h(
    "li",
    { class: "room-item" },
    h(
      "div",
      { class: "room-info" },
      h("a", { href: roomPath(room), class: "room-link", text: room.title }),
      h("div", { class: "muted", text: details.join(" · ") }),
      fallback,
    ),
    copyButton,
  );
}

function roomPath(room) {
  return `/r/${encodeURIComponent(room.id)}`;
}

function renderRooms() {
  const list = byId("rooms");
  list.replaceChildren(...rooms.map(roomItem));
  byId("rooms-empty").hidden = rooms.length > 0;
}

function showCreated(room) {
  byId("created-title").textContent = room.title;
  const input = /** @type {HTMLInputElement} */ (byId("invite-link"));
  input.value = room.invite_url;
  byId("open-room").setAttribute("href", roomPath(room));
  byId("created").hidden = false;
}

async function showSignedIn() {
  setUserName();
  if (user.must_change_password) {
    // A generated (one-time) password: the owner chooses their own before anything else.
    showOnly(SECTIONS, "password");
    return;
  }
  if (user.kind === "admin") {
    showOnly(SECTIONS, "admin");
    return;
  }
  if (user.kind !== "teacher") {
    showOnly(SECTIONS, "pupil");
    return;
  }
  showOnly(SECTIONS, "teacher");
  try {
    [classes, rooms] = await Promise.all([api.classes(), api.rooms()]);
  } catch (e) {
    showError(e);
  }
  renderClasses();
  renderRooms();
}

function showSignIn() {
  user = null;
  setUserName();
  showOnly(SECTIONS, "signin");
}

function landingTitle() {
  if (user.must_change_password) return "password-title";
  if (user.kind === "admin") return "admin-title";
  return user.kind === "teacher" ? "teacher-title" : "pupil-title";
}

function wirePassword() {
  const form = /** @type {HTMLFormElement} */ (byId("password-form"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearError();
    const value = (name) => form.elements.namedItem(name).value;
    if (value("new").length < 10) {
      showError({ code: "password_too_short" });
      focusOn(byId("password-new"));
      return;
    }
    if (value("new") !== value("repeat")) {
      showError({ code: "password_mismatch" });
      focusOn(byId("password-repeat"));
      return;
    }
    await busy(form, async () => {
      try {
        await api.changePassword(value("current"), value("new"));
        form.reset();
        user = { ...user, must_change_password: false };
        // Sent here from a room's page to choose the password first: back to that room.
        const next = new URLSearchParams(window.location.search).get("next");
        if (next && /^\/r\/[A-Za-z0-9_-]+$/.test(next)) {
          window.location.assign(next);
          return;
        }
        announce(t("home.password_changed"));
        await showSignedIn();
        focusOn(byId(landingTitle()));
      } catch (e) {
        showError(e);
      }
    });
  });
}

function wire() {
  wirePassword();
  wireSignIn(async (login, password, form) => {
    user = await api.signIn(login, password);
    form.reset();
    await showSignedIn();
    focusOn(byId(landingTitle()));
  });

  for (const button of document.querySelectorAll(".signout")) {
    button.addEventListener("click", async () => {
      clearError();
      try {
        await api.signOut();
      } catch (e) {
        showError(e);
        return;
      }
      showSignIn();
      focusOn(byId("signin-title"));
    });
  }

  const createForm = /** @type {HTMLFormElement} */ (byId("create-form"));
  createForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearError();
    const title = fieldValue(createForm, "title");
    if (!title) {
      showError({ code: "title_required" });
      focusOn(byId("room-title"));
      return;
    }
    const classValue = fieldValue(createForm, "class_id");
    const policyInput = createForm.querySelector('input[name="guest_policy"]:checked');
    const policy = policyInput ? policyInput.value : "ask_host";
    await busy(createForm, async () => {
      try {
        const room = await api.createRoom(title, classValue ? Number(classValue) : null, policy);
        rooms = [room, ...rooms.filter((r) => r.id !== room.id)];
        renderRooms();
        showCreated(room);
        createForm.reset();
        announce(t("home.created_announce", { title: room.title }));
        focusOn(byId("invite-link"));
      } catch (e) {
        showError(e);
      }
    });
  });

  byId("copy-invite").addEventListener("click", async () => {
    const input = /** @type {HTMLInputElement} */ (byId("invite-link"));
    const ok = await copyText(input.value, input);
    announce(ok ? t("home.copied") : t("home.copy_failed"));
  });

  onLanguageChange(() => {
    if (user && user.kind === "teacher") {
      renderClasses();
      renderRooms();
    }
  });
}

async function main() {
  await initI18n();
  wire();
  try {
    user = await api.me();
  } catch (e) {
    showError(e);
  }
  if (user) await showSignedIn();
  else showSignIn();
}

main().catch((e) => {
  console.error(e); // eslint-disable-line no-console
});
