// Placing images and their labels inside a box, and hit-testing.

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Where an image of w x h lands when fitted ("contain") into a box, centred. */
export function fitContain(w: number, h: number, boxW: number, boxH: number): Rect & { scale: number } {
  if (w <= 0 || h <= 0) return { x: 0, y: 0, width: 0, height: 0, scale: 0 };
  const scale = Math.min(boxW / w, boxH / h);
  const width = w * scale;
  const height = h * scale;
  return { x: (boxW - width) / 2, y: (boxH - height) / 2, width, height, scale };
}

/** Map a rectangle in image pixels to the fitted box's pixels. */
export function imageToBox(r: Rect, fit: Rect & { scale: number }): Rect {
  return {
    x: fit.x + r.x * fit.scale,
    y: fit.y + r.y * fit.scale,
    width: r.width * fit.scale,
    height: r.height * fit.scale,
  };
}

/** Even-odd point-in-polygon; polygon as flat [x0, y0, x1, y1, ...]. */
export function pointInPolygon(px: number, py: number, poly: ArrayLike<number>): boolean {
  let inside = false;
  const n = poly.length / 2;
  for (let i = 0, j = n - 1; i < n; j = i++) {
    const xi = poly[2 * i], yi = poly[2 * i + 1];
    const xj = poly[2 * j], yj = poly[2 * j + 1];
    if (yi > py !== yj > py && px < ((xj - xi) * (py - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** Data range of Float32 xy pairs -> normalised to [-1, 1] (what regl-scatterplot expects). */
export function normalizePoints(xy: Float32Array): { points: Float32Array; min: [number, number]; max: [number, number] } {
  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  for (let i = 0; i < xy.length; i += 2) {
    const x = xy[i], y = xy[i + 1];
    if (x < minX) minX = x;
    if (x > maxX) maxX = x;
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
  }
  const sx = maxX > minX ? 2 / (maxX - minX) : 1;
  const sy = maxY > minY ? 2 / (maxY - minY) : 1;
  const points = new Float32Array(xy.length);
  for (let i = 0; i < xy.length; i += 2) {
    points[i] = maxX > minX ? (xy[i] - minX) * sx - 1 : 0;
    points[i + 1] = maxY > minY ? (xy[i + 1] - minY) * sy - 1 : 0;
  }
  return { points, min: [minX, minY], max: [maxX, maxY] };
}

/** Histogram bar heights scaled to `height` px (for the filter panel). */
export function histogramBars(counts: number[], height: number): number[] {
  const max = Math.max(1, ...counts);
  return counts.map((c) => (c === 0 ? 0 : Math.max(1, Math.round((c / max) * height))));
}
