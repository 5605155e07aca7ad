// Request/response over a message channel (anywidget custom messages, or the full-page app's
// WebSocket). Every request has an id; the answer is a "response" (ok or error), optionally
// followed by binary "part" messages when the payload was chunked, and preceded by any number
// of "progress" messages. Nothing relies on anywidget's 3-s default timeout: long calls
// report progress, and a call fails only when the other side says so (or the caller aborts).

import { joinParts, toBytes } from "./chunking";
import type { MethodName, Params, Result } from "./methods";

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** The minimal duplex channel the client needs. */
export interface Channel {
  send(msg: Record<string, unknown>, buffers?: ArrayBuffer[]): void;
  /** Subscribe to incoming messages; returns an unsubscribe function. */
  onMessage(cb: (msg: any, buffers: Uint8Array[]) => void): () => void;
}

export interface Progress {
  done: number;
  total: number | null;
  message?: string;
}

export interface CallOptions {
  onProgress?: (p: Progress) => void;
  signal?: AbortSignal;
  buffers?: ArrayBuffer[];
}

declare const resultTypeRequired: unique symbol;
/** Params of the untyped `call` when no result type was given: nothing fits, so the call
 * fails to type-check unless the method is in the `Methods` table (or a type is given). */
interface ResultTypeRequired {
  [resultTypeRequired]: "give the result type: call<T>(method, params)";
}

export interface Reply<T = any> {
  result: T;
  buffers: Uint8Array[];
}

/** An error the server raised on purpose (a LightlyStudioError) or an unexpected one. */
export class RpcError extends Error {
  constructor(
    message: string,
    readonly type: string,
    readonly method: string,
  ) {
    super(message);
    this.name = "RpcError";
  }
}

interface Pending {
  method: string;
  resolve: (r: Reply) => void;
  reject: (e: Error) => void;
  onProgress?: (p: Progress) => void;
  header?: { result: any; sizes: number[]; parts: number };
  parts: Uint8Array[];
  got: number;
}

export class RpcClient {
  private nextId = 1;
  private readonly pending = new Map<string, Pending>();
  private readonly listeners = new Map<string, Set<(payload: any) => void>>();
  private readonly unsubscribe: () => void;
  private readonly prefix = Math.random().toString(36).slice(2, 8);

  constructor(private readonly channel: Channel) {
    this.unsubscribe = channel.onMessage((msg, buffers) => this.receive(msg, buffers));
  }

  /** Call a method of the `Methods` table (./methods.ts); resolves with its typed result and
   * its binary buffers. */
  call<M extends MethodName>(method: M, params?: Params<M>, opts?: CallOptions): Promise<Reply<Result<M>>>;
  /** The untyped form, for a method name only known at run time: say the result type
   * (`call<T>(name, params)`); without one this form does not type-check. */
  call<T = never>(method: string, params?: [T] extends [never] ? ResultTypeRequired : Record<string, unknown>, opts?: CallOptions): Promise<Reply<T>>;
  call(method: string, params: Record<string, unknown> = {}, opts: CallOptions = {}): Promise<Reply> {
    const id = `${this.prefix}-${this.nextId++}`;
    return new Promise<Reply>((resolve, reject) => {
      if (opts.signal?.aborted) {
        reject(new DOMException("aborted", "AbortError"));
        return;
      }
      this.pending.set(id, {
        method,
        resolve,
        reject,
        onProgress: opts.onProgress,
        parts: [],
        got: 0,
      });
      opts.signal?.addEventListener("abort", () => {
        if (this.pending.delete(id)) {
          // Tell the other side so a queued call is skipped instead of computed for nobody.
          this.channel.send({ type: "cancel", id });
          reject(new DOMException("aborted", "AbortError"));
        }
      });
      this.channel.send({ type: "request", id, method, params }, opts.buffers);
    });
  }

  /** Listen to server-pushed events ({type: "event", name, payload}). */
  on(name: string, cb: (payload: any) => void): () => void {
    let set = this.listeners.get(name);
    if (!set) this.listeners.set(name, (set = new Set()));
    set.add(cb);
    return () => set!.delete(cb);
  }

  get inFlight(): number {
    return this.pending.size;
  }

  dispose(): void {
    this.unsubscribe();
    for (const p of this.pending.values()) p.reject(new Error("connection closed"));
    this.pending.clear();
  }

  private receive(msg: any, buffers: Uint8Array[]): void {
    if (!msg || typeof msg !== "object") return;
    if (msg.type === "event") {
      for (const cb of this.listeners.get(msg.name) ?? []) cb(msg.payload);
      return;
    }
    const p = this.pending.get(msg.id);
    if (!p) return; // an aborted call or another view's reply
    switch (msg.type) {
      case "progress":
        p.onProgress?.({ done: msg.done, total: msg.total ?? null, message: msg.message });
        return;
      case "response":
        if (!msg.ok) {
          this.pending.delete(msg.id);
          const err = msg.error ?? {};
          p.reject(new RpcError(err.message ?? "unknown error", err.type ?? "Error", p.method));
          return;
        }
        if (!msg.parts) {
          this.pending.delete(msg.id);
          p.resolve({ result: msg.result, buffers: buffers.map(toBytes) });
          return;
        }
        p.header = { result: msg.result, sizes: msg.buffer_sizes, parts: msg.parts };
        this.maybeFinish(msg.id, p);
        return;
      case "part":
        p.parts[msg.index] = toBytes(buffers[0]);
        p.got++;
        this.maybeFinish(msg.id, p);
        return;
    }
  }

  private maybeFinish(id: string, p: Pending): void {
    if (!p.header || p.got < p.header.parts) return;
    this.pending.delete(id);
    try {
      p.resolve({ result: p.header.result, buffers: joinParts(p.parts, p.header.sizes) });
    } catch (e) {
      p.reject(e as Error);
    }
  }
}
