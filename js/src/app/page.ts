// The full page: a header with the dataset picker, and the notebook's explorer view below it,
// mounted on the HTTP/WebSocket model shim. No view code lives here — only the shell.

import { h } from "../lib/dom";
import { RpcClient } from "../transport/rpc";
import type { DatasetRow } from "../transport/methods";
import { modelChannel } from "../transport/model";
import { mountExplorer, type ReadyInfo } from "../views/explorer";
import { injectStyles } from "../views/styles";
import { HttpModel } from "./httpModel";

const HEADER_PX = 44;

const PAGE_CSS = `
  .ls-app-header { display:flex; align-items:center; gap:12px; height:${HEADER_PX}px; padding:0 12px;
    box-sizing:border-box; border-bottom:1px solid #ddd; font:14px system-ui, sans-serif; }
  .ls-app-header .ls-app-title { font-weight:600; }
  .ls-app-header .ls-app-conn { margin-left:auto; font-size:12px; color:#888; }
  .ls-app-header .ls-app-conn.ls-off { color:#c33; }
  .ls-app-main { height: calc(100vh - ${HEADER_PX}px); }
  .ls-app-main > .ls-root { height: 100% !important; }
  .ls-app-message { padding: 2em; font: 14px system-ui, sans-serif; }
  @media (prefers-color-scheme: dark) {
    body { background:#1e1e1e; color:#ddd; }
    .ls-app-header { border-color:#444; }
  }
`;

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
  const header = h("div", { class: "ls-app-header" }, h("span", { class: "ls-app-title" }, "LightlyStudio"), picker, conn);
  const main = h("div", { class: "ls-app-main", "data-testid": "ls-app-main" });
  root.append(header, main);

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
      picker.append(h("option", { value: d.dataset_id }, `${d.name} (${d.count.toLocaleString("en-US")} ${d.kind === "video" ? "videos" : "images"})`));
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
    };
    dispose = mountExplorer(main, model, rpc, info);
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
