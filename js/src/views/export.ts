// Export dialog: format (the server's registry, api `export_formats`), samples (all / current
// filter / selection), annotation source, output name. The server writes inside its export
// folder (chosen in Python) and answers with the path; "Download" then brings the file (a
// folder zipped) to the browser through `export_download`, which reads only that folder.

import { h } from "../lib/dom";
import { icon } from "../lib/icons";
import type { ExportFormatInfo } from "../transport/methods";
import type { RpcClient } from "../transport/rpc";
import type { Spec } from "./source";

/** The default output name of a format: a file with its suffix, or a folder (no suffix). */
export function defaultOutputName(datasetName: string, f: Pick<ExportFormatInfo, "name" | "writes" | "extension">): string {
  const stem = `${datasetName}_${f.name}`.replace(/[^A-Za-z0-9._-]+/g, "_").replace(/^\.+/, "") || "export";
  return f.writes === "folder" ? stem : stem + (f.extension ?? "");
}

/** Save bytes as a file from the browser (works in Colab and remote Jupyter alike). */
export function saveBytes(name: string, mime: string, data: ArrayBuffer | ArrayBufferView): void {
  const url = URL.createObjectURL(new Blob([data as BlobPart], { type: mime }));
  const a = h("a", { href: url, download: name, style: "display:none" });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 30_000);
}

export async function openExportDialog(host: HTMLElement, rpc: RpcClient, datasetId: string,
                                       spec: Spec, selection: string[], datasetName = "dataset"): Promise<void> {
  const [{ result }, facets] = await Promise.all([
    rpc.call("export_formats", {}),
    rpc.call("facets", { spec: { dataset_id: datasetId } }).then((r) => r.result).catch(() => null),
  ]);
  const formats = result.details;
  const format = h("select", { "data-testid": "ls-export-format" },
    formats.map((f) => h("option", { value: f.name, title: f.description }, f.label)));
  const scope = h("select", { "data-testid": "ls-export-scope" },
    h("option", { value: "filter" }, "Current filter"),
    h("option", { value: "all" }, "Whole dataset"),
    selection.length ? h("option", { value: "selection" }, `Selection (${selection.length})`) : null);
  const sources = facets?.sources ?? [];
  const source = h("select", { "data-testid": "ls-export-source" },
    h("option", { value: "" }, "All sources"),
    sources.map((s) => h("option", { value: s }, s === "ground_truth" ? "Ground truth" : s)));
  const sourceRow = h("label", {}, "Annotations from", source);
  const folder = result.export_dir || "the export folder";
  const output = h("input", { type: "text", "data-testid": "ls-export-output", spellcheck: false });
  const kind = h("span", { class: "ls-muted", "data-testid": "ls-export-kind" });
  const describe = h("div", { class: "ls-muted", style: "font-size:12px" });
  let typed = false;
  output.addEventListener("input", () => (typed = output.value.trim() !== ""));
  const current = () => formats.find((f) => f.name === format.value) ?? formats[0];
  // The name follows the format: a folder for YOLO, a file with the right suffix otherwise.
  const syncName = () => {
    const f = current();
    if (!f) return;
    const name = defaultOutputName(datasetName, f);
    output.placeholder = name;
    if (!typed) output.value = name;
    kind.textContent = f.writes === "folder" ? "folder" : `${f.extension} file`;
    describe.textContent = f.description;
    // Captions have no annotation source; hide the picker where the format ignores it.
    sourceRow.style.display = sources.length && !/caption/.test(f.name) ? "" : "none";
  };
  format.addEventListener("change", syncName);
  // The whole folder stays readable (a placeholder would cut a long path off mid-word).
  const where = h("div", { class: "ls-muted", "data-testid": "ls-export-folder",
                           style: "overflow-wrap: anywhere; font-size: 12px" },
    `Saved in ${folder}. An existing file is never overwritten.`);
  const message = h("div", { class: "ls-muted", "data-testid": "ls-export-message", role: "status", style: "overflow-wrap:anywhere" });
  const download = h("button", { "data-testid": "ls-export-download", hidden: true, class: "ls-icon-button" }, icon("download"), "Download");
  const go = h("button", { class: "ls-primary", "data-testid": "ls-export-go" }, "Export");
  const closeBtn = h("button", { "data-testid": "ls-export-close" }, "Close");
  const before = document.activeElement as HTMLElement | null;
  const close = () => {
    dialog.remove();
    before?.focus?.();
  };
  closeBtn.addEventListener("click", close);
  const box = h("div", { class: "ls-dialog-box" },
    h("div", { class: "ls-dialog-head" }, h("span", { class: "ls-title", id: "ls-export-title" }, "Export"),
      h("button", { class: "ls-icon-only", title: "Close (Esc)", "aria-label": "Close", onclick: close }, icon("close"))),
    h("label", {}, "Format", format, describe),
    h("label", {}, "Samples", scope),
    sourceRow,
    h("label", {}, h("span", {}, "Output name ", kind), output),
    where,
    message,
    h("div", { class: "ls-row" }, download, closeBtn, go));
  const dialog = h("div", { class: "ls-dialog", role: "dialog", "aria-modal": "true", "aria-labelledby": "ls-export-title", "aria-label": "Export", tabindex: -1 }, box);
  dialog.addEventListener("pointerdown", (e) => { if (e.target === dialog) close(); });
  let written: { download: string } | null = null;
  go.addEventListener("click", async () => {
    go.disabled = true;
    download.hidden = true;
    message.className = "ls-muted";
    message.textContent = "Exporting…";
    try {
      const r = await rpc.call("export", {
        dataset_id: datasetId, format: format.value, scope: scope.value, spec,
        sample_ids: selection, output: output.value.trim() || null,
        annotation_source: sourceRow.style.display === "none" ? null : source.value || null,
      }, { onProgress: (p) => (message.textContent = p.message || `Exporting… ${p.done}`) });
      message.textContent = `Wrote ${r.result.count} samples to ${r.result.path}`;
      written = r.result;
      download.hidden = false;
      download.lastChild!.textContent = r.result.writes === "folder" ? "Download .zip" : "Download";
    } catch (e) {
      message.className = "ls-error";
      message.textContent = (e as Error).message;
    } finally {
      go.disabled = false;
    }
  });
  download.addEventListener("click", async () => {
    if (!written) return;
    download.disabled = true;
    try {
      const r = await rpc.call("export_download", { path: written.download });
      saveBytes(r.result.name, r.result.mime, r.buffers[0]);
      message.className = "ls-muted";
      message.textContent = `Downloaded ${r.result.name} (${(r.result.size / 1024).toFixed(0)} KB)`;
    } catch (e) {
      message.className = "ls-error";
      message.textContent = (e as Error).message;
    } finally {
      download.disabled = false;
    }
  });
  dialog.addEventListener("keydown", (e) => {
    if (e.key === "Escape") { e.stopPropagation(); close(); }
  });
  syncName();
  host.append(dialog);
  // Focus moves into the dialog, so Escape (and Tab) act on it straight away.
  format.focus();
}
