import { describe, expect, it } from "vitest";
import {
  boxFromPoints, clipBox, fitTransform, handlePoints, hitHandle, hitVertex, isDegenerate, moveBox,
  resizeBox, ringArea, toImage, zoomAt,
} from "../src/views/annotator/shapes";
import { MaskBitmap, encodeRle, unionDirty } from "../src/views/annotator/mask";
import { History, type Command, type Ref } from "../src/views/annotator/history";
import { actionFor } from "../src/views/annotator/keys";
import { decodeRle } from "../src/lib/rle";

describe("annotator boxes", () => {
  it("builds a box from a drag in any direction and clips it to the image", () => {
    expect(boxFromPoints(30, 20, 10, 5)).toEqual([10, 5, 20, 15]);
    expect(clipBox([-5, 90, 20, 30], 100, 100)).toEqual([0, 90, 15, 10]);
    expect(isDegenerate(clipBox([150, 10, 20, 20], 100, 100))).toBe(true);
    expect(isDegenerate([0, 0, 0.5, 10])).toBe(true);
    expect(isDegenerate([0, 0, 1, 1])).toBe(false);
  });

  it("moves a box but keeps it inside the image", () => {
    expect(moveBox([10, 10, 20, 20], 5, -3, 100, 100)).toEqual([15, 7, 20, 20]);
    expect(moveBox([10, 10, 20, 20], 500, -300, 100, 100)).toEqual([80, 0, 20, 20]);
  });

  it("resizes by a handle, keeping the opposite side, flipping when dragged across", () => {
    expect(resizeBox([10, 10, 20, 20], "se", 50, 40, 100, 100)).toEqual([10, 10, 40, 30]);
    expect(resizeBox([10, 10, 20, 20], "n", 999, 0, 100, 100)).toEqual([10, 0, 20, 30]);
    expect(resizeBox([10, 10, 20, 20], "w", 40, 0, 100, 100)).toEqual([30, 10, 10, 20]);
    expect(resizeBox([10, 10, 20, 20], "e", 500, 0, 100, 100)).toEqual([10, 10, 90, 20]);
  });

  it("finds handles and polygon vertices within a tolerance", () => {
    expect(handlePoints([0, 0, 10, 20]).s).toEqual([5, 20]);
    expect(hitHandle([0, 0, 10, 20], 10.5, 19.5, 1)).toBe("se");
    expect(hitHandle([0, 0, 10, 20], 5, 10, 1)).toBe(null);
    expect(hitVertex([[0, 0, 10, 0, 10, 10], [50, 50, 60, 50, 60, 60]], 59, 51, 2)).toEqual([1, 1]);
    expect(ringArea([0, 0, 10, 0, 10, 10, 0, 10])).toBe(100);
    expect(ringArea([0, 0, 5, 5, 10, 10])).toBe(0);
  });

  it("zooms around the cursor and maps screen points back to image pixels", () => {
    const fit = fitTransform(400, 200, 216, 216, 8);
    expect(fit.scale).toBe(0.5);
    expect(toImage(fit, 8, 58)).toEqual([0, 0]);
    const z = zoomAt(fit, 2, 108, 108);
    expect(toImage(z, 108, 108)).toEqual(toImage(fit, 108, 108));
    expect(z.scale).toBe(1);
  });
});

describe("annotator masks", () => {
  it("encodes RLE like core/rle.py: starts with background, sums to the image", () => {
    expect(encodeRle([1, 1, 0, 0, 0, 1])).toEqual([0, 2, 3, 1]);
    expect(encodeRle([0, 0, 0])).toEqual([3]);
    const m = new MaskBitmap(7, 5);
    m.stroke(1, 1, 5, 3, 1.2, 1);
    const runs = m.toRle();
    expect(runs.reduce((a, b) => a + b, 0)).toBe(35);
    expect(Array.from(decodeRle(runs, 7, 5))).toEqual(Array.from(m.data));
    expect(Array.from(MaskBitmap.fromRle(runs, 7, 5).data)).toEqual(Array.from(m.data));
  });

  it("paints a disk of the brush's radius and erases part of it", () => {
    const m = new MaskBitmap(100, 100);
    m.stroke(50, 50, 50, 50, 10, 1);
    expect(Math.abs(m.count() - Math.PI * 100)).toBeLessThan(15);
    expect(m.bounds()).toEqual([40, 40, 20, 20]);
    const before = m.count();
    m.stroke(0, 50, 100, 50, 2, 0); // a 4 px band through the middle
    expect(before - m.count()).toBe(80);
  });

  it("gives the same pixels whether a straight stroke came in one or many mouse events", () => {
    const one = new MaskBitmap(80, 40), many = new MaskBitmap(80, 40);
    one.stroke(5, 10, 70, 30, 4, 1);
    let px = 5, py = 10;
    for (let i = 1; i <= 13; i++) {
      const x = 5 + (65 * i) / 13, y = 10 + (20 * i) / 13;
      many.stroke(px, py, x, y, 4, 1);
      px = x;
      py = y;
    }
    expect(Array.from(many.data)).toEqual(Array.from(one.data));
  });

  it("reports the dirty rectangle of a stroke, clipped to the image", () => {
    const m = new MaskBitmap(20, 20);
    const d = m.stroke(2, 2, 2, 2, 3, 1);
    expect(d).toEqual({ x0: 0, y0: 0, x1: 6, y1: 6 });
    expect(unionDirty(d, { x0: 10, y0: 1, x1: 12, y1: 3 })).toEqual({ x0: 0, y0: 0, x1: 12, y1: 6 });
    expect(m.stroke(50, 50, 60, 60, 2, 1)).toBe(null);
  });
});

describe("annotator undo/redo", () => {
  // A fake server: annotations by id; recreating gives a new id, like the real one.
  function server() {
    const rows = new Map<string, number>();
    let next = 1;
    return {
      rows,
      create(v: number) {
        const id = `a${next++}`;
        rows.set(id, v);
        return id;
      },
    };
  }

  it("undoes and redoes creates, updates and deletes in order, following recreated ids", async () => {
    const srv = server();
    const hist = new History();
    const ref: Ref = { id: "" };
    const create: Command = {
      name: "create",
      apply: async () => void (ref.id = srv.create(1)),
      revert: async () => void srv.rows.delete(ref.id),
    };
    const update = (from: number, to: number): Command => ({
      name: "update",
      apply: async () => void srv.rows.set(ref.id, to),
      revert: async () => void srv.rows.set(ref.id, from),
    });
    await hist.run(create);
    await hist.run(update(1, 2));
    expect([...srv.rows.values()]).toEqual([2]);
    expect(await hist.undo()).toBe("update");
    expect(await hist.undo()).toBe("create");
    expect(srv.rows.size).toBe(0);
    expect(await hist.undo()).toBe(null);
    await hist.redo();
    await hist.redo();
    expect(ref.id).toBe("a2"); // recreated under a new id, and the update followed it
    expect([...srv.rows.entries()]).toEqual([["a2", 2]]);
    await hist.undo();
    await hist.run(update(1, 5)); // a new edit drops the redo stack
    expect(hist.canRedo).toBe(false);
  });

  it("runs commands one at a time and keeps a failed undo on the stack", async () => {
    const log: string[] = [];
    let fail = true;
    const hist = new History();
    const slow: Command = {
      name: "slow",
      apply: () => new Promise((r) => setTimeout(() => { log.push("apply"); r(); }, 20)),
      revert: async () => {
        log.push("revert");
        if (fail) throw new Error("conflict");
      },
    };
    const running = hist.run(slow);
    const undoing = hist.undo(); // queued behind the save
    await running;
    await expect(undoing).rejects.toThrow("conflict");
    expect(log).toEqual(["apply", "revert"]);
    expect(hist.canUndo).toBe(true);
    fail = false;
    expect(await hist.undo()).toBe("slow");
  });
});

describe("annotator shortcuts", () => {
  it("maps keys to tools, navigation and undo", () => {
    expect(actionFor({ key: "r" })).toBe("tool:box");
    expect(actionFor({ key: "B" })).toBe("tool:brush");
    expect(actionFor({ key: "ArrowRight" })).toBe("next");
    expect(actionFor({ key: "a" })).toBe("previous");
    expect(actionFor({ key: "z", ctrlKey: true })).toBe("undo");
    expect(actionFor({ key: "Z", ctrlKey: true, shiftKey: true })).toBe("redo");
    expect(actionFor({ key: "y", metaKey: true })).toBe("redo");
    expect(actionFor({ key: "3" })).toBe("label:3");
    expect(actionFor({ key: "q" })).toBe(null);
    expect(actionFor({ key: "c", ctrlKey: true })).toBe(null);
  });

  it("steps through a video's frames with . and , or Alt+arrows", () => {
    expect(actionFor({ key: "." })).toBe("next-frame");
    expect(actionFor({ key: "," })).toBe("previous-frame");
    expect(actionFor({ key: "ArrowRight", altKey: true })).toBe("next-frame");
    expect(actionFor({ key: "ArrowLeft", altKey: true })).toBe("previous-frame");
    expect(actionFor({ key: "r", altKey: true })).toBe(null);
  });
});

describe("annotator embedded model", () => {
  it("stores values and reports changes like a widget model", async () => {
    const { memoryModel } = await import("../src/views/annotator/embed");
    const m = memoryModel({ index: 0 });
    const seen: number[] = [];
    const cb = () => seen.push(m.get("index"));
    m.on("change:index", cb);
    m.set("index", 2);
    m.set("index", 2); // unchanged: no event
    m.off("change:index", cb);
    m.set("index", 3);
    expect(seen).toEqual([2]);
    expect(m.get("index")).toBe(3);
  });
});
