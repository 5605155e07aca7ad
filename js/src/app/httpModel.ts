// The full-page app's stand-in for anywidget's `model`: the same views run on it unchanged.
//
// - Requests ({type: "request", id, method, params}, as sent by transport/rpc.ts) become
//   `POST api/<method>`; the reply comes back as the {type: "response", ...} message the rpc
//   client expects, with buffers as DataViews (what anywidget hands over too).
// - {type: "cancel"} aborts the fetch.
// - Server events arrive over a WebSocket (`ws`) and are re-emitted as {type: "event", ...}
//   messages, reconnecting with back-off (the server may be restarted from the notebook).
// - Traits (`get`/`set`) live here, in the page: there is no Python widget behind them.
//
// URLs are relative to the page, so the same code works at http://localhost:8001/ and under
// Jupyter's /lightly-studio/ (where POSTs also need Jupyter's _xsrf cookie as a header).

import type { ModelLike } from "../transport/model";
import { encodeFrames, FRAMES_TYPE, readReply } from "./wire";
import { toBytes } from "../transport/chunking";
import { API_ROUTE, EVENTS_ROUTE } from "../transport/constants";

type Handler = (...args: any[]) => void;

export interface HttpModelOptions {
  base?: string; // the page's base URL; default document.baseURI
  state?: Record<string, unknown>;
  fetch?: typeof fetch;
  webSocket?: typeof WebSocket | null; // null: no live events (tests)
}

export class HttpModel implements ModelLike {
  private readonly state: Record<string, unknown>;
  private readonly handlers = new Map<string, Set<Handler>>();
  private readonly inFlight = new Map<string, AbortController>();
  private readonly base: string;
  private readonly fetchFn: typeof fetch;
  private socket: WebSocket | null = null;
  private closed = false;
  private retryMs = 500;

  constructor(opts: HttpModelOptions = {}) {
    this.base = opts.base ?? document.baseURI;
    this.state = { ...(opts.state ?? {}) };
    this.fetchFn = opts.fetch ?? fetch.bind(globalThis);
    if (opts.webSocket !== null) this.connectEvents(opts.webSocket ?? WebSocket);
  }

  // -- traits ----------------------------------------------------------------------------------
  get(name: string): any {
    return this.state[name];
  }

  set(name: string, value: unknown): void {
    const old = this.state[name];
    this.state[name] = value;
    if (old !== value) this.emit(`change:${name}`, value, old);
  }

  save_changes(): void {
    this.emit("change", this.state);
  }

  on(event: string, cb: Handler): void {
    let set = this.handlers.get(event);
    if (!set) this.handlers.set(event, (set = new Set()));
    set.add(cb);
  }

  off(event?: string | null, cb?: Handler | null): void {
    if (!event) {
      this.handlers.clear();
      return;
    }
    if (!cb) this.handlers.delete(event);
    else this.handlers.get(event)?.delete(cb);
  }

  // -- messages --------------------------------------------------------------------------------
  send(content: any, _callbacks?: unknown, buffers?: ArrayBuffer[] | ArrayBufferView[]): void {
    if (!content || typeof content !== "object") return;
    if (content.type === "request") {
      const bytes = (buffers ?? []).map((b) => toBytes(b));
      void this.request(content.id, content.method, content.params ?? {}, bytes);
    }
    else if (content.type === "cancel") this.inFlight.get(content.id)?.abort();
    else this.emit("app:message", content); // anything else is for the page itself
  }

  /** Stop listening for events and abort every call in flight. */
  close(): void {
    this.closed = true;
    this.socket?.close();
    for (const c of this.inFlight.values()) c.abort();
    this.inFlight.clear();
  }

  /** An absolute URL for a path relative to the page (e.g. "media/<id>" for <video src>). */
  url(path: string): string {
    return new URL(path, this.base).toString();
  }

  private async request(id: string, method: string, params: unknown, buffers: Uint8Array[]): Promise<void> {
    const controller = new AbortController();
    this.inFlight.set(id, controller);
    try {
      const binary = buffers.length > 0;
      const headers: Record<string, string> = { "Content-Type": binary ? FRAMES_TYPE : "application/json" };
      const xsrf = readCookie("_xsrf");
      if (xsrf) headers["X-XSRFToken"] = xsrf;
      const resp = await this.fetchFn(this.url(`${API_ROUTE}${encodeURIComponent(method)}`), {
        method: "POST",
        headers,
        body: binary ? (encodeFrames(params, buffers) as Uint8Array<ArrayBuffer>) : JSON.stringify(params),
        signal: controller.signal,
        credentials: "same-origin",
      });
      const reply = await readReply(resp);
      this.emit(
        "msg:custom",
        reply.ok
          ? { type: "response", id, ok: true, result: reply.result }
          : { type: "response", id, ok: false, error: reply.error },
        reply.buffers,
      );
    } catch (e) {
      if ((e as Error).name === "AbortError") return; // the rpc client already rejected it
      this.emit(
        "msg:custom",
        { type: "response", id, ok: false, error: { type: "NetworkError", message: `Cannot reach the LightlyStudio server (${(e as Error).message}). Is start_gui() still running?` } },
        [],
      );
    } finally {
      this.inFlight.delete(id);
    }
  }

  private connectEvents(WS: typeof WebSocket): void {
    if (this.closed) return;
    const url = new URL(EVENTS_ROUTE, this.base);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WS(url.toString());
    this.socket = socket;
    socket.onopen = () => {
      this.retryMs = 500;
      this.emit("app:connection", true);
    };
    socket.onmessage = (ev) => {
      if (typeof ev.data !== "string") return;
      try {
        const msg = JSON.parse(ev.data);
        if (msg?.type === "event") this.emit("msg:custom", msg, []);
      } catch {
        /* not ours */
      }
    };
    socket.onclose = () => {
      this.emit("app:connection", false);
      if (this.closed) return;
      setTimeout(() => this.connectEvents(WS), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, 10_000);
    };
  }

  private emit(event: string, ...args: unknown[]): void {
    for (const cb of [...(this.handlers.get(event) ?? [])]) {
      try {
        cb(...args);
      } catch (e) {
        console.error(`lightly-studio: a "${event}" handler failed`, e);
      }
    }
  }
}

function readCookie(name: string): string | null {
  if (typeof document === "undefined") return null;
  const hit = document.cookie.split("; ").find((c) => c.startsWith(`${name}=`));
  return hit ? decodeURIComponent(hit.slice(name.length + 1)) : null;
}
