// What a view needs from its host: anywidget's `model` in a notebook, or the full-page app's
// shim over HTTP/WebSocket (js/src/app/). Keep this the only contract between them.

import type { Channel } from "./rpc";
import { toBytes } from "./chunking";

export interface ModelLike {
  get(name: string): any;
  set(name: string, value: unknown): void;
  save_changes(): void;
  on(event: string, cb: (...args: any[]) => void): void;
  off(event?: string | null, cb?: ((...args: any[]) => void) | null): void;
  send(content: any, callbacks?: unknown, buffers?: ArrayBuffer[] | ArrayBufferView[]): void;
}

/** Adapt a model's custom messages to an rpc Channel. */
export function modelChannel(model: ModelLike): Channel {
  return {
    send(msg, buffers) {
      model.send(msg, undefined, buffers ?? []);
    },
    onMessage(cb) {
      const handler = (msg: any, buffers?: (ArrayBuffer | ArrayBufferView)[]) =>
        cb(msg, (buffers ?? []).map(toBytes));
      model.on("msg:custom", handler);
      return () => model.off("msg:custom", handler);
    },
  };
}
