// Sample detail: the full-resolution image with every label (zoom and pan, fit and 1:1,
// brightness and contrast, each annotation can be hidden), tags (editable), captions, metadata
// and the sample's fields. Prev/next walk the grid's order (keys, buttons, on-image arrows).

import { appendAll, clear, formatValue, h } from "../lib/dom";
import { labelColor } from "../lib/colors";
import { icon, iconButton } from "../lib/icons";
import type { RpcClient } from "../transport/rpc";
import type { Detail } from "../transport/methods";
import { outcomeLegend, OUTCOME_COLORS, type OutcomeColoring } from "./evalColors";
import { maskCanvas, overlaySvg } from "./overlays";
import { actionIn, displayKey, keysOf } from "./shortcuts";
import { VideoView } from "./video";
import { FrameAnnotationsSection } from "./videoFrameAnnotations";

/** A tool tip's key hint: the action's current keys (customisable in the settings dialog). */
const keyHint = (id: string) => keysOf(`detail.${id}`).map(displayKey).join(" / ");

export interface DetailOptions {
  rpc: RpcClient;
  datasetId: string;
  /** Shown in the breadcrumbs (dataset › file). */
  datasetName?: string;
  onClose: () => void;
  onStep: (delta: number) => void;
  onTagsChanged: () => void;
  onFindSimilar?: (sampleId: string) => void;
  /** Open the annotator on this sample. */
  onEdit?: (sampleId: string) => void;
  /** A video's detail: show that video's frames in the grid. */
  onShowFrames?: (videoId: string) => void;
  position: () => string;
  /** Colours by an evaluation run's outcomes while one is chosen. */
  coloring?: OutcomeColoring;
  /** A video's URL for the player (the full-page app's media route); without one (a
   * notebook), the player loads the file over the RPC channel. */
  mediaUrl?: (sampleId: string) => string;
}

/** Stored columns that are bookkeeping, not facts about the image: never shown. */
const INTERNAL_FIELDS = new Set(["dataset_id", "sample_idx", "tag_numbers", "kind", "parent_sample_id"]);
/** The fields a user reads, in this order and with these names; others follow as stored. */
const FIELD_NAMES: [string, string][] = [
  ["file_name", "File name"], ["file_path_abs", "Path"], ["width", "Width"], ["height", "Height"],
  ["created_at", "Added"], ["sample_id", "Sample id"],
];

/** The rows of the detail view's field table: internals dropped, known fields named. */
export function visibleFields(fields: Record<string, unknown>): [string, unknown][] {
  const known = new Map(FIELD_NAMES);
  const rows: [string, unknown][] = [];
  for (const [key, name] of FIELD_NAMES) {
    const value = fields[key];
    if (value === null || value === undefined) continue;
    // Timestamps to the minute, as a person reads them ("2026-12-04 19:09").
    rows.push([name, key === "created_at" ? String(value).slice(0, 16).replace("T", " ") : value]);
  }
  for (const [key, value] of Object.entries(fields)) {
    if (known.has(key) || INTERNAL_FIELDS.has(key) || value === null || value === undefined) continue;
    rows.push([key.replace(/_/g, " "), value]);
  }
  return rows;
}

const MIN_ZOOM = 0.05;
const MAX_ZOOM = 32;

/** Zoom and pan of one image in a box: scale and the image's top-left corner in the box. */
export class ZoomState {
  scale = 1;
  x = 0;
  y = 0;
  fitted = true;

  constructor(public imageW: number, public imageH: number) {}

  fit(boxW: number, boxH: number): void {
    this.scale = Math.min(boxW / this.imageW, boxH / this.imageH) || 1;
    this.x = (boxW - this.imageW * this.scale) / 2;
    this.y = (boxH - this.imageH * this.scale) / 2;
    this.fitted = true;
  }

  /** Set the scale, keeping the image point under (cx, cy) in the box where it is. */
  zoomAt(scale: number, cx: number, cy: number): void {
    const s = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, scale));
    const ix = (cx - this.x) / this.scale, iy = (cy - this.y) / this.scale;
    this.scale = s;
    this.x = cx - ix * s;
    this.y = cy - iy * s;
    this.fitted = false;
  }

  pan(dx: number, dy: number): void {
    this.x += dx;
    this.y += dy;
    this.fitted = false;
  }
}

export class DetailView {
  readonly el: HTMLDivElement;
  private readonly imageBox: HTMLDivElement;
  private readonly world: HTMLDivElement;
  private readonly side: HTMLDivElement;
  private readonly header: HTMLDivElement;
  private readonly zoomLabel: HTMLSpanElement;
  private detail: Detail | null = null;
  private imageUrl = "";
  private hidden = new Set<string>();
  private current = "";
  private zoom: ZoomState | null = null;
  private brightness = 100;
  private contrast = 100;
  private readonly resize: ResizeObserver;
  private video: VideoView | null = null;
  private frameSection: FrameAnnotationsSection | null = null;
  private readonly offColoring?: () => void;

  constructor(private readonly o: DetailOptions) {
    this.header = h("div", { class: "ls-toolbar ls-detail-head" });
    this.world = h("div", { class: "ls-detail-world", "data-testid": "ls-detail-world" });
    this.zoomLabel = h("span", { class: "ls-count", "data-testid": "ls-detail-zoom" }, "");
    const step = (d: number, name: "prev" | "next", label: string) =>
      h("button", { class: `ls-detail-arrow ls-${name}`, title: label, "aria-label": label, "data-testid": `ls-detail-${name}`,
        onclick: () => this.o.onStep(d) }, icon(name, 22));
    this.imageBox = h("div", { class: "ls-detail-image", "data-testid": "ls-detail-image" }, this.world,
      step(-1, "prev", `Previous sample (${keyHint("previous")})`), step(1, "next", `Next sample (${keyHint("next")})`), this.viewControls());
    this.side = h("div", { class: "ls-detail-side" });
    this.el = h("div", { class: "ls-detail", tabindex: -1, "data-testid": "ls-detail" }, this.header,
      h("div", { class: "ls-detail-body" }, this.imageBox, this.side));
    this.el.addEventListener("keydown", (e) => this.onKey(e));
    this.imageBox.addEventListener("wheel", (e) => this.onWheel(e), { passive: false });
    this.imageBox.addEventListener("pointerdown", (e) => this.onDrag(e));
    this.imageBox.addEventListener("dblclick", (e) => {
      if ((e.target as HTMLElement).closest("button")) return;
      this.fitOrOneToOne();
    });
    this.resize = new ResizeObserver(() => {
      if (this.zoom?.fitted) this.fit();
      this.paintOverlays();
    });
    this.resize.observe(this.imageBox);
    // A run chosen, a cell clicked or the colouring switched in the Evaluation panel.
    // Repaints only when this sample draws differently (not for outcomes of grid pages).
    let painted = "";
    this.offColoring = o.coloring?.onChange(() => {
      const d = this.detail;
      if (!d) return;
      void this.o.coloring?.load(d.sample_id).then(() => {
        const sig = `${d.sample_id}|${this.o.coloring?.signature(d.sample_id)}`;
        if (sig === painted || d !== this.detail) return;
        painted = sig;
        this.paintOverlays();
        this.renderSide();
      });
    });
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
        this.o.rpc.call("image", { dataset_id: this.o.datasetId, sample_id: sampleId }).catch((e: Error) => e),
        this.o.coloring?.load(sampleId), // the outcomes of the chosen evaluation run
      ]);
      if (sampleId !== this.current) return;
      // A video's picture is its player's business, which says what is wrong with the file
      // (a damaged video must not hide its fields and tags).
      if (img instanceof Error && result.fields.kind !== "video") throw img;
      this.detail = result;
      if (this.imageUrl) URL.revokeObjectURL(this.imageUrl);
      this.imageUrl = img instanceof Error ? ""
        : URL.createObjectURL(new Blob([img.buffers[0] as BlobPart], { type: img.result.mime }));
    } catch (e) {
      clear(this.side);
      this.side.append(h("div", { class: "ls-error" }, (e as Error).message));
      return;
    }
    this.renderHeader(this.detail);
    // A video plays in the player (views/video.ts), which takes the image's place and keys.
    // The image's own layers (zoom world, arrows, controls) stay, hidden, for the next image.
    this.video?.el.remove();
    this.video?.dispose();
    const showFrames = this.o.onShowFrames;
    const isVideo = this.detail.fields.kind === "video";
    const section = isVideo ? new FrameAnnotationsSection((label) => this.video?.seekToNextWith(label)) : null;
    this.frameSection = section;
    this.video = isVideo ? new VideoView({ rpc: this.o.rpc, datasetId: this.o.datasetId, sampleId,
      onEditFrame: this.o.onEdit, onShowFrames: showFrames ? () => showFrames(sampleId) : undefined,
      mediaUrl: this.o.mediaUrl,
      onLoaded: (data) => section!.setData(data),
      onFrameShown: (n, anns) => section!.setFrame(n, anns) }) : null;
    for (const child of [...this.imageBox.children]) (child as HTMLElement).hidden = this.video !== null;
    if (this.video) this.imageBox.append(this.video.el);
    this.paintImage();
    this.renderSide();
    (this.video ?? this.el).focus();
  }

  // -- header: breadcrumbs, position, actions -----------------------------------------------
  private renderHeader(d: Detail | null): void {
    clear(this.header);
    const file = d ? String(d.fields.file_name ?? "") : "";
    appendAll(this.header,
      iconButton("back", "Grid", { onclick: () => this.o.onClose(), title: `Back to the grid (${keyHint("close")})`, "data-testid": "ls-detail-close" }),
      h("nav", { class: "ls-crumbs", "aria-label": "breadcrumbs", "data-testid": "ls-detail-crumbs" },
        h("button", { class: "ls-crumb", onclick: () => this.o.onClose(), title: "Back to the grid" }, this.o.datasetName ?? "Dataset"),
        h("span", { class: "ls-crumb-sep", "aria-hidden": "true" }, "›"),
        h("span", { class: "ls-crumb ls-crumb-current", title: file }, file)),
      h("span", { class: "ls-count" }, this.o.position()),
      h("span", { class: "ls-spacer" }),
      d ? iconButton("copy", "Copy image", { onclick: () => void this.copyImage(), "data-testid": "ls-detail-copy" }) : null,
      d && this.o.onFindSimilar ? iconButton("similar", "Find similar", { onclick: () => this.o.onFindSimilar!(d.sample_id), "data-testid": "ls-detail-similar" }) : null,
      d && this.o.onEdit ? iconButton("edit", "Edit labels", { onclick: () => this.o.onEdit!(d.sample_id), title: "Edit labels in the annotator", "data-testid": "ls-detail-edit" }) : null,
    );
  }

  // -- image: zoom, pan, adjustments --------------------------------------------------------
  private viewControls(): HTMLElement {
    const range = (label: string, testid: string, get: () => number, set: (v: number) => void) => {
      const input = h("input", { type: "range", min: 0, max: 300, step: 5, value: get(), "aria-label": label, title: label, "data-testid": testid });
      input.addEventListener("input", () => { set(Number(input.value)); this.applyFilter(); });
      input.addEventListener("dblclick", () => { input.value = "100"; set(100); this.applyFilter(); });
      return h("label", { class: "ls-adjust", title: `${label} (double-click resets)` }, h("span", {}, label), input);
    };
    return h("div", { class: "ls-detail-controls", "data-testid": "ls-detail-controls" },
      h("button", { class: "ls-icon-only", title: `Zoom out (${keyHint("zoom-out")})`, "aria-label": "Zoom out", "data-testid": "ls-zoom-out", onclick: () => this.zoomBy(1 / 1.25) }, icon("zoomOut")),
      this.zoomLabel,
      h("button", { class: "ls-icon-only", title: `Zoom in (${keyHint("zoom-in")})`, "aria-label": "Zoom in", "data-testid": "ls-zoom-in", onclick: () => this.zoomBy(1.25) }, icon("zoomIn")),
      h("button", { class: "ls-icon-only", title: `Fit (${keyHint("fit")})`, "aria-label": "Fit", "data-testid": "ls-zoom-fit", onclick: () => this.fit() }, icon("fit")),
      h("button", { class: "ls-text-only", title: `Actual pixels (${keyHint("actual-size")})`, "data-testid": "ls-zoom-1", onclick: () => this.oneToOne() }, "1:1"),
      h("span", { class: "ls-sep" }),
      range("Brightness", "ls-brightness", () => this.brightness, (v) => (this.brightness = v)),
      range("Contrast", "ls-contrast", () => this.contrast, (v) => (this.contrast = v)));
  }

  private applyFilter(): void {
    const img = this.world.querySelector("img");
    if (img) img.style.filter = this.brightness === 100 && this.contrast === 100 ? "" : `brightness(${this.brightness}%) contrast(${this.contrast}%)`;
  }

  private paintImage(): void {
    const d = this.detail;
    if (this.video) return;
    clear(this.world);
    if (!d || !this.imageUrl) return;
    const w = Number(d.fields.width), hgt = Number(d.fields.height);
    this.world.style.width = `${w}px`;
    this.world.style.height = `${hgt}px`;
    this.world.append(h("img", { src: this.imageUrl, alt: String(d.fields.file_name ?? ""), draggable: "false" }));
    this.zoom = new ZoomState(w, hgt);
    this.fit();
    this.applyFilter();
  }

  /** Masks and boxes: redrawn when annotations are hidden or shown, or the zoom changes much. */
  private paintOverlays(): void {
    const d = this.detail;
    if (!d || !this.zoom) return;
    for (const el of [...this.world.querySelectorAll("canvas, svg")]) el.remove();
    const w = this.zoom.imageW, hgt = this.zoom.imageH;
    const opts = { boxes: true, masks: true, labels: true, hidden: this.hidden, maskFillAlpha: 90,
      displayWidth: w * this.zoom.scale, displayHeight: hgt * this.zoom.scale, maskResolution: 1024,
      styleOf: this.o.coloring?.styleFor(d.sample_id) };
    const mask = maskCanvas(w, hgt, d.annotations, opts);
    if (mask) this.world.append(mask);
    const svg = overlaySvg(w, hgt, d.annotations, opts);
    if (svg) this.world.append(svg);
  }

  private place(): void {
    const z = this.zoom;
    if (!z) return;
    this.world.style.transform = `translate(${z.x}px, ${z.y}px) scale(${z.scale})`;
    this.zoomLabel.textContent = `${Math.round(z.scale * 100)}%`;
    this.imageBox.dataset.scale = String(z.scale);
  }

  fit(): void {
    if (!this.zoom) return;
    this.zoom.fit(this.imageBox.clientWidth || 600, this.imageBox.clientHeight || 400);
    this.place();
    this.paintOverlays();
  }

  oneToOne(): void {
    if (!this.zoom) return;
    this.zoom.zoomAt(1, this.imageBox.clientWidth / 2, this.imageBox.clientHeight / 2);
    this.place();
    this.paintOverlays();
  }

  private fitOrOneToOne(): void {
    if (this.zoom && Math.abs(this.zoom.scale - 1) < 1e-3) this.fit();
    else this.oneToOne();
  }

  zoomBy(factor: number, cx = this.imageBox.clientWidth / 2, cy = this.imageBox.clientHeight / 2): void {
    if (!this.zoom) return;
    this.zoom.zoomAt(this.zoom.scale * factor, cx, cy);
    this.place();
    this.scheduleOverlays();
  }

  private overlayTimer: ReturnType<typeof setTimeout> | null = null;
  /** Strokes and label text are sized for the zoom: redraw once the wheel stops. */
  private scheduleOverlays(): void {
    if (this.overlayTimer) clearTimeout(this.overlayTimer);
    this.overlayTimer = setTimeout(() => this.paintOverlays(), 120);
  }

  private onWheel(e: WheelEvent): void {
    if (!this.zoom) return;
    e.preventDefault();
    const r = this.imageBox.getBoundingClientRect();
    this.zoomBy(Math.exp(-e.deltaY * 0.0015), e.clientX - r.left, e.clientY - r.top);
  }

  private onDrag(e: PointerEvent): void {
    if (!this.zoom || e.button !== 0 || (e.target as HTMLElement).closest("button, input, label")) return;
    e.preventDefault();
    let lastX = e.clientX, lastY = e.clientY;
    this.imageBox.classList.add("ls-panning");
    const move = (m: PointerEvent) => {
      this.zoom!.pan(m.clientX - lastX, m.clientY - lastY);
      lastX = m.clientX;
      lastY = m.clientY;
      this.place();
    };
    const up = () => {
      window.removeEventListener("pointermove", move);
      window.removeEventListener("pointerup", up);
      this.imageBox.classList.remove("ls-panning");
    };
    window.addEventListener("pointermove", move);
    window.addEventListener("pointerup", up);
  }

  private onKey(e: KeyboardEvent): void {
    if ((e.target as HTMLElement).tagName === "INPUT" && (e.target as HTMLInputElement).type !== "range") return;
    // The keys are the user's (views/shortcuts.ts, customisable in the settings dialog).
    const action = actionIn("detail", e);
    if (action === "detail.close") this.o.onClose();
    else if (action === "detail.previous") this.o.onStep(-1);
    else if (action === "detail.next") this.o.onStep(1);
    else if (action === "detail.zoom-in") this.zoomBy(1.25);
    else if (action === "detail.zoom-out") this.zoomBy(1 / 1.25);
    else if (action === "detail.fit") this.fit();
    else if (action === "detail.actual-size") this.oneToOne();
    else return;
    e.preventDefault();
  }

  private async copyImage(): Promise<void> {
    const img = this.world.querySelector("img");
    const note = (text: string, error = false) => {
      const el = h("div", { class: `ls-detail-note${error ? " ls-error" : ""}`, role: "status", "data-testid": "ls-detail-note" }, text);
      this.imageBox.append(el);
      setTimeout(() => el.remove(), 2500);
    };
    try {
      if (!img || !navigator.clipboard || typeof ClipboardItem === "undefined") throw new Error("This browser cannot copy images (needs https or localhost).");
      // Clipboards take PNG: draw the image (as shown, with brightness and contrast) once.
      const canvas = h("canvas", { width: img.naturalWidth, height: img.naturalHeight });
      const ctx = canvas.getContext("2d")!;
      ctx.filter = img.style.filter || "none";
      ctx.drawImage(img, 0, 0);
      const blob = await new Promise<Blob>((ok, fail) => canvas.toBlob((b) => (b ? ok(b) : fail(new Error("Cannot encode the image."))), "image/png"));
      await navigator.clipboard.write([new ClipboardItem({ "image/png": blob })]);
      note("Image copied");
    } catch (e) {
      note((e as Error).message, true);
    }
  }

  // -- side panel ---------------------------------------------------------------------------
  private async setTag(tag: string, remove: boolean): Promise<void> {
    if (!this.detail || !tag.trim()) return;
    await this.o.rpc.call("tag_samples", { dataset_id: this.o.datasetId, sample_ids: [this.detail.sample_id], tag: tag.trim(), remove });
    const tags = new Set(this.detail.tags);
    if (remove) tags.delete(tag.trim()); else tags.add(tag.trim());
    this.detail.tags = [...tags].sort();
    this.renderSide();
    this.o.onTagsChanged();
  }

  private setHidden(ids: string[], hide: boolean): void {
    for (const id of ids) if (hide) this.hidden.add(id); else this.hidden.delete(id);
    this.paintOverlays();
    this.renderSide();
  }

  private renderSide(): void {
    const d = this.detail;
    const scroll = this.side.scrollTop;
    clear(this.side);
    if (!d) return;
    const input = h("input", { type: "text", placeholder: "Add tag + Enter", "data-testid": "ls-detail-tag-input", style: "width:100%" });
    input.addEventListener("keydown", (e) => { if (e.key === "Enter") void this.setTag(input.value, false); });
    const allIds = d.annotations.map((a) => a.annotation_id);
    const styleOf = this.o.coloring?.styleFor(d.sample_id);
    const anyShown = allIds.some((id) => !this.hidden.has(id));
    appendAll(this.side,
      h("div", { class: "ls-section" }, h("h4", {}, "Tags"),
        h("div", { "data-testid": "ls-detail-tags" }, d.tags.map((t) => h("span", { class: "ls-tagchip" }, t,
          h("button", { title: `Remove tag ${t}`, "aria-label": `Remove tag ${t}`, onclick: () => void this.setTag(t, true) }, "×")))),
        input),
      h("div", { class: "ls-section", "data-testid": "ls-detail-annotations" },
        styleOf ? h("div", { class: "ls-muted" }, `Evaluation “${this.o.coloring!.run}”`,
          this.o.coloring!.colorBy === "outcome" ? outcomeLegend() : null) : null,
        // A video's own labels (time spans, classes of the whole clip); its frames' labels are
        // the frame section's.
        h("h4", {}, `${this.frameSection ? "Video annotations" : "Annotations"} (${d.annotations.length})`,
          d.annotations.length ? h("button", { class: "ls-link", "data-testid": "ls-detail-toggle-all",
            onclick: () => this.setHidden(allIds, anyShown) }, anyShown ? "Hide all" : "Show all") : null),
        d.annotations.map((a) => {
          const shown = !this.hidden.has(a.annotation_id);
          const eye = h("button", { class: "ls-icon-only", "aria-pressed": String(shown), title: shown ? "Hide" : "Show",
            "aria-label": `${shown ? "Hide" : "Show"} ${a.label}`, "data-testid": "ls-detail-ann-eye",
            onclick: () => this.setHidden([a.annotation_id], shown) }, icon(shown ? "eye" : "eyeOff"));
          const kind = a.type.replace(/_/g, " ");
          const size = a.box ? ` ${Math.round(a.box[2])}×${Math.round(a.box[3])} px` : "";
          const st = styleOf?.(a);
          const outcome = st?.outcome && st.outcome !== "ignored" ? st.outcome.toUpperCase() : "";
          return h("div", { class: `ls-ann${shown ? "" : " ls-ann-hidden"}${st?.dim ? " ls-ann-dim" : ""}`,
            "data-annotation-id": a.annotation_id, "data-outcome": st?.outcome ?? null },
            h("span", { class: "ls-dot", style: `background:${st?.color ?? labelColor(a.label)}` }),
            h("div", { class: "ls-name" }, h("div", { class: "ls-ann-label", title: a.label }, a.label,
              outcome ? h("span", { class: "ls-outcome-tag", style: `background:${OUTCOME_COLORS[st!.outcome!]}` }, outcome) : null),
              h("div", { class: "ls-sub" }, `${kind}${size}` +
                (a.confidence !== null && a.confidence !== undefined ? ` · ${a.confidence.toFixed(2)}` : "") +
                (a.source !== "ground_truth" ? ` · ${a.source}` : ""))), eye);
        })),
      this.frameSection?.el,
      d.captions.length ? h("div", { class: "ls-section" }, h("h4", {}, "Captions"), d.captions.map((c) => h("p", { style: "margin:0 0 6px" }, c))) : null,
      Object.keys(d.metadata).length ? h("div", { class: "ls-section" }, h("h4", {}, "Metadata"), this.table(Object.entries(d.metadata))) : null,
      h("div", { class: "ls-section", "data-testid": "ls-detail-fields" }, h("h4", {}, "Sample"), this.table(visibleFields(d.fields))),
    );
    this.side.scrollTop = scroll;
  }

  private table(rows: [string, unknown][]): HTMLTableElement {
    return h("table", { class: "ls-kv" }, rows.filter(([, v]) => v !== null).map(([k, v]) =>
      h("tr", {}, h("td", {}, k), h("td", {}, formatValue(v)))));
  }

  dispose(): void {
    this.offColoring?.();
    this.video?.dispose();
    this.resize.disconnect();
    if (this.overlayTimer) clearTimeout(this.overlayTimer);
    if (this.imageUrl) URL.revokeObjectURL(this.imageUrl);
  }
}
