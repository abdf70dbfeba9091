// The 404 page for an unknown room: only translation.
import { initI18n } from "./i18n.js";

initI18n().catch((e) => {
  console.error(e); // eslint-disable-line no-console
});
