import { describe, expect, it } from "vitest";
import { HttpModel } from "../../src/app/httpModel";
import { decodeFrames, encodeFrames, FRAMES_TYPE } from "../../src/app/wire";
import { RpcClient } from "../../src/transport/rpc";
import { modelChannel } from "../../src/transport/model";

/** A frames body as lightly_studio/server/_transport.py encodes it. */
function frames(result: unknown, buffers: Uint8Array[]): ArrayBuffer {
  const enc = new TextEncoder();
  let header = enc.encode(JSON.stringify({ result, buffers: buffers.map((b) => [1e12, b.length]) }));
  let start = 8 + header.length;
  start += (8 - (start % 8)) % 8;
  const spans: [number, number][] = [];
  let at = start;
  for (const b of buffers) {
    spans.push([at, b.length]);
    at += b.length + ((8 - (b.length % 8)) % 8);
  }
  const real = enc.encode(JSON.stringify({ result, buffers: spans }));
  header = new Uint8Array(start - 8).fill(0x20);
  header.set(real);
  const out = new Uint8Array(at);
  out.set([0x4c, 0x53, 0x46, 0x31]);
  new DataView(out.buffer).setUint32(4, header.length, true);
  out.set(header, 8);
  buffers.forEach((b, i) => out.set(b, spans[i][0]));
  return out.buffer;
}

function fakeFetch(handler: (url: string, init: RequestInit) => Response) {
  const calls: { url: string; init: RequestInit }[] = [];
  const fn = (async (url: string, init: RequestInit) => {
    calls.push({ url, init });
    return handler(url, init);
  }) as unknown as typeof fetch;
  return { fn, calls };
}

describe("decodeFrames", () => {
  it("returns the result and aligned views of each buffer", () => {
    const floats = new Uint8Array(new Float32Array([1.5, -2, 3]).buffer);
    const { result, buffers } = decodeFrames(frames({ n: 3 }, [floats, new Uint8Array([7, 8])]));
    expect(result).toEqual({ n: 3 });
    expect(buffers[0].byteOffset % 8).toBe(0);
    expect(Array.from(new Float32Array(buffers[0].buffer, buffers[0].byteOffset, 3))).toEqual([1.5, -2, 3]);
    expect(Array.from(new Uint8Array(buffers[1].buffer, buffers[1].byteOffset, 2))).toEqual([7, 8]);
  });
});

describe("encodeFrames", () => {
  it("round-trips through decodeFrames", () => {
    const body = encodeFrames({ a: 1 }, [new Uint8Array([1, 2, 3]), new Uint8Array(9).fill(4)]);
    const { result, buffers } = decodeFrames(body.buffer as ArrayBuffer);
    expect(result).toEqual({ a: 1 });
    expect(buffers.map((b) => b.byteLength)).toEqual([3, 9]);
    expect(buffers.every((b) => b.byteOffset % 8 === 0)).toBe(true);
  });
});

describe("HttpModel", () => {
  const base = "http://127.0.0.1:8001/lightly-studio/";

  it("serves the views' rpc client over POST api/<method>", async () => {
    const { fn, calls } = fakeFetch(() => new Response(JSON.stringify({ result: { count: 42 } }), {
      headers: { "Content-Type": "application/json" } }));
    const model = new HttpModel({ base, fetch: fn, webSocket: null });
    const rpc = new RpcClient(modelChannel(model));
    const reply = await rpc.call("count", { spec: { dataset_id: "d" } });
    expect(reply.result).toEqual({ count: 42 });
    expect(calls[0].url).toBe("http://127.0.0.1:8001/lightly-studio/api/count");
    expect(JSON.parse(calls[0].init.body as string)).toEqual({ spec: { dataset_id: "d" } });
    expect((calls[0].init.headers as Record<string, string>)["Content-Type"]).toBe("application/json");
  });

  it("hands binary buffers to the rpc client", async () => {
    const { fn } = fakeFetch(() => new Response(frames({ mime: "image/jpeg" }, [new Uint8Array([255, 216])]), {
      headers: { "Content-Type": FRAMES_TYPE } }));
    const rpc = new RpcClient(modelChannel(new HttpModel({ base, fetch: fn, webSocket: null })));
    const reply = await rpc.call("thumbnails", {});
    expect(reply.result).toEqual({ mime: "image/jpeg" });
    expect(Array.from(reply.buffers[0])).toEqual([255, 216]);
  });

  it("turns server errors into rejected calls with the server's message", async () => {
    const { fn } = fakeFetch(() => new Response(JSON.stringify({ error: { type: "QueryError", message: "bad tag" } }), {
      status: 400, headers: { "Content-Type": "application/json" } }));
    const rpc = new RpcClient(modelChannel(new HttpModel({ base, fetch: fn, webSocket: null })));
    await expect(rpc.call("tag_samples", {})).rejects.toMatchObject({ type: "QueryError", message: "bad tag" });
  });

  it("explains a 401 (missing token) instead of failing silently", async () => {
    const { fn } = fakeFetch(() => new Response("", { status: 401 }));
    const rpc = new RpcClient(modelChannel(new HttpModel({ base, fetch: fn, webSocket: null })));
    await expect(rpc.call("count", {})).rejects.toThrow(/token/);
  });

  it("reports an unreachable server as an error, not a hang", async () => {
    const fn = (async () => {
      throw new TypeError("Failed to fetch");
    }) as unknown as typeof fetch;
    const rpc = new RpcClient(modelChannel(new HttpModel({ base, fetch: fn, webSocket: null })));
    await expect(rpc.call("count", {})).rejects.toMatchObject({ type: "NetworkError" });
  });

  it("keeps traits locally and fires change events", () => {
    const model = new HttpModel({ base, fetch: fetch, webSocket: null, state: { cell_size: 128 } });
    const seen: unknown[] = [];
    model.on("change:cell_size", (v: unknown) => seen.push(v));
    model.set("cell_size", 200);
    model.set("cell_size", 200);
    expect(model.get("cell_size")).toBe(200);
    expect(seen).toEqual([200]);
  });
});
