// Drawing the annotations over the image: masks composited into one canvas at native resolution,
// boxes / polygons / handles / the shape being drawn as SVG, and the colours of both (by source
// or by class).

import { clear, s } from "../../lib/dom";
import { hashString, labelColor, labelRgb } from "../../lib/colors";
import type { MaskBitmap, Dirty } from "./mask";
import type { Elements } from "./panel";
import { boxFromPoints, handlePoints, HANDLES } from "./shapes";
import { DRAFT_MASK, GT, type AnnotatorState } from "./state";
import { OUTCOME_COLORS, UNJUDGED_COLOR } from "../evalColors";

const SOURCE_COLORS = ["#2ca02c", "#ff7f0e", "#1f77b4", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf"];

/** Ground truth is always green; other sources take the next colours in order of appearance. */
export function sourceColor(source: string, sources: string[]): string {
  if (source === GT) return SOURCE_COLORS[0];
  const i = sources.filter((x) => x !== GT).indexOf(source);
  return SOURCE_COLORS[1 + ((i < 0 ? hashString(source) : i) % (SOURCE_COLORS.length - 1))];
}

export function hexRgb(hex: string): [number, number, number] {
  const n = parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/** The canvas and SVG layers of the stage. */
export class Overlay {
  private composite: ImageData | null = null;
  private cursorEl: SVGElement | null = null;

  constructor(
    private readonly st: AnnotatorState,
    private readonly els: Elements,
  ) {}

  color(a: { source: string; label: string; annotation_id?: string }): string {
    if (this.st.colorBy === "outcome") {
      const o = this.st.coloring?.outcomeOf(this.st.data?.sample?.sample_id ?? "", a.annotation_id ?? "");
      return o ? OUTCOME_COLORS[o.outcome] : UNJUDGED_COLOR;
    }
    return this.st.colorBy === "class" ? labelColor(a.label) : sourceColor(a.source, this.st.data?.sources ?? [GT]);
  }

  /** Size the layers for a new sample; the next mask paint starts from a clear composite. */
  setImageSize(w: number, hgt: number): void {
    const { img, canvas, svg, world } = this.els;
    for (const el of [img, canvas, svg] as Element[]) {
      el.setAttribute("width", String(w));
      el.setAttribute("height", String(hgt));
    }
    world.style.width = `${w}px`;
    world.style.height = `${hgt}px`;
    svg.setAttribute("viewBox", `0 0 ${w} ${hgt}`);
    this.composite = null;
  }

  /** Paint every visible mask into the canvas (or only the `dirty` rectangle). */
  renderMasks(dirty?: Dirty | null): void {
    const st = this.st;
    const sample = st.data?.sample;
    if (!sample) return;
    const { width: W, height: H } = sample;
    const ctx = this.els.canvas.getContext("2d");
    if (!ctx) return;
    if (!this.composite || this.composite.width !== W || this.composite.height !== H) {
      this.composite = ctx.createImageData(W, H);
      dirty = null;
    }
    const r = dirty ?? { x0: 0, y0: 0, x1: W, y1: H };
    const px = this.composite.data;
    for (let y = r.y0; y < r.y1; y++) px.fill(0, (y * W + r.x0) * 4, (y * W + r.x1) * 4);
    const layers: [MaskBitmap, [number, number, number], number][] = [];
    const d = st.drag?.kind === "paint" ? st.drag : null;
    for (const a of st.anns) {
      if (!a.rle || !st.visible(a)) continue;
      const m = d && d.id === a.annotation_id ? d.mask : st.maskOf(a);
      const rgb = st.colorBy === "class" ? labelRgb(a.label) : hexRgb(this.color(a));
      layers.push([m, rgb, a.annotation_id === st.selected ? 150 : 100]);
    }
    const draft = d && d.id === null ? d.mask : st.masks.get(DRAFT_MASK);
    if (draft) layers.push([draft, st.colorBy === "class" ? labelRgb(st.currentLabel(this.els.labelInput.value)) : hexRgb(SOURCE_COLORS[0]), 150]);
    for (const [m, rgb, alpha] of layers) {
      for (let y = r.y0; y < r.y1; y++) {
        const row = y * W;
        for (let x = r.x0; x < r.x1; x++) {
          if (!m.data[row + x]) continue;
          const o = (row + x) * 4;
          px[o] = rgb[0];
          px[o + 1] = rgb[1];
          px[o + 2] = rgb[2];
          px[o + 3] = alpha;
        }
      }
    }
    ctx.putImageData(this.composite, 0, 0, r.x0, r.y0, r.x1 - r.x0, r.y1 - r.y0);
  }

  /** Redraw the SVG layer: shapes, labels, handles of the selection, the shape being drawn. */
  renderVectors(): void {
    const st = this.st;
    const svg = this.els.svg;
    clear(svg);
    const sample = st.data?.sample;
    if (!sample) return;
    const k = 1 / st.t.scale; // one screen pixel in image pixels
    const d = st.drag;
    for (const a of st.anns) {
      if (!st.visible(a) || a.type === "classification") continue;
      const c = this.color(a);
      const sel = a.annotation_id === st.selected;
      const pred = a.source !== GT;
      let box = a.box;
      if (d && (d.kind === "move" || d.kind === "resize") && d.id === a.annotation_id) box = d.box;
      const rings = d && d.kind === "vertex" && d.id === a.annotation_id ? d.rings : a.polygon;
      const common = { stroke: c, fill: "none", "stroke-width": sel ? 2.5 : 1.5, "vector-effect": "non-scaling-stroke", "stroke-dasharray": pred ? "5 3" : null };
      if (a.type === "object_detection" && box) {
        svg.append(s("rect", { ...common, x: box[0], y: box[1], width: box[2], height: box[3], fill: sel ? "rgba(255,255,255,0.08)" : "none", "data-ann": a.annotation_id }));
      } else if (rings) {
        for (const ring of rings) svg.append(s("polygon", { ...common, points: pairs(ring), "data-ann": a.annotation_id }));
      } else if (sel && box) {
        svg.append(s("rect", { ...common, x: box[0], y: box[1], width: box[2], height: box[3], "stroke-dasharray": "2 2" }));
      }
      if (box) {
        const text = `${a.label}${a.confidence !== null && a.confidence !== undefined ? ` ${a.confidence.toFixed(2)}` : ""}`;
        svg.append(s("text", { class: "ls-ann-label", x: box[0] + 2 * k, y: box[1] - 4 * k, "font-size": 12 * k, "stroke-width": 3 * k }, text));
      }
      if (sel && a.type === "object_detection" && box) {
        const pts = handlePoints(box);
        for (const hname of HANDLES) {
          const [hx, hy] = pts[hname];
          svg.append(s("rect", { x: hx - 4 * k, y: hy - 4 * k, width: 8 * k, height: 8 * k, fill: "#fff", stroke: c, "stroke-width": 1, "vector-effect": "non-scaling-stroke", "data-handle": hname }));
        }
      }
      if (sel && rings) {
        rings.forEach((ring, ri) => {
          for (let i = 0; i < ring.length; i += 2) {
            svg.append(s("circle", { cx: ring[i], cy: ring[i + 1], r: 4 * k, fill: "#fff", stroke: c, "stroke-width": 1, "vector-effect": "non-scaling-stroke", "data-vertex": `${ri}:${i / 2}` }));
          }
        });
      }
    }
    if (d?.kind === "draw-box") {
      const b = boxFromPoints(d.x0, d.y0, d.x1, d.y1);
      svg.append(s("rect", { x: b[0], y: b[1], width: b[2], height: b[3], fill: "rgba(255,255,255,0.1)", stroke: "#fff", "stroke-width": 1.5, "stroke-dasharray": "4 3", "vector-effect": "non-scaling-stroke" }));
    }
    const draft = st.draft;
    if (draft.length) {
      const c = "#fff";
      svg.append(s("polyline", { points: pairs(draft), fill: "rgba(255,255,255,0.1)", stroke: c, "stroke-width": 1.5, "vector-effect": "non-scaling-stroke", "data-testid": "ls-ann-draft" }));
      for (let i = 0; i < draft.length; i += 2) {
        svg.append(s("circle", { cx: draft[i], cy: draft[i + 1], r: (i === 0 ? 5 : 3) * k, fill: i === 0 ? "#ff0" : c }));
      }
    }
  }

  /** The brush outline at image point (x, y) with radius r (image pixels). */
  renderCursor(x: number, y: number, r: number): void {
    if (!this.cursorEl || !this.cursorEl.isConnected) {
      this.cursorEl = s("circle", { fill: "none", stroke: "#fff", "stroke-width": 1, "vector-effect": "non-scaling-stroke", "pointer-events": "none" });
      this.els.svg.append(this.cursorEl);
    }
    this.cursorEl.setAttribute("cx", String(x));
    this.cursorEl.setAttribute("cy", String(y));
    this.cursorEl.setAttribute("r", String(r));
  }
}

function pairs(flat: number[]): string {
  const out: string[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push(`${flat[i]},${flat[i + 1]}`);
  return out.join(" ");
}
