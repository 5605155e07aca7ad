// The full page: a header with the dataset picker, and the notebook's explorer view below it,
// mounted on the HTTP/WebSocket model shim. No view code lives here — only the shell.

import { h } from "../lib/dom";
import { icon } from "../lib/icons";
import { MEDIA_ROUTE } from "../transport/constants";
import { RpcClient } from "../transport/rpc";
import type { DatasetRow } from "../transport/methods";
import { modelChannel } from "../transport/model";
import { mountExplorer, type ReadyInfo } from "../views/explorer";
import { injectStyles } from "../views/styles";
import { HttpModel } from "./httpModel";

const HEADER_PX = 48;
const FOOTER_PX = 26;
const THEME_KEY = "lightly-studio-theme";

// The page shell in the views' own variables (styles.ts): dark by default like the reference
// app, light on request (kept in localStorage). The explorer inside fills the rest.
const PAGE_CSS = `
  html, body { background: var(--ls-bg); }
  .ls-app { height: 100vh; display: flex; flex-direction: column; background: var(--ls-bg); color: var(--ls-fg);
    font: 13px var(--ls-font, system-ui, sans-serif); }
  .ls-app-header { display:flex; align-items:center; gap:12px; height:${HEADER_PX}px; padding:0 14px; flex: none;
    box-sizing:border-box; border-bottom:1px solid var(--ls-border); background: var(--ls-bg2); }
  .ls-app-brand { display:flex; align-items:center; gap:8px; font-weight:650; font-size:15px; letter-spacing:.01em; white-space:nowrap; }
  .ls-app-logo { width:22px; height:22px; border-radius:6px; background: linear-gradient(135deg, var(--ls-accent), #7c4dff); flex:none; }
  .ls-app-header select, .ls-app-header button { font: inherit; color: var(--ls-fg); background: var(--ls-bg);
    border: 1px solid var(--ls-border); border-radius: 6px; padding: 4px 8px; min-height: 30px; }
  .ls-app-header select { max-width: 40vw; }
  .ls-app-header button { display:inline-flex; align-items:center; gap:6px; cursor:pointer; }
  .ls-app-header button:hover { border-color: var(--ls-accent); }
  .ls-app-spacer { flex: 1; }
  .ls-app-conn { font-size:12px; color: var(--ls-fg2); display:flex; align-items:center; gap:6px; white-space:nowrap; }
  .ls-app-conn::before { content:""; width:8px; height:8px; border-radius:50%; background:#34a853; }
  .ls-app-conn.ls-off::before { background:#e8453c; }
  .ls-app-conn.ls-off { color:#e8453c; }
  .ls-app-main { flex: 1; min-height: 0; padding: 10px 12px 0; box-sizing: border-box; }
  .ls-app-main > .ls-root { height: 100% !important; }
  .ls-app-footer { height:${FOOTER_PX}px; flex:none; display:flex; align-items:center; gap:16px; padding:0 14px;
    font-size:12px; color: var(--ls-fg2); white-space: nowrap; overflow: hidden; }
  .ls-app-footer .ls-app-spacer { flex: 1; }
  .ls-app-message { padding: 2em; }
`;

function savedTheme(): "dark" | "light" {
  try {
    return localStorage.getItem(THEME_KEY) === "light" ? "light" : "dark";
  } catch {
    return "dark";
  }
}

/** The version the server wrote into the page (a meta tag; no user data). */
function pageVersion(): string {
  return document.querySelector<HTMLMetaElement>('meta[name="lightly-studio-version"]')?.content ?? "";
}

/** The dataset list the server appended to the page (lightly_studio/server/_page.py), so the
 * first paint skips a round trip; null when absent (e.g. under Jupyter) or unreadable. */
function bootListDatasets(): { datasets: DatasetRow[] } | null {
  const el = document.getElementById("lightly-studio-boot");
  try {
    const boot = el ? JSON.parse(el.textContent ?? "") : null;
    return Array.isArray(boot?.list_datasets?.datasets) ? boot.list_datasets : null;
  } catch {
    return null;
  }
}

/** Which dataset the URL asks for: #dataset=<id> (kept on reload and in shared links). */
function datasetFromHash(): string | null {
  const m = /(?:^|[#&])dataset=([0-9a-fA-F-]{36})/.exec(location.hash);
  return m ? m[1] : null;
}

export async function startApp(root: HTMLElement): Promise<void> {
  const style = document.createElement("style");
  style.textContent = PAGE_CSS;
  document.head.append(style);
  root.textContent = "";

  const model = new HttpModel({ state: { cell_size: 180, show_plot: false } });
  const rpc = new RpcClient(modelChannel(model));
  injectStyles(root);

  const picker = h("select", { "aria-label": "dataset", "data-testid": "ls-dataset-picker" });
  const conn = h("span", { class: "ls-app-conn", "data-testid": "ls-connection" }, "connecting…");
  let theme = savedTheme();
  const themeBtn = h("button", { "data-testid": "ls-theme-toggle" });
  const applyTheme = () => {
    document.documentElement.dataset.lsTheme = theme;
    shell.dataset.lsTheme = theme;
    themeBtn.textContent = "";
    themeBtn.append(icon(theme === "dark" ? "sun" : "moon"), theme === "dark" ? "Light" : "Dark");
    themeBtn.title = `Switch to the ${theme === "dark" ? "light" : "dark"} theme`;
  };
  themeBtn.addEventListener("click", () => {
    theme = theme === "dark" ? "light" : "dark";
    try { localStorage.setItem(THEME_KEY, theme); } catch { /* private mode: not kept */ }
    applyTheme();
  });
  const header = h("div", { class: "ls-app-header" },
    h("span", { class: "ls-app-brand" }, h("span", { class: "ls-app-logo", "aria-hidden": "true" }), "LightlyStudio"),
    picker, h("span", { class: "ls-app-spacer" }), conn, themeBtn);
  const main = h("div", { class: "ls-app-main", "data-testid": "ls-app-main" });
  const footCount = h("span", { "data-testid": "ls-footer-count" });
  const version = pageVersion();
  const footer = h("div", { class: "ls-app-footer", "data-testid": "ls-footer" }, footCount,
    h("span", { class: "ls-app-spacer" }), h("span", { "data-testid": "ls-footer-version" }, version ? `LightlyStudio ${version}` : "LightlyStudio"));
  const shell = h("div", { class: "ls-app" }, header, main, footer);
  root.append(shell);
  applyTheme();

  model.on("app:connection", (up: boolean) => {
    conn.textContent = up ? "live" : "reconnecting…";
    conn.classList.toggle("ls-off", !up);
  });

  let datasets: DatasetRow[] = [];
  let dispose: (() => void) | null = null;
  let current = "";

  const message = (text: string, error = false) => {
    main.textContent = "";
    main.append(h("div", { class: `ls-app-message${error ? " ls-error" : ""}`, "data-testid": "ls-app-message" }, text));
  };

  async function loadDatasets(preloaded: { datasets: DatasetRow[] } | null = null): Promise<void> {
    const result = preloaded ?? (await rpc.call("list_datasets", {})).result;
    datasets = result.datasets;
    picker.textContent = "";
    for (const d of datasets) {
      // Names are user strings: text nodes only (h() never uses innerHTML).
      picker.append(h("option", { value: d.dataset_id }, `${d.name} (${d.count.toLocaleString("en-US")} ${unitOf(d.kind)})`));
    }
    picker.disabled = datasets.length < 2;
    if (current) picker.value = current;
  }

  function open(datasetId: string): void {
    const row = datasets.find((d) => d.dataset_id === datasetId) ?? datasets[0];
    if (!row) {
      message("The database has no dataset yet. Create one from Python, e.g. ls.ImageDataset.create().add_images_from_path(path=...)");
      return;
    }
    dispose?.();
    dispose = null;
    main.textContent = "";
    current = row.dataset_id;
    picker.value = current;
    history.replaceState(null, "", `#dataset=${current}`);
    document.title = `${row.name} — LightlyStudio`;
    model.set("spec", { dataset_id: current });
    model.set("selected", []);
    const info: ReadyInfo = {
      dataset_id: row.dataset_id,
      dataset_name: row.name,
      total: row.count,
      // Without embeddings the AI search box and "Find similar" are not offered at all.
      has_embeddings: row.has_embeddings === true,
      kind: row.kind,
    };
    footCount.textContent = `${row.name} · ${row.count.toLocaleString("en-US")} ${unitOf(row.kind)}`;
    dispose = mountExplorer(main, model, rpc, info, {
      mediaUrl: (id) => new URL(MEDIA_ROUTE + id, document.baseURI).toString(),
      onCount: (shown, total) => {
        footCount.textContent = `${row.name} · ${shown < 0 ? "counting…" : `${shown.toLocaleString("en-US")} of ${total.toLocaleString("en-US")} shown`}` +
          (datasets.length > 1 ? ` · ${datasets.length} datasets` : "");
      },
    });
  }

  picker.addEventListener("change", () => open(picker.value));
  // New datasets (or renamed ones) created from Python show up without a reload.
  rpc.on("data_changed", () => {
    const before = datasets.map((d) => d.dataset_id).join();
    void loadDatasets().then(() => {
      if (!current && datasets.length) open(datasets[0].dataset_id);
      else if (datasets.map((d) => d.dataset_id).join() !== before && !datasets.some((d) => d.dataset_id === current)) open(datasets[0]?.dataset_id ?? "");
    }).catch(() => undefined);
  });

  try {
    await loadDatasets(bootListDatasets());
  } catch (e) {
    message(`Cannot load datasets: ${(e as Error).message}`, true);
    return;
  }
  open(datasetFromHash() ?? datasets[0]?.dataset_id ?? "");
  (window as any).__lightlyStudio = { model, rpc }; // for browser tests
}

/** What a dataset of ``kind`` counts, for the picker and the footer. */
function unitOf(kind: string): string {
  return kind === "video" ? "videos" : kind === "group" ? "groups" : "images";
}
