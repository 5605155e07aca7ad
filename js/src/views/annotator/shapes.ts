// Pure geometry of the annotation editor, all in image pixels (top-left origin): boxes from
// drags, clipping, moving and resizing by handles, hit tests, and zoom/pan arithmetic.

export type Box = [number, number, number, number]; // x, y, width, height

/** The eight resize handles, named by compass direction. */
export const HANDLES = ["nw", "n", "ne", "e", "se", "s", "sw", "w"] as const;
export type Handle = (typeof HANDLES)[number];

/** The box spanned by two corner points, in any drag direction. */
export function boxFromPoints(x0: number, y0: number, x1: number, y1: number): Box {
  return [Math.min(x0, x1), Math.min(y0, y1), Math.abs(x1 - x0), Math.abs(y1 - y0)];
}

/** Clip a box to a width x height image (what the server does too). */
export function clipBox(b: Box, width: number, height: number): Box {
  const x0 = clamp(b[0], 0, width), y0 = clamp(b[1], 0, height);
  const x1 = clamp(b[0] + b[2], 0, width), y1 = clamp(b[1] + b[3], 0, height);
  return [x0, y0, x1 - x0, y1 - y0];
}

/** A box the server would reject: a side under minSide pixels. */
export function isDegenerate(b: Box, minSide = 1): boolean {
  return !(b[2] >= minSide && b[3] >= minSide);
}

/** Move by (dx, dy), kept whole inside the image. */
export function moveBox(b: Box, dx: number, dy: number, width: number, height: number): Box {
  return [clamp(b[0] + dx, 0, Math.max(0, width - b[2])), clamp(b[1] + dy, 0, Math.max(0, height - b[3])), b[2], b[3]];
}

/** Drag a handle to (px, py): the opposite side stays put; crossing over flips the box. */
export function resizeBox(b: Box, handle: Handle, px: number, py: number, width: number, height: number): Box {
  let x0 = b[0], y0 = b[1], x1 = b[0] + b[2], y1 = b[1] + b[3];
  px = clamp(px, 0, width);
  py = clamp(py, 0, height);
  if (handle.includes("w")) x0 = px;
  if (handle.includes("e")) x1 = px;
  if (handle.includes("n")) y0 = py;
  if (handle.includes("s")) y1 = py;
  return boxFromPoints(x0, y0, x1, y1);
}

/** Where each handle sits on a box. */
export function handlePoints(b: Box): Record<Handle, [number, number]> {
  const [x, y, w, hgt] = b;
  const cx = x + w / 2, cy = y + hgt / 2, r = x + w, btm = y + hgt;
  return { nw: [x, y], n: [cx, y], ne: [r, y], e: [r, cy], se: [r, btm], s: [cx, btm], sw: [x, btm], w: [x, cy] };
}

/** The handle within `tol` pixels of (px, py), if any. */
export function hitHandle(b: Box, px: number, py: number, tol: number): Handle | null {
  const pts = handlePoints(b);
  for (const name of HANDLES) {
    const [hx, hy] = pts[name];
    if (Math.abs(px - hx) <= tol && Math.abs(py - hy) <= tol) return name;
  }
  return null;
}

export function inBox(b: Box, px: number, py: number): boolean {
  return px >= b[0] && px <= b[0] + b[2] && py >= b[1] && py <= b[1] + b[3];
}

/** Index of the polygon vertex (over all rings, as [ring, vertex]) within tol, if any. */
export function hitVertex(rings: number[][], px: number, py: number, tol: number): [number, number] | null {
  for (let r = 0; r < rings.length; r++) {
    const ring = rings[r];
    for (let i = 0; i < ring.length; i += 2) {
      if (Math.abs(ring[i] - px) <= tol && Math.abs(ring[i + 1] - py) <= tol) return [r, i / 2];
    }
  }
  return null;
}

/** Shoelace area of a flat ring. */
export function ringArea(ring: ArrayLike<number>): number {
  let a = 0;
  const n = ring.length / 2;
  for (let i = 0, j = n - 1; i < n; j = i++) a += ring[2 * j] * ring[2 * i + 1] - ring[2 * i] * ring[2 * j + 1];
  return Math.abs(a) / 2;
}

/** Clip every vertex into the image. */
export function clipRing(ring: number[], width: number, height: number): number[] {
  return ring.map((v, i) => clamp(v, 0, i % 2 === 0 ? width : height));
}

/** A view transform: screen = image * scale + (tx, ty). */
export interface ViewTransform {
  scale: number;
  tx: number;
  ty: number;
}

/** Fit the whole image, centred, into a viewport. */
export function fitTransform(w: number, h: number, vw: number, vh: number, pad = 8): ViewTransform {
  const scale = Math.max(1e-3, Math.min((vw - 2 * pad) / w, (vh - 2 * pad) / h));
  return { scale, tx: (vw - w * scale) / 2, ty: (vh - h * scale) / 2 };
}

/** Zoom by `factor` keeping the image point under the viewport point (vx, vy) in place. */
export function zoomAt(t: ViewTransform, factor: number, vx: number, vy: number, min = 0.02, max = 64): ViewTransform {
  const scale = clamp(t.scale * factor, min, max);
  const ix = (vx - t.tx) / t.scale, iy = (vy - t.ty) / t.scale;
  return { scale, tx: vx - ix * scale, ty: vy - iy * scale };
}

export function toImage(t: ViewTransform, vx: number, vy: number): [number, number] {
  return [(vx - t.tx) / t.scale, (vy - t.ty) / t.scale];
}

export function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

/** Round to 1/100 px: keeps stored coordinates readable without losing sub-pixel drags. */
export function round2(v: number): number {
  return Math.round(v * 100) / 100;
}
