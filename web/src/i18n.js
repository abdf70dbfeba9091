// Translations: locale files in /static/locales/{lang}.json, language from the browser or the
// user's choice (kept in localStorage). Static markup names its strings with data-i18n attributes:
//   data-i18n="key"                      → the element's textContent
//   data-i18n-attr="placeholder=key;aria-label=key2" → attributes
export const LANGUAGES = ["kk", "ru", "en"];
export const LANGUAGE_NAMES = { kk: "Қазақша", ru: "Русский", en: "English" };
const DEFAULT_LANGUAGE = "en";
const STORAGE_KEY = "sabaq.lang";

let current = DEFAULT_LANGUAGE;
/** @type {Record<string, string>} */
let strings = {};
/** @type {Record<string, string>} */
let fallback = {};
/** @type {Set<() => void>} */
const listeners = new Set();

function stored() {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

/** The language to start with: a remembered choice, else the browser's first known one. */
export function preferredLanguage() {
  const saved = stored();
  if (saved && LANGUAGES.includes(saved)) return saved;
  for (const tag of navigator.languages || [navigator.language || ""]) {
    const base = String(tag).toLowerCase().split("-")[0];
    if (LANGUAGES.includes(base)) return base;
  }
  return DEFAULT_LANGUAGE;
}

async function load(lang) {
  const res = await fetch(`/static/locales/${lang}.json`, { credentials: "same-origin" });
  if (!res.ok) throw new Error(`locale ${lang}: HTTP ${res.status}`);
  return res.json();
}

/** The current language code. */
export function language() {
  return current;
}

/** Translates key, replacing {name} placeholders from params. Falls back to English, then the key. */
export function t(key, params) {
  let text = strings[key] ?? fallback[key] ?? key;
  if (params) {
    text = text.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m));
  }
  return text;
}

/** Whether a translation exists for key. */
export function has(key) {
  return key in strings || key in fallback;
}

/** Applies the data-i18n attributes under root. */
export function translateTree(root = document) {
  for (const el of root.querySelectorAll("[data-i18n]")) {
    el.textContent = t(el.getAttribute("data-i18n"));
  }
  for (const el of root.querySelectorAll("[data-i18n-attr]")) {
    for (const pair of el.getAttribute("data-i18n-attr").split(";")) {
      const [attr, key] = pair.split("=").map((s) => s.trim());
      if (attr && key) el.setAttribute(attr, t(key));
    }
  }
}

/** Calls fn after every language change (to re-render dynamic text). */
export function onLanguageChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** Switches to lang: loads its strings, updates <html lang>, the static text and listeners. */
export async function setLanguage(lang, remember = false) {
  if (!LANGUAGES.includes(lang)) lang = DEFAULT_LANGUAGE;
  if (!Object.keys(fallback).length) fallback = await load(DEFAULT_LANGUAGE);
  strings = lang === DEFAULT_LANGUAGE ? fallback : await load(lang);
  current = lang;
  if (remember) {
    try {
      localStorage.setItem(STORAGE_KEY, lang);
    } catch {
      // Private mode: the choice lasts for this page only.
    }
  }
  document.documentElement.lang = lang;
  translateTree(document);
  const titleKey = document.documentElement.getAttribute("data-title");
  if (titleKey) document.title = `${t(titleKey)} · Sabaq`;
  for (const fn of listeners) fn();
}

/** Fills the <select> language switch and wires it up. */
export function setupLanguageSwitch(select) {
  select.replaceChildren();
  for (const lang of LANGUAGES) {
    const option = document.createElement("option");
    option.value = lang;
    option.lang = lang;
    option.textContent = LANGUAGE_NAMES[lang];
    select.append(option);
  }
  select.value = current;
  select.addEventListener("change", () => {
    setLanguage(select.value, true).catch((e) => console.error(e)); // eslint-disable-line no-console
  });
  onLanguageChange(() => {
    select.value = current;
  });
}

/** Starts i18n for a page: picks the language, translates, wires the switch if present. */
export async function initI18n() {
  await setLanguage(preferredLanguage());
  const select = document.getElementById("lang");
  if (select instanceof HTMLSelectElement) setupLanguageSwitch(select);
}

/** A human sentence for a protocol error: the locale's sentence for its code, else its message. */
export function errorText(err) {
  const code = err && typeof err.code === "string" ? err.code : "unknown_error";
  const key = `error.${code}`;
  if (has(key)) return t(key);
  return (err && err.message) || t("error.unknown_error");
}
