// Wiring input to the annotator: pointer and wheel events on the stage, the toolbar's inputs,
// and the keyboard (a key becomes an action, see keys.ts; `run` does what an action says).

import type { Commands } from "./commands";
import { actionFor, type Action } from "./keys";
import type { Loader } from "./loader";
import type { Elements, SidePanel } from "./panel";
import { zoomAt } from "./shapes";
import type { AnnotatorState, ColorBy, MaskKind, Screen, Tool } from "./state";
import type { PointerTools } from "./tools";

export class Controls {
  constructor(
    private readonly st: AnnotatorState,
    private readonly els: Elements,
    private readonly tools: PointerTools,
    private readonly commands: Commands,
    private readonly loader: Loader,
    private readonly side: SidePanel,
    private readonly screen: Screen,
  ) {}

  /** Listen to the stage, the keyboard and the toolbar inputs; returns the disposers. */
  bind(): (() => void)[] {
    const { st, els, tools } = this;
    const stage = els.stage;
    stage.addEventListener("pointerdown", (e) => tools.onDown(e));
    stage.addEventListener("pointermove", (e) => tools.onMove(e));
    stage.addEventListener("pointerup", (e) => tools.onUp(e));
    stage.addEventListener("pointercancel", (e) => tools.onUp(e));
    stage.addEventListener("dblclick", (e) => {
      if (st.tool === "polygon") {
        e.preventDefault();
        void tools.closePolygon();
      }
    });
    stage.addEventListener("wheel", (e) => {
      e.preventDefault();
      const [vx, vy] = tools.viewPoint(e);
      tools.setTransform(zoomAt(st.t, Math.pow(1.0015, -e.deltaY), vx, vy));
    }, { passive: false });
    els.el.addEventListener("keydown", (e) => this.onKey(e));
    els.el.addEventListener("keyup", (e) => {
      if (e.key === " ") {
        st.spaceDown = false;
        tools.updateCursor();
      }
    });
    els.labelInput.addEventListener("change", () => {
      const name = els.labelInput.value.trim();
      if (name && !st.labels.includes(name)) {
        st.labels.push(name);
        this.screen.renderSide();
      }
    });
    els.maskKindSelect.addEventListener("change", () => (st.maskKind = els.maskKindSelect.value as MaskKind));
    els.colorSelect.addEventListener("change", () => {
      st.colorBy = els.colorSelect.value as ColorBy;
      this.screen.renderAll();
    });
    els.brushSize.addEventListener("input", () => this.screen.renderVectors());
    const ro = new ResizeObserver(() => {
      if (st.data?.sample && st.t.scale === st.fitScale) tools.fit();
    });
    ro.observe(stage);
    return [() => ro.disconnect()];
  }

  private onKey(e: KeyboardEvent): void {
    const target = e.target as HTMLElement;
    const typing = target.tagName === "INPUT" || target.tagName === "TEXTAREA" || target.tagName === "SELECT";
    if (typing) {
      if (e.key === "Escape") {
        target.blur();
        this.els.el.focus();
      }
      e.stopPropagation();
      return;
    }
    if (e.key === " ") {
      this.st.spaceDown = true;
      this.tools.updateCursor();
      e.preventDefault();
      e.stopPropagation();
      return;
    }
    const action = actionFor(e);
    if (!action) return;
    e.preventDefault();
    e.stopPropagation();
    this.run(action);
  }

  /** Do what a shortcut says (also used by tests through the keyboard). */
  run(action: Action): void {
    const { st, els, tools, commands } = this;
    if (action.startsWith("tool:")) return this.setTool(action.slice(5) as Tool);
    if (action.startsWith("label:")) {
      const name = st.labels[Number(action.slice(6)) - 1];
      if (!name) return;
      els.labelInput.value = name;
      const sel = st.selected ? st.ann(st.selected) : undefined;
      if (sel && sel.label !== name) void commands.update(sel.annotation_id, { label: sel.label }, { label: name }, "class");
      return;
    }
    const r = els.stage.getBoundingClientRect();
    const brush = els.brushSize;
    switch (action) {
      case "next": void this.loader.step(1); break;
      case "previous": void this.loader.step(-1); break;
      case "next-frame": void this.loader.stepFrame(1); break;
      case "previous-frame": void this.loader.stepFrame(-1); break;
      case "undo": void commands.undo(); break;
      case "redo": void commands.redo(); break;
      case "delete":
        if (st.tool === "polygon" && st.draft.length) {
          st.draft.splice(-2, 2);
          this.screen.renderVectors();
        } else if (st.selected) void commands.deleteAnn(st.selected);
        break;
      case "escape":
        if (st.draft.length) st.draft = [];
        else this.screen.select(null);
        this.screen.renderVectors();
        break;
      case "close-polygon": void tools.closePolygon(); break;
      case "brush-smaller": brush.value = String(Math.max(1, Math.round(Number(brush.value) / 1.25))); break;
      case "brush-bigger": brush.value = String(Math.min(200, Math.round(Number(brush.value) * 1.25) + 1)); break;
      case "zoom-in": tools.setTransform(zoomAt(st.t, 1.25, r.width / 2, r.height / 2)); break;
      case "zoom-out": tools.setTransform(zoomAt(st.t, 0.8, r.width / 2, r.height / 2)); break;
      case "zoom-fit": tools.fit(); break;
      case "accept": if (st.selected) void commands.accept(st.selected); break;
      case "focus-label": els.labelInput.focus(); els.labelInput.select(); break;
      case "focus-class": this.side.classInput?.focus(); break;
      case "focus-caption": this.side.captionInput?.focus(); break;
      case "toggle-mask-kind":
        st.maskKind = st.maskKind === "instance_segmentation" ? "semantic_segmentation" : "instance_segmentation";
        els.maskKindSelect.value = st.maskKind;
        this.screen.setStatus(`New masks: ${st.maskKind.replace("_", " ")}`);
        break;
      case "toggle-color":
        // class -> source (-> evaluation outcome, when the explorer has a run chosen) -> class
        st.colorBy = st.colorBy === "class" ? "source" : st.colorBy === "source" && st.coloring ? "outcome" : "class";
        els.colorSelect.value = st.colorBy;
        els.colorSelect.dispatchEvent(new Event("change")); // repaints, shows the legend
        break;
    }
  }

  setTool(tool: Tool): void {
    const st = this.st;
    if (tool !== "polygon" && st.draft.length) st.draft = [];
    st.tool = tool;
    for (const [t, b] of this.els.toolButtons) b.classList.toggle("ls-active", t === tool);
    this.els.el.dataset.tool = tool;
    this.tools.updateCursor();
    this.screen.renderVectors();
  }
}
