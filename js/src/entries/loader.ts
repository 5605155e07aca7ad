// What every widget's `_esm` holds (lightly_studio/widgets/_loader.py prepends its config):
// a few KB that load the view's bundle once per page instead of carrying it in each widget's
// saved state. The bundle comes from the jupyter-server extension when the page is Jupyter's
// and it serves the very same file (checked by SHA-256), else from the kernel over the
// widget's comm (VS Code, Colab, marimo). While neither answers — a notebook opened without a
// kernel — it says so and shows the widget's snapshot.

import { noticeIfSlow, type Snapshot } from "../transport/kernelless";
import { followHostTheme } from "../host/theme";

declare const LIGHTLY_STUDIO_LOADER: { bundle: string; sha256: string };

interface Model {
  get(name: string): any;
  on(event: string, cb: (...args: any[]) => void): void;
  off(event?: string | null, cb?: ((...args: any[]) => void) | null): void;
  send(content: any, callbacks?: unknown, buffers?: ArrayBuffer[]): void;
}
interface ViewModule {
  default: { render(props: { model: Model; el: HTMLElement; [k: string]: unknown }): unknown };
}

const config = LIGHTLY_STUDIO_LOADER;
const registry = ((globalThis as any).__lightlyStudioBundles ??= {}) as Record<string, Promise<ViewModule>>;

async function sha256(text: string): Promise<string | null> {
  const subtle = globalThis.crypto?.subtle; // only in secure contexts (https, localhost)
  if (!subtle) return null;
  const digest = await subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The bundle's source from the jupyter-server extension, if this page is Jupyter's and the
 * extension serves the same version; else null. */
async function fromServer(): Promise<string | null> {
  const data = document.getElementById("jupyter-config-data")?.textContent;
  if (!data) return null;
  try {
    const base: string = JSON.parse(data).baseUrl ?? "/";
    const url = new URL(`${base.replace(/\/?$/, "/")}lightly-studio/static/${config.bundle}`, location.href);
    const resp = await fetch(url, { credentials: "same-origin" });
    if (!resp.ok) return null;
    const text = await resp.text();
    return (await sha256(text)) === config.sha256 ? text : null;
  } catch {
    return null;
  }
}

function toText(buffer: ArrayBuffer | ArrayBufferView): string {
  const view = ArrayBuffer.isView(buffer) ? new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength) : new Uint8Array(buffer);
  return new TextDecoder().decode(view);
}

/** The bundle's source from the kernel (it answers {"type": "bundle"} with it). */
function fromKernel(model: Model): Promise<string> {
  return new Promise((resolve) => {
    const onMessage = (msg: any, buffers?: (ArrayBuffer | ArrayBufferView)[]) => {
      if (msg?.type !== "bundle" || msg.sha256 !== config.sha256 || !buffers?.length) return;
      model.off("msg:custom", onMessage);
      resolve(toText(buffers[0]));
    };
    model.on("msg:custom", onMessage);
    model.send({ type: "bundle", name: config.bundle });
  });
}

function load(model: Model): Promise<ViewModule> {
  let found = registry[config.sha256];
  if (!found) {
    found = (async () => {
      const source = (await fromServer()) ?? (await fromKernel(model));
      const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
      try {
        return (await import(/* @vite-ignore */ url)) as ViewModule;
      } finally {
        URL.revokeObjectURL(url);
      }
    })();
    // A failed load (e.g. this widget's kernel went away) must not stop the next widget's.
    found.catch(() => delete registry[config.sha256]);
    registry[config.sha256] = found;
  }
  return found;
}

async function render(props: { model: Model; el: HTMLElement; [k: string]: unknown }): Promise<() => void> {
  const { model, el } = props;
  const unfollow = followHostTheme(el);
  const loading = document.createElement("div");
  loading.className = "ls-root";
  loading.style.padding = "12px";
  loading.textContent = "Loading LightlyStudio…";
  el.append(loading);
  const clear = noticeIfSlow(el, () => model.get("_snapshot") as Snapshot | undefined);
  let dispose: unknown;
  try {
    const view = await load(model);
    clear();
    loading.remove();
    dispose = await view.default.render(props);
  } catch (e) {
    clear();
    loading.textContent = `LightlyStudio view failed to load: ${(e as Error).message}`;
    loading.classList.add("ls-error");
  }
  return () => {
    unfollow();
    if (typeof dispose === "function") dispose();
  };
}

export default { render };
