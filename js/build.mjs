// Bundles js/src/entries/*.ts into lightly_studio/static/<name>.js (ESM).
//
// Two builds:
// - the anywidget entries (widget, annotator): one file each, no code splitting — anywidget
//   loads a widget's module from a single file (as text), so it cannot fetch chunks beside it;
// - the full-page app (app.ts): split, so what the explorer imports only when opened (the
//   plot with regl, the annotator) lands in chunks "app.<name>-<hash>.js" next to app.js and
//   the first paint downloads and parses only the grid. The page loads them from its own
//   origin by relative URL, which the CSP's script-src 'self' allows.
import * as esbuild from "esbuild";
import { existsSync, readdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const entriesDir = join(root, "js", "src", "entries");
const outdir = join(root, "lightly_studio", "static");
const APP = "app.ts";
const entries = readdirSync(entriesDir).filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"));
const dev = process.argv.includes("--dev");

const common = {
  outdir,
  bundle: true,
  format: "esm",
  target: "es2020",
  minify: !dev,
  sourcemap: dev ? "inline" : false,
  legalComments: "none",
  logLevel: "info",
};
const builds = [
  { ...common, entryPoints: entries.filter((f) => f !== APP).map((f) => join(entriesDir, f)) },
  // Chunk names start with "app." so the clean-up below finds this build's old chunks (their
  // names change with their content) and the package's "static/*.js" glob ships them.
  { ...common, entryPoints: [join(entriesDir, APP)], splitting: true, chunkNames: "app.[name]-[hash]" },
];

function removeOldChunks() {
  if (!existsSync(outdir)) return; // a fresh clone: nothing built yet
  for (const f of readdirSync(outdir)) if (/^app\..+\.js$/.test(f)) rmSync(join(outdir, f));
}

if (process.argv.includes("--watch")) {
  removeOldChunks();
  for (const options of builds) await (await esbuild.context({ ...options, minify: false })).watch();
} else {
  removeOldChunks();
  await Promise.all(builds.map((options) => esbuild.build(options)));
}
