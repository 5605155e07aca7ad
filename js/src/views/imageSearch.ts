// Search by image, around the AI search box: paste an image (Ctrl+V in the box), upload a file
// (the "Image…" button) or drop a file or a grid tile on the box. A file is embedded server-side
// in memory (api/image_search.py) and the grid ranks by similarity to it (spec.similar_image);
// a tile needs no upload: it ranks by similarity to that sample (spec.similar_to).

import { h } from "../lib/dom";
import type { RpcClient } from "../transport/rpc";

/** The drag type a grid tile carries (grid.ts sets it): the sample id. */
export const SAMPLE_DRAG_TYPE = "application/x-lightly-sample";
/** The server's limit (embed/_api.py MAX_QUERY_IMAGE_BYTES), checked here first. */
export const MAX_IMAGE_BYTES = 8 * 1024 * 1024;

export interface ImageSearchOptions {
  rpc: RpcClient;
  datasetId: string;
  /** Rank by an uploaded image's token, or by a sample id. */
  onImage: (token: string) => void;
  onSample: (sampleId: string) => void;
  onError: (message: string) => void;
}

/** Wrap the AI search `input` with paste, upload and drop; returns the wrapping element. */
export function withImageSearch(input: HTMLInputElement, o: ImageSearchOptions): HTMLElement {
  const file = h("input", { type: "file", accept: "image/*", hidden: true, "data-testid": "ls-image-search-file" });
  const status = h("div", { class: "ls-muted", "data-testid": "ls-image-search-status", style: "margin-top:2px" });
  const upload = async (blob: Blob) => {
    if (blob.size > MAX_IMAGE_BYTES) {
      o.onError(`The image is ${(blob.size / 2 ** 20).toFixed(1)} MB; the limit is ${MAX_IMAGE_BYTES / 2 ** 20} MB.`);
      return;
    }
    status.textContent = "Embedding the image…";
    try {
      const { result } = await o.rpc.call("image_search", { dataset_id: o.datasetId }, { buffers: [await blob.arrayBuffer()] });
      status.textContent = "";
      o.onImage(result.token);
    } catch (e) {
      status.textContent = "";
      o.onError((e as Error).message);
    }
  };
  const button = h("button", { "data-testid": "ls-image-search-upload", title: "Search by an image file (or paste one into the box, or drop a file or a tile on it)" }, "Image…");
  button.addEventListener("click", () => file.click());
  file.addEventListener("change", () => { if (file.files?.[0]) void upload(file.files[0]); file.value = ""; });
  input.addEventListener("paste", (e: ClipboardEvent) => {
    const image = [...(e.clipboardData?.files ?? [])].find((f) => f.type.startsWith("image/"));
    if (image) { e.preventDefault(); void upload(image); }
  });
  const zone = h("div", { class: "ls-image-drop", "data-testid": "ls-image-search" },
    h("div", { style: "display:flex;gap:4px" }, input, button), file, status);
  zone.addEventListener("dragover", (e: DragEvent) => {
    const types = e.dataTransfer?.types ?? [];
    if (types.includes(SAMPLE_DRAG_TYPE) || types.includes("Files")) { e.preventDefault(); zone.classList.add("ls-drop-over"); }
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("ls-drop-over"));
  zone.addEventListener("drop", (e: DragEvent) => {
    zone.classList.remove("ls-drop-over");
    const sample = e.dataTransfer?.getData(SAMPLE_DRAG_TYPE);
    const image = [...(e.dataTransfer?.files ?? [])].find((f) => f.type.startsWith("image/"));
    if (!sample && !image) return;
    e.preventDefault();
    if (sample) o.onSample(sample);
    else if (image) void upload(image);
  });
  return zone;
}

export const IMAGE_SEARCH_STYLES = `
.ls-root .ls-image-drop { border: 1px dashed transparent; border-radius: 4px; }
.ls-root .ls-image-drop.ls-drop-over { border-color: var(--ls-accent); background: var(--ls-bg2); }
.ls-root .ls-image-drop input[type=search] { flex: 1; min-width: 0; }
.ls-root .ls-sim-score { position: absolute; right: 4px; bottom: 4px; padding: 0 5px; border-radius: 8px;
  font-size: 11px; background: rgba(0,0,0,.65); color: #fff; pointer-events: none; }
`;
