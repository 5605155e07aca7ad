// Our segmentation masks: row-wise (row-major) RLE over the whole image, alternating runs
// that start with background (lightly_studio.core.rle). COCO's RLE is column-major; ours
// is not, so a mask decodes with plain fills.

/** Decode to a width*height array of 0/1, row-major. */
export function decodeRle(counts: ArrayLike<number>, width: number, height: number): Uint8Array {
  const n = width * height;
  const out = new Uint8Array(n);
  let at = 0;
  for (let i = 0; i < counts.length && at < n; i++) {
    const run = Math.min(counts[i], n - at);
    if (i % 2 === 1) out.fill(1, at, at + run);
    at += run;
  }
  return out;
}

/** Nearest-neighbour downscale of a decoded mask to outW x outH. */
export function scaleMask(mask: Uint8Array, width: number, height: number, outW: number, outH: number): Uint8Array {
  const out = new Uint8Array(outW * outH);
  for (let y = 0; y < outH; y++) {
    const sy = Math.min(height - 1, Math.floor(((y + 0.5) * height) / outH));
    const row = sy * width;
    for (let x = 0; x < outW; x++) {
      const sx = Math.min(width - 1, Math.floor(((x + 0.5) * width) / outW));
      out[y * outW + x] = mask[row + sx];
    }
  }
  return out;
}

/** Bounding box [x, y, w, h] of the foreground, or null for an empty mask. */
export function maskBounds(mask: Uint8Array, width: number, height: number): [number, number, number, number] | null {
  let x0 = width, y0 = height, x1 = -1, y1 = -1;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      if (mask[row + x]) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        y1 = y;
      }
    }
  }
  return x1 < 0 ? null : [x0, y0, x1 - x0 + 1, y1 - y0 + 1];
}

/** Paint a mask into RGBA pixels with one colour (for canvas ImageData). */
export function paintMask(
  rgba: Uint8ClampedArray,
  mask: Uint8Array,
  rgb: [number, number, number],
  alpha = 110,
): void {
  for (let i = 0; i < mask.length; i++) {
    if (!mask[i]) continue;
    const o = i * 4;
    rgba[o] = rgb[0];
    rgba[o + 1] = rgb[1];
    rgba[o + 2] = rgb[2];
    rgba[o + 3] = alpha;
  }
}

/** Paint a mask as a faint fill with a strong outline, so objects read as shapes and a large
 * mask does not tint the whole picture (thumbnails). The outline is every mask pixel with a
 * non-mask 4-neighbour (or on the image border). */
export function paintMaskOutlined(
  rgba: Uint8ClampedArray,
  mask: Uint8Array,
  width: number,
  height: number,
  rgb: [number, number, number],
  fillAlpha = 50,
  edgeAlpha = 230,
): void {
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      if (!mask[i]) continue;
      const edge = x === 0 || y === 0 || x === width - 1 || y === height - 1 ||
        !mask[i - 1] || !mask[i + 1] || !mask[i - width] || !mask[i + width];
      const o = i * 4;
      const alpha = edge ? edgeAlpha : fillAlpha;
      if (rgba[o + 3] > alpha) continue; // an outline already drawn there stays
      rgba[o] = rgb[0];
      rgba[o + 1] = rgb[1];
      rgba[o + 2] = rgb[2];
      rgba[o + 3] = alpha;
    }
  }
}
