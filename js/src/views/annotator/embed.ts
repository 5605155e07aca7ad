// Open the annotator inside another view (the explorer's sample detail, the full-page app)
// without a widget model of its own: a small in-memory model carries its settings. The host's
// rpc client must reach a server whose dispatch table lists lightly_studio.api.annotator.

import { h } from "../../lib/dom";
import type { ModelLike } from "../../transport/model";
import type { OutcomeColoring } from "../evalColors";
import type { RpcClient } from "../../transport/rpc";
import { injectAnnotatorStyles } from "./styles";
import { mountAnnotator } from "./view";

export interface OpenAnnotatorOptions {
  datasetId: string;
  /** The host's query spec (the annotator steps through its samples). */
  spec?: Record<string, unknown>;
  sampleId?: string;
  /** Select this annotation of the sample once it is loaded. */
  annotationId?: string;
  labels?: string[];
  height?: number;
  pollMs?: number;
  /** The explorer's evaluation colouring (boxes by TP / FP / FN while a run is chosen). */
  coloring?: OutcomeColoring;
  /** Called after the user closed the annotator (e.g. to reload the grid's labels). */
  onClose?: () => void;
}

/** A ModelLike over plain values: enough for views mounted inside another view. */
export function memoryModel(values: Record<string, unknown>): ModelLike {
  const listeners = new Map<string, Set<(...args: any[]) => void>>();
  return {
    get: (name) => values[name],
    set: (name, value) => {
      if (values[name] === value) return;
      values[name] = value;
      for (const cb of listeners.get(`change:${name}`) ?? []) cb();
    },
    save_changes: () => undefined,
    on: (event, cb) => {
      if (!listeners.has(event)) listeners.set(event, new Set());
      listeners.get(event)!.add(cb);
    },
    off: (event, cb) => {
      if (event && cb) listeners.get(event)?.delete(cb);
      else if (event) listeners.delete(event);
      else listeners.clear();
    },
    send: () => undefined,
  };
}

/** Mount the annotator over `container` with a Close button; returns a function closing it. */
export function openAnnotator(container: HTMLElement, rpc: RpcClient, o: OpenAnnotatorOptions): () => void {
  injectAnnotatorStyles(container);
  const model = memoryModel({
    spec: o.spec ?? { dataset_id: o.datasetId }, sample_id: o.sampleId ?? "", annotation_id: o.annotationId ?? "", index: 0,
    labels: o.labels ?? [], height: o.height ?? Math.max(480, container.clientHeight - 40),
    poll_ms: o.pollMs ?? 1500,
  });
  const host = h("div", { class: "ls-annotator-host", "data-testid": "ls-annotator-host", style: "position:absolute;inset:0;z-index:20;display:flex;flex-direction:column;background:var(--ls-bg,#fff)" });
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    dispose();
    host.remove();
    o.onClose?.();
  };
  host.append(h("div", { style: "display:flex;justify-content:flex-end;padding:4px" },
    h("button", { "data-testid": "ls-annotator-close", title: "Back (saved already)", onclick: close }, "Close annotator")));
  container.append(host);
  const dispose = mountAnnotator(host, model, rpc, { dataset_id: o.datasetId, coloring: o.coloring });
  return close;
}
