// Label overlays drawn over an image shown with object-fit: contain. Boxes and class names
// are SVG in image pixel coordinates (viewBox = image size, so they follow the fit); masks
// are painted into a small canvas of the image's aspect ratio.

import { labelColor, labelRgb } from "../lib/colors";
import { decodeRle, paintMaskOutlined, scaleMask } from "../lib/rle";
import { s } from "../lib/dom";
import type { Annotation } from "./source";

export interface OverlayOptions {
  boxes: boolean;
  masks: boolean;
  labels: boolean;
  /** Annotation ids to hide (detail view eye toggles). */
  hidden?: Set<string>;
  /** Size of the element on screen, to keep strokes and text readable. */
  displayWidth: number;
  displayHeight: number;
  /** Longest side of the mask canvas (thumbnails: ~256). */
  maskResolution?: number;
  /** Opacity (0-255) of a mask's inside; its outline is always strong. */
  maskFillAlpha?: number;
}

export function overlaySvg(width: number, height: number, anns: Annotation[], o: OverlayOptions): SVGElement | null {
  if (!o.boxes && !o.labels) return null;
  const visible = anns.filter((a) => a.box && !o.hidden?.has(a.annotation_id));
  if (!visible.length) return null;
  const scale = Math.min(o.displayWidth / width, o.displayHeight / height) || 1;
  const fontSize = 11 / scale;
  const svg = s("svg", {
    viewBox: `0 0 ${width} ${height}`,
    preserveAspectRatio: "xMidYMid meet",
    "aria-hidden": "true",
  });
  for (const a of visible) {
    const [x, y, w, h] = a.box!;
    const color = labelColor(a.label);
    if (o.boxes) {
      svg.append(s("rect", {
        x, y, width: w, height: h, fill: "none", stroke: color,
        "stroke-width": 2, "vector-effect": "non-scaling-stroke",
      }));
    }
    if (o.labels) {
      const text = a.confidence !== null && a.confidence !== undefined ? `${a.label} ${a.confidence.toFixed(2)}` : a.label;
      const tw = text.length * fontSize * 0.6 + fontSize * 0.6;
      const ty = y >= fontSize * 1.3 ? y - fontSize * 1.3 : y;
      svg.append(s("rect", { x, y: ty, width: tw, height: fontSize * 1.3, fill: color, opacity: 0.85 }));
      svg.append(s("text", {
        x: x + fontSize * 0.3, y: ty + fontSize * 1.0, fill: "#fff",
        "font-size": fontSize, "font-family": "sans-serif",
      }, text));
    }
  }
  return svg;
}

export function maskCanvas(width: number, height: number, anns: Annotation[], o: OverlayOptions): HTMLCanvasElement | null {
  if (!o.masks) return null;
  const withMask = anns.filter((a) => a.rle && a.rle.length && !o.hidden?.has(a.annotation_id));
  if (!withMask.length) return null;
  const res = o.maskResolution ?? 256;
  const k = Math.min(1, res / Math.max(width, height));
  const cw = Math.max(1, Math.round(width * k));
  const ch = Math.max(1, Math.round(height * k));
  const canvas = document.createElement("canvas");
  canvas.width = cw;
  canvas.height = ch;
  canvas.style.objectFit = "contain";
  const ctx = canvas.getContext("2d");
  if (!ctx) return null;
  const img = ctx.createImageData(cw, ch);
  for (const a of withMask) {
    const full = decodeRle(a.rle!, width, height);
    const small = k < 1 ? scaleMask(full, width, height, cw, ch) : full;
    paintMaskOutlined(img.data, small, cw, ch, labelRgb(a.label), o.maskFillAlpha ?? 50);
  }
  ctx.putImageData(img, 0, 0);
  return canvas;
}
