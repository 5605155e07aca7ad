import { describe, expect, it } from "vitest";
import { cellColor } from "../src/views/evaluation";
import { OutcomeColoring, outcomeStyle, OUTCOME_COLORS, UNJUDGED_COLOR } from "../src/views/evalColors";
import { offeredTasks } from "../src/views/evalDialog";
import type { Annotation } from "../src/views/source";
import type { RpcClient } from "../src/transport/rpc";

describe("confusion matrix cell colour", () => {
  it("is empty for zero, green on the diagonal, red off it", () => {
    expect(cellColor(0, 10, true)).toBe("transparent");
    expect(cellColor(3, 10, true)).toMatch(/^rgba\(34,197,94,/);
    expect(cellColor(3, 10, false)).toMatch(/^rgba\(239,68,68,/);
  });
  it("grows on a log scale up to full intensity at the maximum", () => {
    const alpha = (c: string) => Number(c.slice(c.lastIndexOf(",") + 1, -1));
    expect(alpha(cellColor(394, 394, true))).toBeCloseTo(1);
    expect(alpha(cellColor(1, 394, true))).toBeLessThan(alpha(cellColor(20, 394, true)));
    expect(alpha(cellColor(20, 394, true))).toBeGreaterThan(20 / 394); // log, not linear
  });
});

const ann = (id: string, source = "ground_truth"): Annotation =>
  ({ annotation_id: id, label: "cat", type: "object_detection", source, confidence: null });

describe("outcome colours", () => {
  const tp = { outcome: "tp" as const, gt: "cat", pred: "cat" };
  const fp = { outcome: "fp" as const, gt: null, pred: "dog" };
  it("colour each judged annotation by its outcome and grey the unjudged", () => {
    expect(outcomeStyle(ann("a"), tp, "outcome", null, "model")).toMatchObject({ color: OUTCOME_COLORS.tp, dim: false, outcome: "tp" });
    expect(outcomeStyle(ann("b", "model"), fp, "outcome", null, "model")).toMatchObject({ color: OUTCOME_COLORS.fp, predicted: true });
    expect(outcomeStyle(ann("c", "other"), undefined, "outcome", null, "model")).toMatchObject({ color: UNJUDGED_COLOR, dim: true });
  });
  it("keep the objects of a chosen cell bright and dim the others", () => {
    const cell = { gt: null, pred: "dog" }; // the background row: unmatched "dog" predictions
    expect(outcomeStyle(ann("b", "model"), fp, "outcome", cell, "model")).toMatchObject({ dim: false, strong: true });
    expect(outcomeStyle(ann("a"), tp, "outcome", cell, "model")).toMatchObject({ dim: true, strong: false });
    // colouring by class: no outcome colour, the highlight still applies
    expect(outcomeStyle(ann("a"), tp, "class", cell, "model")).toMatchObject({ color: undefined, dim: true });
  });
});

describe("OutcomeColoring", () => {
  function fakeRpc() {
    const calls: string[][] = [];
    const rpc = {
      call: async (_method: string, params: { sample_ids: string[] }) => {
        calls.push(params.sample_ids);
        const samples: Record<string, Record<string, unknown>> = {};
        for (const id of params.sample_ids) samples[id] = { [`${id}-ann`]: { outcome: "fn", gt: "cat", pred: null } };
        return { result: { samples }, buffers: [] };
      },
    } as unknown as RpcClient;
    return { rpc, calls };
  }
  it("asks once per batch of samples and then answers from its cache", async () => {
    const { rpc, calls } = fakeRpc();
    const c = new OutcomeColoring(rpc, "ds");
    expect(c.styleFor("s1")).toBeUndefined(); // no run: class colours
    c.setRun("det", "model");
    c.styleFor("s1");
    c.styleFor("s2");
    await c.load("s1");
    expect(calls).toEqual([["s1", "s2"]]);
    expect(c.styleFor("s2")!(ann("s2-ann")).outcome).toBe("fn");
    expect(c.outcomeOf("s1", "s1-ann")?.outcome).toBe("fn");
    expect(calls.length).toBe(1);
    c.setRun("other", "model"); // another run forgets the cached outcomes
    await c.load("s1");
    expect(calls.length).toBe(2);
  });
});

describe("New evaluation dialog", () => {
  it("offers a task only where two sources have its annotation type", () => {
    const offered = offeredTasks({ object_detection: ["ground_truth", "model"], classification: ["ground_truth"], instance_segmentation: [] });
    expect(offered.map(([t]) => t)).toEqual(["object_detection"]);
  });
});
