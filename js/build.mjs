// Bundles every js/src/entries/*.ts into lightly_studio/static/<name>.js (ESM, one file each:
// anywidget loads a widget's module from a single file, so no code splitting).
import * as esbuild from "esbuild";
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const entriesDir = join(root, "js", "src", "entries");
const entryPoints = readdirSync(entriesDir)
  .filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))
  .map((f) => join(entriesDir, f));

const options = {
  entryPoints,
  outdir: join(root, "lightly_studio", "static"),
  bundle: true,
  format: "esm",
  target: "es2020",
  minify: !process.argv.includes("--dev"),
  sourcemap: process.argv.includes("--dev") ? "inline" : false,
  legalComments: "none",
  logLevel: "info",
};

if (process.argv.includes("--watch")) {
  const ctx = await esbuild.context({ ...options, minify: false });
  await ctx.watch();
} else {
  await esbuild.build(options);
}
