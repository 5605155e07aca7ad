import { afterEach, describe, expect, it } from "vitest";
import {
  actionIn, customBindings, displayKey, keyName, keysOf, rebind, setCustomBindings,
} from "../src/views/shortcuts";
import { actionFor, shortcutList } from "../src/views/annotator/keys";

afterEach(() => setCustomBindings({}));

describe("key names", () => {
  it("lower-cases characters, keeps DOM names and puts modifiers first", () => {
    expect(keyName({ key: "R" })).toBe("r");
    expect(keyName({ key: "B", shiftKey: true })).toBe("b");
    expect(keyName({ key: "+", shiftKey: true })).toBe("+");
    expect(keyName({ key: "Z", ctrlKey: true, shiftKey: true })).toBe("Ctrl+Shift+z");
    expect(keyName({ key: "y", metaKey: true })).toBe("Ctrl+y");
    expect(keyName({ key: "ArrowLeft", shiftKey: true })).toBe("Shift+ArrowLeft");
    expect(keyName({ key: "k", altKey: true })).toBe("Alt+k");
  });

  it("shows keys as people read them", () => {
    expect(displayKey("Ctrl+Shift+z")).toBe("Ctrl+Shift+Z");
    expect(displayKey(" ")).toBe("Space");
    expect(displayKey("ArrowRight")).toBe("→");
    expect(displayKey("+")).toBe("+");
    expect(displayKey("Ctrl++")).toBe("Ctrl++");
    expect(displayKey("Escape")).toBe("Esc");
  });
});

describe("customised bindings", () => {
  it("the video player's keys are their own scope: frame keys there, sample keys in the detail view", () => {
    expect(actionIn("video", { key: "ArrowRight" })).toBe("video.next-frame");
    expect(actionIn("video", { key: "ArrowRight", shiftKey: true })).toBe("video.forward-10");
    expect(actionIn("detail", { key: "ArrowRight" })).toBe("detail.next");
    expect(actionIn("video", { key: "Escape" })).toBe(null); // reaches the detail view: close
    expect(rebind("video.next-frame", "l")).toBe(null);
    expect(actionIn("video", { key: "l" })).toBe("video.next-frame");
    expect(actionIn("video", { key: "ArrowRight" })).toBe(null);
    expect(rebind("video.previous-frame", "e")).toMatch(/already “annotate the frame shown”/);
  });

  it("a rebound action answers its new key only, in its own scope", () => {
    expect(actionIn("grid", { key: "Enter" })).toBe("grid.open");
    expect(rebind("grid.open", "o")).toBe(null);
    expect(actionIn("grid", { key: "o" })).toBe("grid.open");
    expect(actionIn("grid", { key: "Enter" })).toBe(null);
    expect(actionIn("detail", { key: "o" })).toBe(null);
    expect(customBindings()).toEqual({ "grid.open": ["o"] });
  });

  it("a key another action of the same scope uses is refused and nothing changes", () => {
    expect(rebind("annotator.tool:box", "p")).toBe("P is already “polygon” in the annotator.");
    expect(keysOf("annotator.tool:box")).toEqual(["r"]);
    // Fixed keys (the arrows of the grid, the class digits of the annotator) count as taken.
    expect(rebind("grid.open", "ArrowLeft")).toMatch(/already “move the focus/);
    expect(rebind("annotator.accept", "3")).toMatch(/already “pick class n”/);
    expect(rebind("annotator.label", "q")).toMatch(/cannot be changed/);
    // The same key in another scope is fine: the detail view's Escape stays.
    expect(rebind("grid.clear", "x")).toBe(null);
    expect(actionIn("detail", { key: "Escape" })).toBe("detail.close");
  });

  it("binding the default key again stores nothing", () => {
    rebind("detail.close", "q");
    rebind("detail.close", "Escape");
    expect(customBindings()).toEqual({});
  });

  it("the annotator follows the bindings, its help list too", () => {
    rebind("annotator.tool:box", "x");
    expect(actionFor({ key: "x" })).toBe("tool:box");
    expect(actionFor({ key: "r" })).toBe(null);
    expect(shortcutList()).toContainEqual(["X", "box"]);
    expect(actionFor({ key: "7" })).toBe("label:7");
    expect(actionFor({ key: " " })).toBe(null); // Space is held for panning, not an action
  });

  it("unknown and fixed actions from the database are ignored", () => {
    setCustomBindings({ "grid.nope": ["q"], "annotator.label": ["q"], "grid.open": ["o"] });
    expect(customBindings()).toEqual({ "grid.open": ["o"] });
  });
});
