// The host page's colour scheme, so a view matches the page around it and not only the OS
// setting: JupyterLab's theme flag, marimo's and VS Code's theme classes, VS Code's and
// Colab's surface colour variables, an inherited CSS `color-scheme`, else the luminance of the first opaque background behind the view (Colab,
// any other host). null when nothing says (then the stylesheet follows the OS).

export type Scheme = "light" | "dark";

function fromMarkers(doc: Document): Scheme | null {
  const body = doc.body;
  const jp = body?.dataset.jpThemeLight;
  if (jp === "true") return "light";
  if (jp === "false") return "dark";
  for (const node of [doc.documentElement, body]) {
    if (!node) continue;
    const cls = node.classList;
    if (cls.contains("vscode-dark") || cls.contains("vscode-high-contrast")) return "dark";
    if (cls.contains("vscode-light") || cls.contains("vscode-high-contrast-light")) return "light";
    // marimo puts "dark" (or "dark-theme") on the root element in its dark theme.
    if (cls.contains("dark") || cls.contains("dark-theme")) return "dark";
    if (cls.contains("light") || cls.contains("light-theme")) return "light";
    const theme = node.getAttribute("data-theme") ?? node.getAttribute("theme");
    if (theme === "dark" || theme === "light") return theme;
  }
  return null;
}

/** Relative luminance (0 black … 1 white) of a computed CSS colour; null when (nearly)
 * transparent or not an rgb() colour. */
export function luminance(color: string): number | null {
  const m = color.match(/rgba?\(([\d.]+)[,\s]+([\d.]+)[,\s]+([\d.]+)(?:[,\s/]+([\d.]+))?/);
  if (!m) return null;
  if (m[4] !== undefined && Number(m[4]) < 0.5) return null; // (nearly) transparent
  const [r, g, b] = [m[1], m[2], m[3]].map(Number);
  return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
}

/** A CSS colour (#hex, name, rgb()) as the browser computes it: rgb(r, g, b). */
function cssColor(doc: Document, value: string): string {
  const probe = doc.createElement("span");
  probe.style.color = value;
  probe.style.display = "none";
  doc.body.append(probe);
  const computed = doc.defaultView?.getComputedStyle(probe).color ?? "";
  probe.remove();
  return computed;
}

/** The scheme of the page around `el`. */
export function hostScheme(el: Element): Scheme | null {
  const marked = fromMarkers(el.ownerDocument);
  if (marked) return marked;
  const view = el.ownerDocument.defaultView;
  if (!view) return null;
  // VS Code's webviews and Colab's pages define their surface colour as a variable.
  const rootStyle = view.getComputedStyle(el.ownerDocument.documentElement);
  for (const name of ["--vscode-editor-background", "--colab-primary-surface-color"]) {
    const value = rootStyle.getPropertyValue(name).trim();
    const lum = value ? luminance(cssColor(el.ownerDocument, value)) : null;
    if (lum !== null) return lum < 0.5 ? "dark" : "light";
  }
  const parent = el.parentElement;
  if (parent) {
    const scheme = view.getComputedStyle(parent).colorScheme?.trim();
    if (scheme === "dark" || scheme === "light") return scheme;
  }
  for (let node: Element | null = parent; node; node = node.parentElement) {
    const lum = luminance(view.getComputedStyle(node).backgroundColor);
    if (lum !== null) return lum < 0.5 ? "dark" : "light";
  }
  return null;
}

/** Keep `data-ls-theme` on `el` in step with the host (theme switches included). */
export function followHostTheme(el: HTMLElement): () => void {
  const apply = () => {
    const scheme = hostScheme(el);
    if (scheme) el.dataset.lsTheme = scheme;
    else delete el.dataset.lsTheme;
  };
  apply();
  const doc = el.ownerDocument;
  const observer = new MutationObserver(apply);
  for (const node of [doc.documentElement, doc.body]) {
    if (node) observer.observe(node, { attributes: true, attributeFilter: ["class", "data-jp-theme-light", "data-theme", "theme", "style"] });
  }
  const media = doc.defaultView?.matchMedia?.("(prefers-color-scheme: dark)");
  media?.addEventListener?.("change", apply);
  // The element may be attached after render(): look again once it is.
  const raf = doc.defaultView?.requestAnimationFrame?.(apply);
  return () => {
    observer.disconnect();
    media?.removeEventListener?.("change", apply);
    if (raf !== undefined) doc.defaultView?.cancelAnimationFrame?.(raf);
  };
}
