import { describe, expect, it } from "vitest";
import { RpcClient, RpcError, type Channel } from "../src/transport/rpc";
import { splitBuffers } from "../src/transport/chunking";

function fakeChannel() {
  const sent: { msg: any; buffers?: ArrayBuffer[] }[] = [];
  let listener: (msg: any, buffers: Uint8Array[]) => void = () => {};
  const ch: Channel = {
    send: (msg, buffers) => void sent.push({ msg, buffers }),
    onMessage: (cb) => ((listener = cb), () => (listener = () => {})),
  };
  return { ch, sent, deliver: (msg: any, buffers: Uint8Array[] = []) => listener(msg, buffers) };
}

describe("rpc client", () => {
  it("matches responses to requests by id", async () => {
    const f = fakeChannel();
    const rpc = new RpcClient(f.ch);
    const a = rpc.call<number>("count", { x: 1 }); // not a real count call: any params
    const b = rpc.call<number>("count", { x: 2 });
    const [ra, rb] = f.sent.map((s) => s.msg);
    expect(ra).toMatchObject({ type: "request", method: "count", params: { x: 1 } });
    f.deliver({ type: "response", id: rb.id, ok: true, result: 2 });
    f.deliver({ type: "response", id: ra.id, ok: true, result: 1 }, [Uint8Array.from([9])]);
    expect((await a).result).toBe(1);
    expect(Array.from((await a).buffers[0])).toEqual([9]);
    expect((await b).result).toBe(2);
    expect(rpc.inFlight).toBe(0);
  });

  it("turns error replies into rejected promises, never a hang", async () => {
    const f = fakeChannel();
    const rpc = new RpcClient(f.ch);
    const p = rpc.call("samples_page", {});
    f.deliver({ type: "response", id: f.sent[0].msg.id, ok: false, error: { type: "QueryError", message: "bad key" } });
    await expect(p).rejects.toBeInstanceOf(RpcError);
    await expect(p).rejects.toMatchObject({ type: "QueryError", message: "bad key", method: "samples_page" });
  });

  it("reports progress and reassembles chunked buffers", async () => {
    const f = fakeChannel();
    const rpc = new RpcClient(f.ch);
    const seen: number[] = [];
    const p = rpc.call("plot_points", {}, { onProgress: (pr) => seen.push(pr.done) });
    const id = f.sent[0].msg.id;
    const payload = [Uint8Array.from({ length: 20 }, (_, i) => i), Uint8Array.from([7, 7, 7])];
    const parts = splitBuffers(payload, 6);
    f.deliver({ type: "progress", id, done: 1, total: 2 });
    f.deliver({ type: "response", id, ok: true, result: { n: 10 }, buffer_sizes: [20, 3], parts: parts.length });
    parts.forEach((part, index) => f.deliver({ type: "part", id, index }, [part]));
    const r = await p;
    expect(seen).toEqual([1]);
    expect(r.result).toEqual({ n: 10 });
    expect(Array.from(r.buffers[0])).toEqual(Array.from(payload[0]));
    expect(Array.from(r.buffers[1])).toEqual([7, 7, 7]);
  });

  it("sends a cancel when the caller aborts, and ignores a late reply", async () => {
    const f = fakeChannel();
    const rpc = new RpcClient(f.ch);
    const ctl = new AbortController();
    const p = rpc.call("thumbnails", {}, { signal: ctl.signal });
    ctl.abort();
    await expect(p).rejects.toMatchObject({ name: "AbortError" });
    expect(f.sent[1].msg).toEqual({ type: "cancel", id: f.sent[0].msg.id });
    f.deliver({ type: "response", id: f.sent[0].msg.id, ok: true, result: 1 });
    expect(rpc.inFlight).toBe(0);
  });

  it("dispatches server events to listeners", () => {
    const f = fakeChannel();
    const rpc = new RpcClient(f.ch);
    const got: any[] = [];
    rpc.on("data_changed", (p) => got.push(p));
    f.deliver({ type: "event", name: "data_changed", payload: { tags: true } });
    expect(got).toEqual([{ tags: true }]);
  });
});
