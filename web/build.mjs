// Bundles the page entry points in src/ into public/dist/ (served under /static/dist/).
import { build } from "esbuild";
import { rm } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const outdir = path.join(here, "public", "dist");

await rm(outdir, { recursive: true, force: true });
await build({
  absWorkingDir: here,
  entryPoints: ["src/home.js", "src/room.js", "src/notfound.js", "src/admin.js", "src/journal.js", "src/lesson.js", "src/diary.js"],
  outdir,
  bundle: true,
  format: "esm",
  splitting: true,
  chunkNames: "chunk-[hash]",
  target: ["es2020"],
  minify: true,
  sourcemap: "linked",
  legalComments: "linked",
  logLevel: "info",
});
