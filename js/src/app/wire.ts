// The HTTP wire format of api/ calls; mirrors lightly_studio/server/_transport.py.
//
// POST <base>api/<method> with JSON params. The reply is JSON ({result} or {error}) or, when
// the method returned buffers, "application/vnd.lightly-studio.frames":
//   "LSF1" | u32 LE header length | JSON header {result, buffers: [[offset, length], ...]} | data
// Offsets are from the start of the body and 8-byte aligned, so Float32 views need no copy.

import { FRAMES_MAGIC, FRAMES_TYPE } from "../transport/constants";

export { FRAMES_TYPE };
const MAGIC = Array.from(FRAMES_MAGIC, (ch) => ch.charCodeAt(0)); // "LSF1"

export interface WireReply {
  ok: boolean;
  result?: unknown;
  error?: { type: string; message: string };
  buffers: DataView[];
}

/** Decode a frames body into its result and buffers (DataViews over the one ArrayBuffer). */
export function decodeFrames(body: ArrayBuffer): { result: unknown; buffers: DataView[] } {
  const bytes = new Uint8Array(body);
  for (let i = 0; i < 4; i++) {
    if (bytes[i] !== MAGIC[i]) throw new Error("not a lightly-studio frames body");
  }
  const headerLength = new DataView(body).getUint32(4, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
  const buffers = (header.buffers as [number, number][]).map(([offset, length]) => {
    if (offset + length > body.byteLength) throw new Error("frames body is truncated");
    return new DataView(body, offset, length);
  });
  return { result: header.result, buffers };
}

/** Turn an HTTP response of POST api/<method> into a reply (never throws for HTTP errors). */
export async function readReply(resp: Response): Promise<WireReply> {
  const type = (resp.headers.get("Content-Type") ?? "").split(";")[0].trim();
  if (type === FRAMES_TYPE) {
    const { result, buffers } = decodeFrames(await resp.arrayBuffer());
    return { ok: true, result, buffers };
  }
  const text = await resp.text();
  let body: any = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (resp.ok && body && "result" in body) return { ok: true, result: body.result, buffers: [] };
  const error = body?.error ?? {
    type: `HTTP${resp.status}`,
    message: resp.status === 401 || resp.status === 403
      ? "Not authorised: open the URL printed by start_gui() (it carries the token)."
      : `The server answered ${resp.status} ${resp.statusText}`.trim(),
  };
  return { ok: false, error, buffers: [] };
}

/** Encode params plus binary buffers as a frames body (for methods taking binary input). */
export function encodeFrames(result: unknown, buffers: Uint8Array[]): Uint8Array {
  const enc = new TextEncoder();
  const pad = (n: number) => (8 - (n % 8)) % 8;
  const guess = enc.encode(JSON.stringify({ result, buffers: buffers.map((b) => [1e12, b.byteLength]) }));
  const start = 8 + guess.length + pad(8 + guess.length);
  const spans: [number, number][] = [];
  let at = start;
  for (const b of buffers) {
    spans.push([at, b.byteLength]);
    at += b.byteLength + pad(b.byteLength);
  }
  const header = new Uint8Array(start - 8).fill(0x20); // JSON allows trailing spaces
  header.set(enc.encode(JSON.stringify({ result, buffers: spans })));
  const out = new Uint8Array(at);
  out.set(MAGIC);
  new DataView(out.buffer).setUint32(4, header.length, true);
  out.set(header, 8);
  buffers.forEach((b, i) => out.set(b, spans[i][0]));
  return out;
}
