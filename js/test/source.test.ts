import { describe, expect, it } from "vitest";
import { SampleSource } from "../src/views/source";

// A stand-in for RpcClient: records calls, answers when told to.
function fakeRpc() {
  const calls: { method: string; params: any; resolve: (v: any) => void }[] = [];
  const rpc = {
    call: (method: string, params: any) => new Promise((resolve) => calls.push({ method, params, resolve })),
  };
  return { rpc: rpc as any, calls };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe("sample source", () => {
  it("asks for the count and the first page at once", async () => {
    const f = fakeRpc();
    const src = new SampleSource(f.rpc, "d");
    void src.setSpec({ dataset_id: "d" });
    expect(f.calls.map((c) => c.method).sort()).toEqual(["count", "samples_page"]);
    expect(f.calls.find((c) => c.method === "samples_page")!.params).toMatchObject({ offset: 0, limit: 120 });
    // The grid's ensure() once the count is in does not ask for page 0 again.
    f.calls.find((c) => c.method === "count")!.resolve({ result: { count: 1000 }, buffers: [] });
    await tick();
    src.ensure(0, 40);
    expect(f.calls.filter((c) => c.method === "samples_page")).toHaveLength(1);
  });

  it("splits the first screen's thumbnails over both slots", async () => {
    const f = fakeRpc();
    const src = new SampleSource(f.rpc, "d");
    for (let i = 0; i < 42; i++) src.thumbnail(`id${i}`);
    await tick();
    const batches = f.calls.filter((c) => c.method === "thumbnails").map((c) => c.params.sample_ids.length);
    expect(batches).toEqual([21, 21]);
    expect(src.idle).toBe(false);
  });

  it("keeps big queues in batches of at most 48 and small ones whole", async () => {
    const f = fakeRpc();
    const src = new SampleSource(f.rpc, "d");
    for (let i = 0; i < 200; i++) src.thumbnail(`id${i}`);
    await tick();
    expect(f.calls.map((c) => c.params.sample_ids.length)).toEqual([48, 48]);
    const g = fakeRpc();
    const small = new SampleSource(g.rpc, "d");
    for (let i = 0; i < 5; i++) small.thumbnail(`id${i}`);
    await tick();
    expect(g.calls.map((c) => c.params.sample_ids.length)).toEqual([5]);
  });

  it("asks for the first screen's thumbnails with the first page and keeps them", async () => {
    const f = fakeRpc();
    const src = new SampleSource(f.rpc, "d");
    src.firstScreen = () => 3;
    void src.setSpec({ dataset_id: "d" });
    const page = f.calls.find((c) => c.method === "samples_page")!;
    expect(page.params).toMatchObject({ offset: 0, limit: 120, thumbnails: 3 });
    const rows = ["a", "b", "c", "d"].map((id) => ({ sample_id: id, file_name: `${id}.jpg`, tags: [], annotations: [], captions: [] }));
    const jpeg = new Uint8Array([0xff, 0xd8, 0xff]);
    page.resolve({
      result: { offset: 0, rows, thumbnail_errors: [null, "b.jpg: unreadable", null], mime: "image/jpeg" },
      buffers: [jpeg, new Uint8Array(0), jpeg],
    });
    await tick();
    expect(src.thumbnail("a")).toMatch(/^blob:/);
    expect(src.thumbnail("b")).toBe("");
    expect(src.thumbnailError("b")).toBe("b.jpg: unreadable");
    expect(src.thumbnail("c")).toMatch(/^blob:/);
    expect(src.firstThumbnailsAt).not.toBeNull();
    // Only the row beyond the first screen needs a thumbnails call.
    expect(src.thumbnail("d")).toBeUndefined();
    await tick();
    const asked = f.calls.filter((c) => c.method === "thumbnails").map((c) => c.params.sample_ids);
    expect(asked).toEqual([["d"]]);
  });

  it("shows the rows it has while a refresh reloads them, and only those of its query", async () => {
    const f = fakeRpc();
    const src = new SampleSource(f.rpc, "d");
    const row = (id: string, tags: string[] = []) => ({ sample_id: id, file_name: `${id}.jpg`, tags, annotations: [], captions: [] });
    const answerPage = (rows: any[]) => {
      const pending = f.calls.filter((c) => c.method === "samples_page");
      pending[pending.length - 1].resolve({ result: { offset: 0, rows }, buffers: [] });
    };
    void src.setSpec({ dataset_id: "d" });
    f.calls.find((c) => c.method === "count")!.resolve({ result: { count: 2 }, buffers: [] });
    answerPage([row("a"), row("b")]);
    await tick();

    // Tags changed: the rows are reloaded, and a click or Ctrl+A meanwhile still finds them.
    src.refreshRows();
    expect(src.row(1)?.sample_id).toBe("b");
    src.ensure(0, 2);
    expect(f.calls.filter((c) => c.method === "samples_page")).toHaveLength(2);
    answerPage([row("a"), row("b", ["picked"])]);
    await tick();
    expect(src.row(1)?.tags).toEqual(["picked"]);

    // Another query: nothing of the old one is shown while its first page loads.
    src.refreshRows();
    void src.setSpec({ dataset_id: "d", tags: ["x"] });
    expect(src.row(0)).toBeUndefined();
  });

  it("sends no thumbnails parameter while the grid has no size", () => {
    const f = fakeRpc();
    void new SampleSource(f.rpc, "d").setSpec({ dataset_id: "d" });
    expect(f.calls.find((c) => c.method === "samples_page")!.params).not.toHaveProperty("thumbnails");
  });
});
