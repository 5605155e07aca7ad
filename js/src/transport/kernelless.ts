// What a view shows while no kernel answers: after `waitMs` a notice that says what is needed
// (the notebook was opened without a kernel, e.g. an HTML export, or the kernel is busy) and
// the widget's snapshot (its counts and first thumbnails, taken when it was displayed). The
// caller keeps waiting: a busy kernel that answers late still opens the view.

export interface Snapshot {
  title?: string;
  lines?: string[];
  thumbnails?: string[];
}

export const NO_KERNEL =
  "No kernel answers this view. It is live only while the notebook's kernel runs: open the notebook in Jupyter (or marimo) and run the cell. The kernel may also be busy with another cell.";

/** How long a view waits for the bundle or the kernel's first answer before it says why
 * nothing shows (it keeps waiting after that). */
export const WAIT_MS = 8000;

const DATA_URI = "data:image/jpeg;base64,";

/** Build the notice (text only, no HTML from the snapshot is parsed). */
export function noKernelNotice(snapshot: Snapshot | undefined): HTMLElement {
  const box = document.createElement("div");
  box.className = "ls-root ls-no-kernel";
  box.style.padding = "8px 10px";
  if (snapshot?.title) {
    const head = document.createElement("div");
    const title = document.createElement("b");
    title.textContent = snapshot.title;
    head.append(title, ` · ${(snapshot.lines ?? []).join(" · ")}`);
    box.append(head);
  }
  const strip = document.createElement("div");
  strip.style.cssText = "display:flex;gap:4px;margin:6px 0;overflow:hidden";
  for (const uri of snapshot?.thumbnails ?? []) {
    if (typeof uri !== "string" || !uri.startsWith(DATA_URI)) continue;
    const img = document.createElement("img");
    img.src = uri;
    img.alt = "";
    img.style.cssText = "height:72px;border-radius:3px";
    strip.append(img);
  }
  if (strip.childElementCount) box.append(strip);
  const text = document.createElement("div");
  text.className = "ls-muted";
  text.textContent = NO_KERNEL;
  box.append(text);
  return box;
}

/** Show the notice in `el` if `pending` has not settled after `waitMs`; returns a function
 * that removes it (call it once the view mounts). */
export function noticeIfSlow(el: HTMLElement, snapshot: () => Snapshot | undefined, waitMs = WAIT_MS): () => void {
  let notice: HTMLElement | null = null;
  const timer = setTimeout(() => {
    notice = noKernelNotice(snapshot());
    el.append(notice);
  }, waitMs);
  return () => {
    clearTimeout(timer);
    notice?.remove();
  };
}
