// The annotator's DOM around the image: the toolbar, the layers of the stage, the side panel
// (annotations, image classes, captions, per-source / per-class visibility, keys) and the status
// line. The side panel is rebuilt from the state on every change.

import { appendAll, clear, h, s } from "../../lib/dom";
import { labelColor } from "../../lib/colors";
import type { ModelLike } from "../../transport/model";
import type { Commands } from "./commands";
import { displayKey, keysOf } from "../shortcuts";
import { shortcutList } from "./keys";
import { sourceColor, type Overlay } from "./render";
import { GT, type AnnotatorState, type Screen, type Tool } from "./state";
import { outcomeLegend } from "../evalColors";

const TOOLS: [Tool, string][] = [
  ["select", "Select"], ["box", "Box"], ["polygon", "Polygon"],
  ["brush", "Brush"], ["eraser", "Eraser"], ["pan", "Pan"],
];

/** A tool tip's key hint: the action's current keys (customisable in the settings dialog). */
const keyHint = (id: string) => keysOf(`annotator.${id}`).map(displayKey).join(" / ");

/** The elements every part of the annotator draws into or reads from. */
export interface Elements {
  el: HTMLDivElement;
  stage: HTMLDivElement;
  world: HTMLDivElement;
  img: HTMLImageElement;
  canvas: HTMLCanvasElement;
  svg: SVGElement;
  side: HTMLDivElement;
  status: HTMLDivElement;
  toolbar: HTMLDivElement;
  labelInput: HTMLInputElement;
  datalist: HTMLDataListElement;
  position: HTMLSpanElement;
  brushSize: HTMLInputElement;
  maskKindSelect: HTMLSelectElement;
  colorSelect: HTMLSelectElement;
  /** The TP / FP / FN key, shown while colouring by evaluation outcome. */
  legend: HTMLElement;
  toolButtons: Map<Tool, HTMLButtonElement>;
}

/** What the toolbar buttons do. */
export interface ToolbarActions {
  setTool(tool: Tool): void;
  undo(): void;
  redo(): void;
  fit(): void;
  step(delta: number): void;
}

export function buildElements(model: ModelLike, act: ToolbarActions): Elements {
  const datalist = h("datalist", { id: `ls-ann-labels-${Math.random().toString(36).slice(2, 8)}` });
  const labelInput = h("input", {
    type: "text", list: datalist.id, placeholder: "class", title: `Class of new shapes (${keyHint("focus-label")}); a new name creates it`,
    "data-testid": "ls-ann-label-input", style: "width:120px",
  });
  const brushSize = h("input", { type: "range", min: 1, max: 200, value: 20, title: `Brush size in image pixels (${keyHint("brush-smaller")} / ${keyHint("brush-bigger")})`, "data-testid": "ls-ann-brush-size", style: "width:80px" });
  const maskKindSelect = h("select", { title: `Masks from polygons and the brush are stored as (${keyHint("toggle-mask-kind")})`, "data-testid": "ls-ann-mask-kind" },
    h("option", { value: "instance_segmentation" }, "instance masks"),
    h("option", { value: "semantic_segmentation" }, "semantic masks"));
  // By class by default: by source, every ground-truth object had the same colour.
  const colorSelect = h("select", { title: `Colour by (${keyHint("toggle-color")})`, "data-testid": "ls-ann-color-by" }, h("option", { value: "class" }, "colour: class"), h("option", { value: "source" }, "colour: source"));
  const position = h("span", { class: "ls-count", "data-testid": "ls-ann-position" }, "–");
  const toolButtons = new Map<Tool, HTMLButtonElement>();
  const tools = h("div", { class: "ls-ann-tools" });
  for (const [tool, name] of TOOLS) {
    const b = h("button", { title: `${name} (${keyHint(`tool:${tool}`)})`, "data-testid": `ls-ann-tool-${tool}`, onclick: () => act.setTool(tool) }, `${name}`);
    toolButtons.set(tool, b);
    tools.append(b);
  }
  const toolbar = h("div", { class: "ls-toolbar" },
    tools, labelInput, datalist, maskKindSelect,
    h("label", { class: "ls-muted" }, "brush ", brushSize),
    colorSelect,
    h("button", { title: `Undo (${keyHint("undo")})`, "data-testid": "ls-ann-undo", onclick: () => act.undo() }, "↶"),
    h("button", { title: `Redo (${keyHint("redo")})`, "data-testid": "ls-ann-redo", onclick: () => act.redo() }, "↷"),
    h("button", { title: `Fit (${keyHint("zoom-fit")})`, onclick: () => act.fit() }, "Fit"),
    h("span", { class: "ls-spacer" }),
    h("button", { title: `Previous (${keyHint("previous")})`, "data-testid": "ls-ann-prev", onclick: () => act.step(-1) }, "◀"),
    position,
    h("button", { title: `Next (${keyHint("next")})`, "data-testid": "ls-ann-next", onclick: () => act.step(1) }, "▶"));
  const img = h("img", { alt: "", draggable: "false" });
  const canvas = h("canvas", {});
  const svg = s("svg", {});
  const world = h("div", { class: "ls-ann-world", "data-testid": "ls-ann-world" }, img, canvas, svg);
  const stage = h("div", { class: "ls-ann-stage", "data-testid": "ls-ann-stage" }, world);
  const side = h("div", { class: "ls-ann-side", "data-testid": "ls-ann-side" });
  const status = h("div", { class: "ls-ann-status", "data-testid": "ls-ann-status" }, "Loading…");
  const el = h("div", {
    class: "ls-root ls-annotator", tabindex: 0, "data-testid": "ls-annotator",
    // Keys typed here belong to the annotator, not to JupyterLab's notebook shortcuts.
    "data-lm-suppress-shortcuts": "true",
    style: `height:${Number(model.get("height")) || 640}px`,
  }, toolbar, h("div", { class: "ls-ann-body" }, stage, side), status);
  return {
    el, stage, world, img, canvas, svg, side, status, toolbar, labelInput, datalist, position,
    brushSize, maskKindSelect, colorSelect, toolButtons, legend: outcomeLegend(),
  };
}

export function setStatus(status: HTMLElement, text: string, error = false): void {
  status.textContent = text;
  status.classList.toggle("ls-error", error);
}

export function errorText(e: unknown, prefix = ""): string {
  const msg = e instanceof Error ? e.message : String(e);
  return prefix ? `${prefix}: ${msg}` : msg;
}

/** The side panel: a list of the sample's annotations and what can be done to them. */
export class SidePanel {
  /** The "add class" and "new caption" inputs of the last render (focused by keys). */
  classInput: HTMLInputElement | null = null;
  captionInput: HTMLTextAreaElement | null = null;

  constructor(
    private readonly st: AnnotatorState,
    private readonly els: Elements,
    private readonly overlay: Overlay,
    private readonly commands: Commands,
    private readonly screen: Screen,
  ) {}

  render(): void {
    const st = this.st;
    const { side, datalist } = this.els;
    const color = (a: { source: string; label: string }) => this.overlay.color(a);
    clear(side);
    clear(datalist);
    for (const l of st.labels) datalist.append(h("option", { value: l }));
    if (!st.data?.sample) return;
    const sources = [...new Set([...(st.data.sources ?? []), ...st.anns.map((a) => a.source)])];
    const classes = [...new Set([...st.anns.map((a) => a.label)])].sort();

    const toggles = (title: string, names: string[], hidden: Set<string>, dot: (n: string) => string, testid: string) =>
      h("div", { class: "ls-section", "data-testid": testid }, h("h4", {}, title),
        names.map((n) => {
          const box = h("input", { type: "checkbox" });
          box.checked = !hidden.has(n);
          box.addEventListener("change", () => {
            if (box.checked) hidden.delete(n);
            else hidden.add(n);
            if (st.selected && !st.visible(st.ann(st.selected)!)) st.selected = null;
            this.screen.renderAll();
          });
          return h("label", { class: "ls-check", "data-name": n }, box, h("span", { class: "ls-dot", style: `background:${dot(n)}` }), h("span", { class: "ls-name" }, n));
        }));

    const cmd = this.commands;
    const shapes = st.anns.filter((a) => a.type !== "classification");
    const list = h("div", { class: "ls-section", "data-testid": "ls-ann-list" }, h("h4", {}, `Annotations (${shapes.length})`));
    for (const a of shapes) {
      const row = h("div", { class: `ls-ann-row${a.annotation_id === st.selected ? " ls-selected" : ""}`, "data-ann": a.annotation_id, "data-type": a.type, "data-source": a.source });
      if (!st.visible(a)) row.style.opacity = "0.45";
      const input = h("input", { type: "text", list: datalist.id, value: a.label, title: `${a.label}: type another class name to relabel (a new name creates it)`, "data-testid": "ls-ann-row-label" });
      input.addEventListener("change", () => {
        const v = input.value.trim();
        if (v && v !== a.label) void cmd.update(a.annotation_id, { label: a.label }, { label: v }, "class");
      });
      appendAll(row,
        h("span", { class: "ls-dot", style: `background:${color(a)}` }),
        h("span", { class: "ls-kind", title: a.type }, kindLetter(a.type)),
        input,
        h("span", { class: "ls-src", title: a.source }, a.source === GT ? "" : a.source),
        a.confidence !== null && a.confidence !== undefined ? h("span", { class: "ls-conf", title: "confidence" }, a.confidence.toFixed(2)) : null,
        a.source !== GT ? h("button", { class: "ls-x", title: `Accept prediction into ground truth (${keyHint("accept")})`, "data-testid": "ls-ann-accept", onclick: (e: Event) => { e.stopPropagation(); void cmd.accept(a.annotation_id); } }, "✓") : null,
        h("button", { class: "ls-x", title: `Delete (${keyHint("delete")})`, onclick: (e: Event) => { e.stopPropagation(); void cmd.deleteAnn(a.annotation_id); } }, "×"));
      row.addEventListener("click", (e) => {
        if ((e.target as HTMLElement).tagName !== "INPUT") this.screen.select(a.annotation_id);
      });
      list.append(row);
    }

    // Whole-image classes.
    const cls = st.anns.filter((a) => a.type === "classification");
    const classInput = h("input", { type: "text", list: datalist.id, placeholder: "add class (C)", "data-testid": "ls-ann-class-input", style: "width:150px" });
    this.classInput = classInput;
    const addClass = () => {
      const v = classInput.value;
      classInput.value = "";
      void cmd.addClassification(v);
    };
    classInput.addEventListener("keydown", (e) => {
      if (e.key === "Enter") addClass();
    });
    const classSection = h("div", { class: "ls-section", "data-testid": "ls-ann-classes" }, h("h4", {}, "Image classes"),
      h("div", { class: "ls-chipline" }, cls.map((a) => h("span", { class: "ls-ann-chip", "data-label": a.label, "data-source": a.source, style: `border-color:${color(a)}` },
        a.label,
        a.confidence !== null && a.confidence !== undefined ? h("span", { class: "ls-conf" }, a.confidence.toFixed(2)) : null,
        a.source !== GT ? h("button", { class: "ls-x", title: `Accept (${a.source})`, onclick: () => void cmd.accept(a.annotation_id) }, "✓") : null,
        h("button", { class: "ls-x", title: "Remove", onclick: () => void cmd.deleteAnn(a.annotation_id) }, "×")))),
      h("div", { class: "ls-chipline" }, classInput, h("button", { "data-testid": "ls-ann-class-add", onclick: addClass }, "Add")));

    // Captions.
    const captionInput = h("textarea", { placeholder: "new caption (T)", "data-testid": "ls-ann-caption-input" });
    this.captionInput = captionInput;
    const captions = h("div", { class: "ls-section", "data-testid": "ls-ann-captions" }, h("h4", {}, "Captions"),
      st.data.captions.map((c) => {
        const ta = h("textarea", { "data-caption": c.caption_id });
        ta.value = c.text;
        ta.addEventListener("change", () => void cmd.captionEdit(c.caption_id, c.text, ta.value));
        return h("div", { class: "ls-cap" }, ta, h("button", { class: "ls-x", title: "Delete caption", onclick: () => void cmd.captionDelete(c.caption_id) }, "×"));
      }),
      captionInput,
      h("button", { "data-testid": "ls-ann-caption-add", onclick: () => { const v = captionInput.value; captionInput.value = ""; void cmd.captionAdd(v); } }, "Add caption"));

    const help = h("div", { class: "ls-section ls-ann-help" }, h("h4", {}, "Keys"),
      shortcutList().map(([key, what]) => h("div", {}, h("kbd", {}, key), " ", what)));

    appendAll(side, list, classSection, captions,
      toggles("Sources", sources, st.hiddenSources, (n) => sourceColor(n, sources), "ls-ann-sources"),
      toggles("Classes", classes, st.hiddenClasses, (n) => labelColor(n), "ls-ann-class-toggles"),
      help);
  }
}

function kindLetter(type: string): string {
  return type === "object_detection" ? "▭" : type === "instance_segmentation" ? "◆" : type === "semantic_segmentation" ? "▦" : "●";
}
