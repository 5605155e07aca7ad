// Label overlays drawn over an image shown with object-fit: contain. Boxes and class names
// are SVG in image pixel coordinates (viewBox = image size, so they follow the fit); masks
// are painted into a small canvas of the image's aspect ratio. With `styleOf` (an evaluation
// run chosen: evalColors.ts) colours, dimming and dashes come from each annotation's outcome.

import { labelColor, labelRgb } from "../lib/colors";
import { decodeRle, paintMaskOutlined, scaleMask } from "../lib/rle";
import { s } from "../lib/dom";
import type { AnnotationStyle, StyleOf } from "./evalColors";
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
  /** Per-annotation colour and emphasis (evaluation outcomes); absent: class colours. */
  styleOf?: StyleOf;
}

const DIM_OPACITY = 0.25;

function hexRgb(hex: string): [number, number, number] {
  const n = parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
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
  // Dimmed ones first, so the highlighted objects of a confusion cell are drawn on top.
  const styled: [Annotation, AnnotationStyle | undefined][] = visible.map((a) => [a, o.styleOf?.(a)]);
  styled.sort(([, p], [, q]) => Number(!!q?.dim) - Number(!!p?.dim));
  for (const [a, st] of styled) {
    const [x, y, w, h] = a.box!;
    const color = st?.color ?? labelColor(a.label);
    const opacity = st?.dim ? DIM_OPACITY : null;
    if (o.boxes) {
      svg.append(s("rect", {
        x, y, width: w, height: h, fill: "none", stroke: color,
        "stroke-width": st?.strong ? 3.5 : 2, "vector-effect": "non-scaling-stroke",
        "stroke-dasharray": st?.predicted ? "6 3" : null, opacity,
        "data-annotation-id": a.annotation_id, "data-outcome": st?.outcome ?? null,
        "data-dim": st ? String(st.dim) : null,
      }));
    }
    if (o.labels && !st?.dim) {
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
  // Bright ones first: a pixel painted stronger keeps its colour (paintMaskOutlined).
  const styled: [Annotation, AnnotationStyle | undefined][] = withMask.map((a) => [a, o.styleOf?.(a)]);
  styled.sort(([, p], [, q]) => Number(!!p?.dim) - Number(!!q?.dim));
  for (const [a, st] of styled) {
    const full = decodeRle(a.rle!, width, height);
    const small = k < 1 ? scaleMask(full, width, height, cw, ch) : full;
    const rgb = st?.color ? hexRgb(st.color) : labelRgb(a.label);
    const fill = o.maskFillAlpha ?? 50;
    if (st?.dim) paintMaskOutlined(img.data, small, cw, ch, rgb, Math.round(fill * DIM_OPACITY), 60);
    else paintMaskOutlined(img.data, small, cw, ch, rgb, fill);
  }
  ctx.putImageData(img, 0, 0);
  return canvas;
}
