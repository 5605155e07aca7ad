// The annotation editor: the full-resolution image under an SVG layer (boxes, polygons,
// handles) and a canvas of masks at native resolution, inside a zoom/pan transform; a side
// panel with the annotations, image classes, captions and per-source / per-class visibility.
// Every edit is one api call (one transaction) and one undo step; the sample's revision is
// polled so edits made from Python appear without a reload.
//
// This class only wires the parts together; each lives in its own module:
//   state.ts     what is known about the sample and the interaction (one shared object)
//   loader.ts    loading, paging, polling, and the rpc wrapper every edit goes through
//   commands.ts  the undoable edits (over history.ts)
//   tools.ts     pointer tools, hit testing, the view transform
//   controls.ts  event wiring and keyboard actions
//   render.ts    masks canvas, SVG overlay, colours
//   panel.ts     toolbar, side panel, status line

import { h } from "../../lib/dom";
import type { ModelLike } from "../../transport/model";
import type { RpcClient } from "../../transport/rpc";
import { loadBindings } from "../shortcuts";
import { Commands } from "./commands";
import { Controls } from "./controls";
import { History } from "./history";
import type { Action } from "./keys";
import { Loader } from "./loader";
import { buildElements, errorText, setStatus, SidePanel, type Elements } from "./panel";
import { Overlay } from "./render";
import { AnnotatorState, type AnnotatorInfo, type Screen } from "./state";
import { PointerTools } from "./tools";

export type { Ann, AnnotatorInfo } from "./state";

export class Annotator {
  readonly el: HTMLDivElement;
  private readonly st = new AnnotatorState();
  private readonly els: Elements;
  private readonly overlay: Overlay;
  private readonly loader: Loader;
  private readonly commands: Commands;
  private readonly side: SidePanel;
  private readonly tools: PointerTools;
  private readonly controls: Controls;
  private readonly disposers: (() => void)[] = [];
  private screen!: Screen;

  constructor(
    private readonly model: ModelLike,
    private readonly rpc: RpcClient,
    info: AnnotatorInfo,
  ) {
    const st = this.st;
    const hist = new History();
    this.els = buildElements(model, {
      setTool: (tool) => this.controls.setTool(tool),
      undo: () => void this.commands.undo(),
      redo: () => void this.commands.redo(),
      fit: () => this.tools.fit(),
      step: (delta) => void this.loader.step(delta),
    });
    this.el = this.els.el;
    const screen: Screen = (this.screen = {
      renderAll: () => {
        this.el.dataset.count = String(st.anns.length);
        this.el.dataset.revision = st.data?.revision ?? "";
        this.overlay.renderMasks();
        this.overlay.renderVectors();
        this.side.render();
      },
      renderMasks: (dirty) => this.overlay.renderMasks(dirty),
      renderVectors: () => this.overlay.renderVectors(),
      renderSide: () => this.side.render(),
      setImageSize: (w, hgt) => this.overlay.setImageSize(w, hgt),
      fit: () => this.tools.fit(),
      select: (id) => {
        st.selected = id;
        screen.renderAll();
      },
      setStatus: (text, error = false) => setStatus(this.els.status, text, error),
      error: (e, prefix = "") => setStatus(this.els.status, errorText(e, prefix), true),
    });
    this.overlay = new Overlay(st, this.els);
    this.loader = new Loader(st, model, rpc, info, this.els, hist, screen);
    this.commands = new Commands(st, this.loader, hist, screen);
    this.side = new SidePanel(st, this.els, this.overlay, this.commands, screen);
    this.tools = new PointerTools(st, this.els, this.commands, this.overlay, screen);
    this.controls = new Controls(st, this.els, this.tools, this.commands, this.loader, this.side, screen);
    this.disposers.push(...this.controls.bind());
    this.controls.setTool("select");
    // The explorer's evaluation run: offer "colour: evaluation outcome" and start with it.
    const coloring = info.coloring;
    if (coloring?.run) {
      st.coloring = coloring;
      this.els.colorSelect.append(h("option", { value: "outcome" }, `colour: ${coloring.run} TP/FP/FN`));
      st.colorBy = "outcome";
      this.els.colorSelect.value = "outcome";
      // Its own row under the toolbar: the toolbar does not wrap and is full at 1024 px.
      this.els.legend.style.padding = "2px 8px";
      this.els.toolbar.after(this.els.legend);
      this.disposers.push(coloring.onChange(() => screen.renderAll()));
    }
    const showLegend = () => { this.els.legend.hidden = st.colorBy !== "outcome"; };
    this.els.colorSelect.addEventListener("change", showLegend);
    showLegend();
  }

  async start(): Promise<void> {
    const { st, model, loader } = this;
    st.labels = [...(model.get("labels") ?? [])];
    if (st.labels.length) this.els.labelInput.value = st.labels[0];
    const sid = String(model.get("sample_id") || "");
    await loader.load(sid ? { sample_id: sid } : { index: Number(model.get("index")) || 0 });
    // Opened on one annotation (the Annotations view's crop): select it.
    const preselect = String(model.get("annotation_id") || "");
    if (preselect && st.anns.some((a) => a.annotation_id === preselect)) this.screen.select(preselect);
    const poll = () => {
      const ms = Number(model.get("poll_ms")) || 0;
      if (ms > 0) timer = window.setTimeout(async () => {
        await loader.poll();
        poll();
      }, ms);
    };
    let timer = 0;
    poll();
    this.disposers.push(() => window.clearTimeout(timer));
    this.disposers.push(this.rpc.on("data_changed", () => void loader.refreshIfChanged()));
    const onIndex = () => {
      const i = Number(model.get("index"));
      if (Number.isFinite(i) && i !== st.index) void loader.load({ index: i });
    };
    model.on("change:index", onIndex);
    this.disposers.push(() => model.off("change:index", onIndex));
    const onLabels = () => {
      st.labels = [...new Set([...(model.get("labels") ?? []), ...st.labels])];
      this.side.render();
    };
    model.on("change:labels", onLabels);
    this.disposers.push(() => model.off("change:labels", onLabels));
  }

  dispose(): void {
    for (const d of this.disposers) d();
    this.loader.dispose();
  }

  /** Do what a shortcut says (also used by tests through the keyboard). */
  run(action: Action): void {
    this.controls.run(action);
  }
}

/** Mount the annotator into `el` (notebook widget or full-page app). Returns a disposer. */
export function mountAnnotator(el: HTMLElement, model: ModelLike, rpc: RpcClient, info: AnnotatorInfo): () => void {
  // The user's keyboard shortcuts first (one call per page, then cached): the tool tips and
  // the help list are built with them.
  let view: Annotator | null = null;
  let disposed = false;
  void loadBindings(rpc).then(() => {
    if (disposed) return;
    view = new Annotator(model, rpc, info);
    el.append(view.el);
    void view.start();
  });
  return () => {
    disposed = true;
    view?.dispose();
    view?.el.remove();
  };
}
