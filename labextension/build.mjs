// Builds the prebuilt JupyterLab extension into ../lightly_studio/labextension (run by the root
// `npm run build`, hence by `make test` and by hatch-jupyter-builder on `pip install .`).
// The extension keeps its own package.json/lock so the app bundle's deps stay small: install
// them here on first use (from the npm cache when offline), and skip the ~10 s webpack build
// when the output is newer than every source.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const output = join(here, "..", "lightly_studio", "labextension", "package.json");
const npm = process.platform === "win32" ? "npm.cmd" : "npm";
const force = process.argv.includes("--force");

function mtime(path) {
  return existsSync(path) ? statSync(path).mtimeMs : 0;
}

function newestSource() {
  const files = ["package.json", "package-lock.json", "tsconfig.json", "core/package.json"];
  for (const dir of ["src", "style"]) {
    for (const f of readdirSync(join(here, dir))) files.push(join(dir, f));
  }
  return Math.max(...files.map((f) => mtime(join(here, f))));
}

// npm writes node_modules/.package-lock.json on every install: older than the lock = stale.
const installed = join(here, "node_modules", ".package-lock.json");
if (mtime(installed) < mtime(join(here, "package-lock.json"))) {
  console.log("labextension: installing its npm dependencies (npm ci)");
  execFileSync(npm, ["ci", "--no-audit", "--no-fund", "--prefer-offline"], {
    cwd: here,
    stdio: "inherit",
  });
}

if (!force && mtime(output) > newestSource()) {
  console.log("labextension: lightly_studio/labextension is up to date");
} else {
  execFileSync(npm, ["run", "build:lib"], { cwd: here, stdio: "inherit" });
}
