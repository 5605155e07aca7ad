// Splitting and joining binary payloads so no single comm message exceeds the websocket
// limit (~10 MB in Jupyter's default config). Mirrors lightly_studio/widgets/_chunking.py.

import { CHUNK_BYTES } from "./constants";

export { CHUNK_BYTES };

/** Concatenate buffers and cut the result into parts of at most `chunkBytes` bytes. */
export function splitBuffers(buffers: Uint8Array[], chunkBytes = CHUNK_BYTES): Uint8Array[] {
  if (chunkBytes <= 0) throw new Error("chunkBytes must be positive");
  const total = buffers.reduce((n, b) => n + b.byteLength, 0);
  const parts: Uint8Array[] = [];
  let part = new Uint8Array(Math.min(chunkBytes, total));
  let filled = 0;
  for (const buf of buffers) {
    let offset = 0;
    while (offset < buf.byteLength) {
      const take = Math.min(buf.byteLength - offset, part.byteLength - filled);
      part.set(buf.subarray(offset, offset + take), filled);
      filled += take;
      offset += take;
      if (filled === part.byteLength) {
        parts.push(part);
        const left = total - parts.reduce((n, p) => n + p.byteLength, 0);
        part = new Uint8Array(Math.min(chunkBytes, left));
        filled = 0;
      }
    }
  }
  return parts;
}

/** Inverse of splitBuffers: rebuild the original buffers from parts and their sizes. */
export function joinParts(parts: Uint8Array[], sizes: number[]): Uint8Array[] {
  const total = parts.reduce((n, p) => n + p.byteLength, 0);
  const expected = sizes.reduce((n, s) => n + s, 0);
  if (total !== expected) {
    throw new Error(`chunked payload is ${total} bytes, expected ${expected}`);
  }
  const whole = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    whole.set(p, at);
    at += p.byteLength;
  }
  const out: Uint8Array[] = [];
  at = 0;
  for (const s of sizes) {
    out.push(whole.subarray(at, at + s));
    at += s;
  }
  return out;
}

/** Normalise what a transport hands over (DataView, ArrayBuffer, typed array) to bytes. */
export function toBytes(b: ArrayBuffer | ArrayBufferView): Uint8Array {
  if (b instanceof Uint8Array) return b;
  if (ArrayBuffer.isView(b)) return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  return new Uint8Array(b);
}
