// Sample detail: the full-resolution image with every label, tags (editable), annotations
// (each can be hidden), captions, metadata and fields. Prev/next walk the grid's order.

import { appendAll, clear, formatValue, h } from "../lib/dom";
import { labelColor } from "../lib/colors";
import type { RpcClient } from "../transport/rpc";
import type { Detail } from "../transport/methods";
import { maskCanvas, overlaySvg } from "./overlays";
import { VideoView } from "./video";

export interface DetailOptions {
  rpc: RpcClient;
  datasetId: string;
  onClose: () => void;
  onStep: (delta: number) => void;
  onTagsChanged: () => void;
  onFindSimilar?: (sampleId: string) => void;
  /** Open the annotator on this sample. */
  onEdit?: (sampleId: string) => void;
  position: () => string;
}

export class DetailView {
  readonly el: HTMLDivElement;
  private readonly imageBox: HTMLDivElement;
  private readonly side: HTMLDivElement;
  private readonly header: HTMLDivElement;
  private detail: Detail | null = null;
  private imageUrl = "";
  private hidden = new Set<string>();
  private current = "";
  private readonly resize: ResizeObserver;
  private video: VideoView | null = null;

  constructor(private readonly o: DetailOptions) {
    this.header = h("div", { class: "ls-toolbar" });
    this.imageBox = h("div", { class: "ls-detail-image" });
    this.side = h("div", { class: "ls-detail-side" });
    this.el = h("div", { class: "ls-detail", tabindex: -1, "data-testid": "ls-detail" }, this.header,
      h("div", { class: "ls-detail-body" }, this.imageBox, this.side));
    this.el.addEventListener("keydown", (e) => {
      if ((e.target as HTMLElement).tagName === "INPUT") return;
      if (e.key === "Escape") this.o.onClose();
      else if (e.key === "ArrowLeft") this.o.onStep(-1);
      else if (e.key === "ArrowRight") this.o.onStep(1);
      else return;
      e.preventDefault();
    });
    this.resize = new ResizeObserver(() => this.paintImage());
    this.resize.observe(this.imageBox);
  }

  async show(sampleId: string): Promise<void> {
    this.current = sampleId;
    this.hidden.clear();
    this.renderHeader(null);
    clear(this.side);
    this.side.append(h("div", { class: "ls-muted" }, "Loading…"));
    try {
      const [{ result }, img] = await Promise.all([
        this.o.rpc.call("sample_detail", { dataset_id: this.o.datasetId, sample_id: sampleId }),
        this.o.rpc.call("image", { dataset_id: this.o.datasetId, sample_id: sampleId }),
      ]);
      if (sampleId !== this.current) return;
      this.detail = result;
      if (this.imageUrl) URL.revokeObjectURL(this.imageUrl);
      this.imageUrl = URL.createObjectURL(new Blob([img.buffers[0] as BlobPart], { type: img.result.mime }));
    } catch (e) {
      clear(this.side);
      this.side.append(h("div", { class: "ls-error" }, (e as Error).message));
      return;
    }
    this.renderHeader(this.detail);
    // A video plays in the player (views/video.ts), which takes the image's place and keys.
    this.video?.dispose();
    this.video = this.detail.fields.kind === "video" ? new VideoView({ rpc: this.o.rpc, datasetId: this.o.datasetId, sampleId,
      onEditFrame: this.o.onEdit }) : null;
    if (this.video) { clear(this.imageBox); this.imageBox.append(this.video.el); }
    this.paintImage();
    this.renderSide();
    (this.video ?? this.el).focus();
  }

  private renderHeader(d: Detail | null): void {
    clear(this.header);
    appendAll(this.header,
      h("button", { onclick: () => this.o.onClose(), title: "Back to the grid (Esc)", "data-testid": "ls-detail-close" }, "← Grid"),
      h("button", { onclick: () => this.o.onStep(-1), title: "Previous (←)" }, "‹"),
      h("button", { onclick: () => this.o.onStep(1), title: "Next (→)" }, "›"),
      h("span", { class: "ls-title" }, d ? String(d.fields.file_name ?? "") : ""),
      h("span", { class: "ls-muted" }, this.o.position()),
      h("span", { class: "ls-spacer" }),
      d && this.o.onFindSimilar ? h("button", { onclick: () => this.o.onFindSimilar!(d.sample_id) }, "Find similar") : null,
      d && this.o.onEdit ? h("button", { onclick: () => this.o.onEdit!(d.sample_id), title: "Edit labels in the annotator", "data-testid": "ls-detail-edit" }, "Edit labels") : null,
    );
  }

  private paintImage(): void {
    const d = this.detail;
    if (this.video) return;
    clear(this.imageBox);
    if (!d || !this.imageUrl) return;
    const w = Number(d.fields.width), hgt = Number(d.fields.height);
    this.imageBox.append(h("img", { src: this.imageUrl, alt: String(d.fields.file_name ?? "") }));
    const opts = { boxes: true, masks: true, labels: true, hidden: this.hidden,
      displayWidth: this.imageBox.clientWidth || 600, displayHeight: this.imageBox.clientHeight || 400, maskResolution: 1024 };
    const mask = maskCanvas(w, hgt, d.annotations, opts);
    if (mask) this.imageBox.append(mask);
    const svg = overlaySvg(w, hgt, d.annotations, opts);
    if (svg) this.imageBox.append(svg);
  }

  private async setTag(tag: string, remove: boolean): Promise<void> {
    if (!this.detail || !tag.trim()) return;
    await this.o.rpc.call("tag_samples", { dataset_id: this.o.datasetId, sample_ids: [this.detail.sample_id], tag: tag.trim(), remove });
    const tags = new Set(this.detail.tags);
    if (remove) tags.delete(tag.trim()); else tags.add(tag.trim());
    this.detail.tags = [...tags].sort();
    this.renderSide();
    this.o.onTagsChanged();
  }

  private renderSide(): void {
    const d = this.detail;
    clear(this.side);
    if (!d) return;
    const input = h("input", { type: "text", placeholder: "Add tag + Enter", "data-testid": "ls-detail-tag-input", style: "width:100%" });
    input.addEventListener("keydown", (e) => { if (e.key === "Enter") void this.setTag(input.value, false); });
    appendAll(this.side,
      h("div", { class: "ls-section" }, h("h4", {}, "Tags"),
        h("div", {}, d.tags.map((t) => h("span", { class: "ls-tagchip" }, t,
          h("button", { title: `Remove tag ${t}`, onclick: () => void this.setTag(t, true) }, "×")))),
        input),
      h("div", { class: "ls-section" }, h("h4", {}, `Annotations (${d.annotations.length})`),
        d.annotations.map((a) => {
          const eye = h("input", { type: "checkbox", checked: !this.hidden.has(a.annotation_id), title: "Show" });
          eye.addEventListener("change", () => {
            if (eye.checked) this.hidden.delete(a.annotation_id); else this.hidden.add(a.annotation_id);
            this.paintImage();
          });
          const kind = a.type.replace(/_/g, " ");
          const size = a.box ? ` ${Math.round(a.box[2])}×${Math.round(a.box[3])} px` : "";
          return h("div", { class: "ls-ann" }, h("span", { class: "ls-dot", style: `background:${labelColor(a.label)}` }),
            h("div", { class: "ls-name" }, a.label, h("div", { class: "ls-sub" }, `${kind}${size}` +
              (a.confidence !== null && a.confidence !== undefined ? ` · ${a.confidence.toFixed(2)}` : "") +
              (a.source !== "ground_truth" ? ` · ${a.source}` : ""))), eye);
        })),
      d.captions.length ? h("div", { class: "ls-section" }, h("h4", {}, "Captions"), d.captions.map((c) => h("p", { style: "margin:0 0 6px" }, c))) : null,
      Object.keys(d.metadata).length ? h("div", { class: "ls-section" }, h("h4", {}, "Metadata"), this.table(d.metadata)) : null,
      h("div", { class: "ls-section" }, h("h4", {}, "Fields"), this.table(d.fields)),
    );
  }

  private table(values: Record<string, unknown>): HTMLTableElement {
    return h("table", { class: "ls-kv" }, Object.entries(values).filter(([, v]) => v !== null).map(([k, v]) =>
      h("tr", {}, h("td", {}, k), h("td", {}, formatValue(v)))));
  }

  dispose(): void {
    this.video?.dispose();
    this.resize.disconnect();
    if (this.imageUrl) URL.revokeObjectURL(this.imageUrl);
  }
}
