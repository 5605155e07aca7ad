// The pointer tools on the stage: select / move / resize / drag a vertex, draw a box, click a
// polygon, paint or erase a mask, pan; hit testing; view and image coordinates; the zoom/pan
// transform of the stage.

import { pointInPolygon } from "../../lib/geometry";
import type { Commands } from "./commands";
import { MaskBitmap, unionDirty } from "./mask";
import type { Elements } from "./panel";
import type { Overlay } from "./render";
import {
  boxFromPoints, clipBox, clipRing, fitTransform, hitHandle, hitVertex, inBox, isDegenerate,
  moveBox, resizeBox, ringArea, round2, toImage, type Box, type ViewTransform,
} from "./shapes";
import { DRAFT_MASK, GT, MASKED, type Ann, type AnnotatorState, type PaintDrag, type Screen } from "./state";

export class PointerTools {
  constructor(
    private readonly st: AnnotatorState,
    private readonly els: Elements,
    private readonly commands: Commands,
    private readonly overlay: Overlay,
    private readonly screen: Screen,
  ) {}

  // --- coordinates and the view transform -----------------------------------------------------

  viewPoint(e: MouseEvent): [number, number] {
    const r = this.els.stage.getBoundingClientRect();
    return [e.clientX - r.left, e.clientY - r.top];
  }

  private imagePoint(e: MouseEvent): [number, number] {
    const [vx, vy] = this.viewPoint(e);
    return toImage(this.st.t, vx, vy);
  }

  private get tol(): number {
    return 6 / this.st.t.scale; // handle grab distance: 6 screen pixels
  }

  /** The brush radius in image pixels. */
  get radius(): number {
    return Number(this.els.brushSize.value) / 2;
  }

  fit(): void {
    const sample = this.st.data?.sample;
    if (!sample) return;
    const r = this.els.stage.getBoundingClientRect();
    if (r.width < 10 || r.height < 10) return;
    const t = fitTransform(sample.width, sample.height, r.width, r.height);
    this.st.fitScale = t.scale;
    this.setTransform(t);
  }

  setTransform(t: ViewTransform): void {
    const { world, el } = this.els;
    this.st.t = t;
    world.style.transform = `translate(${t.tx}px, ${t.ty}px) scale(${t.scale})`;
    world.classList.toggle("ls-pixelated", t.scale > 2);
    el.dataset.scale = String(t.scale);
    this.screen.renderVectors();
  }

  updateCursor(): void {
    const st = this.st;
    const panning = st.drag?.kind === "pan";
    this.els.stage.dataset.cursor = panning ? "grabbing" : st.spaceDown || st.tool === "pan" ? "grab" : st.tool === "select" ? "default" : "crosshair";
  }

  private currentLabel(): string {
    return this.st.currentLabel(this.els.labelInput.value);
  }

  // --- pointer events -------------------------------------------------------------------------

  onDown(e: PointerEvent): void {
    const st = this.st;
    if (!st.data?.sample) return;
    this.els.el.focus({ preventScroll: true });
    const [x, y] = this.imagePoint(e);
    const { width: W, height: H } = st.data.sample;
    const pan = e.button === 1 || st.spaceDown || st.tool === "pan";
    if (e.button === 2) return;
    this.els.stage.setPointerCapture(e.pointerId);
    if (pan) {
      const [vx, vy] = this.viewPoint(e);
      st.drag = { kind: "pan", x: vx, y: vy, t: { ...st.t } };
      this.updateCursor();
      return;
    }
    const sel = st.selected ? st.ann(st.selected) : undefined;
    if ((st.tool === "select" || st.tool === "box") && sel) {
      if (sel.type === "object_detection" && sel.box) {
        const handle = hitHandle(sel.box, x, y, this.tol);
        if (handle) {
          st.drag = { kind: "resize", id: sel.annotation_id, handle, start: [...sel.box] as Box, box: [...sel.box] as Box };
          return;
        }
      }
      if (sel.polygon) {
        const v = hitVertex(sel.polygon, x, y, this.tol);
        if (v) {
          st.drag = { kind: "vertex", id: sel.annotation_id, ring: v[0], vertex: v[1], start: sel.polygon.map((r) => [...r]), rings: sel.polygon.map((r) => [...r]) };
          return;
        }
      }
    }
    switch (st.tool) {
      case "select": {
        const hit = this.hitTest(x, y);
        this.screen.select(hit?.annotation_id ?? null);
        if (hit?.type === "object_detection" && hit.box) {
          st.drag = { kind: "move", id: hit.annotation_id, x, y, start: [...hit.box] as Box, box: [...hit.box] as Box };
        } else if (!hit) {
          const [vx, vy] = this.viewPoint(e);
          st.drag = { kind: "pan", x: vx, y: vy, t: { ...st.t } };
        }
        return;
      }
      case "box":
        st.drag = { kind: "draw-box", x0: clampTo(x, W), y0: clampTo(y, H), x1: clampTo(x, W), y1: clampTo(y, H) };
        return;
      case "polygon": {
        const px = round2(clampTo(x, W)), py = round2(clampTo(y, H));
        const draft = st.draft;
        if (draft.length >= 6 && Math.hypot(px - draft[0], py - draft[1]) <= this.tol) {
          void this.closePolygon();
          return;
        }
        const n = draft.length;
        if (n >= 2 && Math.hypot(px - draft[n - 2], py - draft[n - 1]) < 0.5 / st.t.scale) return;
        draft.push(px, py);
        this.screen.renderVectors();
        return;
      }
      case "brush":
      case "eraser": {
        const target = this.paintTarget();
        if (st.tool === "eraser" && !target) {
          this.screen.setStatus("Select a mask to erase from.", true);
          return;
        }
        const before = target ? st.maskOf(target) : null;
        const mask = before ? before.clone() : new MaskBitmap(W, H);
        const value: 0 | 1 = st.tool === "brush" ? 1 : 0;
        const dirty = mask.stroke(x, y, x, y, this.radius, value);
        st.drag = { kind: "paint", id: target?.annotation_id ?? null, mask, before, x, y, value, dirty };
        this.screen.renderMasks(dirty);
        return;
      }
    }
  }

  onMove(e: PointerEvent): void {
    const st = this.st;
    const d = st.drag;
    if (!d || !st.data?.sample) {
      if (st.tool === "brush" || st.tool === "eraser") this.renderCursor(e);
      return;
    }
    const { width: W, height: H } = st.data.sample;
    const [x, y] = this.imagePoint(e);
    switch (d.kind) {
      case "pan": {
        const [vx, vy] = this.viewPoint(e);
        this.setTransform({ scale: d.t.scale, tx: d.t.tx + vx - d.x, ty: d.t.ty + vy - d.y });
        return;
      }
      case "draw-box":
        d.x1 = clampTo(x, W);
        d.y1 = clampTo(y, H);
        break;
      case "move":
        d.box = moveBox(d.start, x - d.x, y - d.y, W, H);
        break;
      case "resize":
        d.box = resizeBox(d.start, d.handle, x, y, W, H);
        break;
      case "vertex":
        d.rings[d.ring][2 * d.vertex] = round2(clampTo(x, W));
        d.rings[d.ring][2 * d.vertex + 1] = round2(clampTo(y, H));
        break;
      case "paint": {
        const dirty = d.mask.stroke(d.x, d.y, x, y, this.radius, d.value);
        d.x = x;
        d.y = y;
        d.dirty = unionDirty(d.dirty, dirty);
        this.screen.renderMasks(dirty);
        this.renderCursor(e);
        return;
      }
    }
    this.screen.renderVectors();
  }

  onUp(e: PointerEvent): void {
    const st = this.st;
    const d = st.drag;
    st.drag = null;
    if (this.els.stage.hasPointerCapture(e.pointerId)) this.els.stage.releasePointerCapture(e.pointerId);
    this.updateCursor();
    if (!d || !st.data?.sample) return;
    const { width: W, height: H } = st.data.sample;
    switch (d.kind) {
      case "draw-box": {
        const box = clipBox(boxFromPoints(d.x0, d.y0, d.x1, d.y1), W, H).map(round2) as Box;
        this.screen.renderVectors();
        if (isDegenerate(box)) {
          if (box[2] > 0 || box[3] > 0) this.screen.setStatus("Box too small (each side needs at least 1 px); not saved.", true);
          return;
        }
        void this.commands.create({ type: "object_detection", label: this.currentLabel(), box }, "box");
        return;
      }
      case "move":
      case "resize": {
        const box = d.box.map(round2) as Box;
        if (box.every((v, i) => v === d.start[i])) return this.screen.renderVectors();
        if (isDegenerate(box)) {
          this.screen.setStatus("Box too small; not saved.", true);
          return this.screen.renderVectors();
        }
        const a = st.ann(d.id);
        if (a) a.box = box; // show it at once; the answer replaces it
        void this.commands.update(d.id, { box: d.start }, { box }, d.kind);
        return;
      }
      case "vertex": {
        const ring = d.rings[d.ring];
        if (ringArea(ring) < 1) {
          this.screen.setStatus("That would make the polygon degenerate; not saved.", true);
          return this.screen.renderVectors();
        }
        const a = st.ann(d.id);
        if (a) a.polygon = d.rings;
        void this.commands.update(d.id, { polygon: d.start, rle: a?.rle ?? null }, { polygon: d.rings }, "polygon");
        return;
      }
      case "paint":
        void this.commitPaint(d);
        return;
      case "pan":
        return;
    }
  }

  private renderCursor(e: PointerEvent): void {
    const [x, y] = this.imagePoint(e);
    this.overlay.renderCursor(x, y, this.radius);
  }

  // --- finishing a shape ----------------------------------------------------------------------

  private async commitPaint(d: PaintDrag): Promise<void> {
    const st = this.st;
    const count = d.mask.count();
    this.els.el.dataset.lastMaskPixels = String(count);
    if (d.id === null) {
      st.masks.set(DRAFT_MASK, d.mask);
      const ref = await this.commands.create({ type: st.maskKind, label: this.currentLabel(), rle: d.mask.toRle() }, "brush");
      st.masks.delete(DRAFT_MASK);
      if (!ref) this.screen.renderMasks();
      return;
    }
    const a = st.ann(d.id);
    if (!a) return;
    if (count === 0) {
      // Erasing everything removes the annotation (an empty mask is not stored).
      st.masks.set(d.id, d.mask);
      await this.commands.deleteAnn(d.id);
      return;
    }
    const before = { rle: a.rle, polygon: a.polygon };
    st.masks.set(d.id, d.mask);
    await this.commands.update(d.id, before, { rle: d.mask.toRle(), polygon: null }, d.value ? "brush" : "eraser");
  }

  async closePolygon(): Promise<void> {
    const st = this.st;
    const ring = st.draft;
    st.draft = [];
    this.screen.renderVectors();
    if (ring.length < 6 || ringArea(ring) < 1) {
      if (ring.length) this.screen.setStatus("A polygon needs at least 3 points and some area; not saved.", true);
      return;
    }
    const { width: W, height: H } = st.data!.sample!;
    await this.commands.create({ type: st.maskKind, label: this.currentLabel(), polygon: [clipRing(ring, W, H)] }, "polygon");
  }

  // --- hit testing ----------------------------------------------------------------------------

  /** The mask a brush stroke edits: the selected ground-truth mask; in semantic mode the
   *  sample's ground-truth mask of the current class; else none (the stroke creates one). */
  private paintTarget(): Ann | undefined {
    const st = this.st;
    const sel = st.selected ? st.ann(st.selected) : undefined;
    if (sel && MASKED.has(sel.type) && sel.rle) return sel;
    if (st.maskKind === "semantic_segmentation") {
      const label = this.currentLabel();
      return st.anns.find((a) => a.type === "semantic_segmentation" && a.source === GT && a.label === label && a.rle);
    }
    return undefined;
  }

  /** The topmost visible shape under image point (x, y). */
  private hitTest(x: number, y: number): Ann | undefined {
    const st = this.st;
    for (let i = st.anns.length - 1; i >= 0; i--) {
      const a = st.anns[i];
      if (!st.visible(a) || a.type === "classification") continue;
      if (a.type === "object_detection" && a.box && inBox(a.box, x, y)) return a;
      if (a.polygon && a.polygon.some((ring) => pointInPolygon(x, y, ring))) return a;
      if (a.rle && a.box && inBox(a.box, x, y)) {
        const m = st.maskOf(a);
        const px = Math.floor(x), py = Math.floor(y);
        if (px >= 0 && py >= 0 && px < m.width && py < m.height && m.data[py * m.width + px]) return a;
      }
    }
    return undefined;
  }
}

function clampTo(v: number, max: number): number {
  return v < 0 ? 0 : v > max ? max : v;
}
