// Bundles the page entry points in src/ into public/dist/ (served under /static/dist/).
import { build } from "esbuild";
import { rm } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const outdir = path.join(here, "public", "dist");

const common = {
  absWorkingDir: here,
  outdir,
  bundle: true,
  format: "esm",
  target: ["es2020"],
  minify: true,
  sourcemap: "linked",
  legalComments: "linked",
  logLevel: "info",
};

await rm(outdir, { recursive: true, force: true });
// The pages share chunks of common code (cached once across pages)...
await build({
  ...common,
  entryPoints: ["src/home.js", "src/notfound.js", "src/admin.js", "src/journal.js", "src/lesson.js", "src/diary.js", "src/pupil.js", "src/replay.js"],
  splitting: true,
  chunkNames: "chunk-[hash]",
});
// ...but the room page is one file: its imports would be found only once room.js is parsed,
// a second round of requests on the way from the link to the teacher's picture (docs/entry.md).
await build({ ...common, entryPoints: ["src/room.js"], splitting: false });
