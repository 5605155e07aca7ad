// Export dialog: format and scope (all / current filter / selection); the server writes the
// file inside its export folder (chosen in Python) and answers with its path.

import { h } from "../lib/dom";
import type { RpcClient } from "../transport/rpc";
import type { Spec } from "./source";

export async function openExportDialog(host: HTMLElement, rpc: RpcClient, datasetId: string,
                                       spec: Spec, selection: string[]): Promise<void> {
  const { result } = await rpc.call("export_formats", {});
  const format = h("select", { "data-testid": "ls-export-format" }, result.formats.map((f) => h("option", { value: f }, f.replace(/_/g, " "))));
  const scope = h("select", { "data-testid": "ls-export-scope" },
    h("option", { value: "filter" }, "Current filter"),
    h("option", { value: "all" }, "Whole dataset"),
    selection.length ? h("option", { value: "selection" }, `Selection (${selection.length})`) : null);
  const folder = result.export_dir || "the export folder";
  const output = h("input", { type: "text", title: `Saved in ${folder}; existing files are kept`,
                              placeholder: "optional, e.g. labels.json" });
  // The whole folder stays readable (a placeholder would cut a long path off mid-word).
  const where = h("div", { class: "ls-muted", "data-testid": "ls-export-folder",
                           style: "overflow-wrap: anywhere; font-size: 12px" },
    `Saved in ${folder}. An existing file is never overwritten.`);
  const message = h("div", { class: "ls-muted", "data-testid": "ls-export-message" });
  const go = h("button", { class: "ls-primary" }, "Export");
  const close = () => dialog.remove();
  const dialog = h("div", { class: "ls-dialog", role: "dialog", "aria-label": "Export" },
    h("div", { class: "ls-dialog-box" },
      h("div", { class: "ls-title" }, "Export"),
      h("label", {}, "Format", format),
      h("label", {}, "Samples", scope),
      h("label", {}, "File name", output),
      where,
      message,
      h("div", { class: "ls-row" }, h("button", { onclick: close }, "Close"), go)));
  go.addEventListener("click", async () => {
    go.disabled = true;
    message.className = "ls-muted";
    message.textContent = "Exporting…";
    try {
      const r = await rpc.call("export", {
        dataset_id: datasetId, format: format.value, scope: scope.value, spec,
        sample_ids: selection, output: output.value.trim() || null,
      }, { onProgress: (p) => (message.textContent = p.message || `Exporting… ${p.done}`) });
      message.textContent = `Wrote ${r.result.count} samples to ${r.result.path}`;
    } catch (e) {
      message.className = "ls-error";
      message.textContent = (e as Error).message;
    } finally {
      go.disabled = false;
    }
  });
  dialog.addEventListener("keydown", (e) => { if (e.key === "Escape") close(); });
  host.append(dialog);
}
