// The views' icon set: small stroke icons (24-unit grid, currentColor), so buttons follow the
// theme's text colour. Built with s() (never innerHTML).

import { h, s } from "./dom";

const PATHS: Record<string, string[]> = {
  filter: ["M3 5h18l-7 8v6l-4 2v-8z"],
  view: ["M3 4h7v7H3z", "M14 4h7v7h-7z", "M3 15h7v5H3z", "M14 15h7v5h-7z"],
  tag: ["M3 12V3h9l9 9-9 9z", "M7.5 7.5h.01"],
  plot: ["M4 20h16", "M4 20V4", "M8 15h.01", "M12 10h.01", "M16 13h.01", "M17 6h.01", "M10 6h.01"],
  evaluation: ["M4 20h16", "M6 16l4-5 3 3 5-7", "M18 7h-3", "M18 7v3"],
  classifier: ["M4 6h6v6H4z", "M14 6h6v6h-6z", "M4 16h16", "M7 20h10"],
  distribution: ["M4 20h16", "M6 20v-6", "M10 20V8", "M14 20v-9", "M18 20v-4"],
  query: ["M4 6h16", "M4 12h10", "M4 18h7", "M17 15l3 3-3 3"],
  export: ["M12 3v12", "M7 10l5 5 5-5", "M4 19h16"],
  plugins: ["M9 3v5", "M15 3v5", "M6 8h12v4a6 6 0 0 1-12 0z", "M12 18v3"],
  settings: ["M12 8a4 4 0 1 0 0 8 4 4 0 0 0 0-8z", "M12 2v3", "M12 19v3", "M2 12h3", "M19 12h3", "M4.9 4.9l2.1 2.1", "M17 17l2.1 2.1", "M4.9 19.1 7 17", "M17 7l2.1-2.1"],
  sun: ["M12 8a4 4 0 1 0 0 8 4 4 0 0 0 0-8z", "M12 2v2", "M12 20v2", "M2 12h2", "M20 12h2", "M5 5l1.5 1.5", "M17.5 17.5 19 19", "M5 19l1.5-1.5", "M17.5 6.5 19 5"],
  moon: ["M20 14.5A8 8 0 0 1 9.5 4 8 8 0 1 0 20 14.5z"],
  back: ["M15 5l-7 7 7 7"],
  prev: ["M15 5l-7 7 7 7"],
  next: ["M9 5l7 7-7 7"],
  zoomIn: ["M11 4a7 7 0 1 0 0 14 7 7 0 0 0 0-14z", "M20 20l-4-4", "M8 11h6", "M11 8v6"],
  zoomOut: ["M11 4a7 7 0 1 0 0 14 7 7 0 0 0 0-14z", "M20 20l-4-4", "M8 11h6"],
  fit: ["M4 9V4h5", "M20 9V4h-5", "M4 15v5h5", "M20 15v5h-5"],
  copy: ["M8 8h12v12H8z", "M4 16V4h12"],
  similar: ["M10 4a6 6 0 1 0 0 12 6 6 0 0 0 0-12z", "M21 21l-6.5-6.5", "M8 10h4"],
  edit: ["M4 20h4L19 9l-4-4L4 16z", "M14 6l4 4"],
  eye: ["M2 12s4-7 10-7 10 7 10 7-4 7-10 7S2 12 2 12z", "M12 9a3 3 0 1 0 0 6 3 3 0 0 0 0-6z"],
  eyeOff: ["M3 3l18 18", "M10.6 6.1A9.7 9.7 0 0 1 12 6c6 0 10 6 10 6a17 17 0 0 1-3.2 3.8", "M6.3 7.6C3.8 9.3 2 12 2 12s4 6 10 6c1.5 0 2.9-.4 4.1-1"],
  close: ["M6 6l12 12", "M18 6 6 18"],
  download: ["M12 3v12", "M7 10l5 5 5-5", "M4 19h16"],
  selectAll: ["M4 4h16v16H4z", "M8 12l3 3 5-6"],
  image: ["M3 5h18v14H3z", "M3 16l5-5 4 4 3-3 6 6", "M15.5 9h.01"],
  crop: ["M6 2v16h16", "M2 6h16v16"],
};

export type IconName = keyof typeof PATHS;

/** An inline SVG icon (aria-hidden: the button around it carries the label). */
export function icon(name: IconName, size = 16): SVGElement {
  return s("svg", { class: "ls-icon", width: size, height: size, viewBox: "0 0 24 24", fill: "none",
    stroke: "currentColor", "stroke-width": 2, "stroke-linecap": "round", "stroke-linejoin": "round", "aria-hidden": "true" },
  (PATHS[name] ?? []).map((d) => s("path", { d })));
}

/** A toolbar button: icon plus a text label that narrow layouts hide (the title keeps it). */
export function iconButton(name: IconName, label: string, attrs: Record<string, any> = {}): HTMLButtonElement {
  return h("button", { title: label, "aria-label": label, ...attrs, class: `ls-icon-button ${attrs.class ?? ""}`.trim() },
    icon(name), h("span", { class: "ls-label" }, label));
}
