// The query box: a text query (`width >= 640 OR "cat" IN tags`, see docs/queries.md) with
// completion of field, function, tag, class, source and metadata names, the error underlined
// where it occurs, and the equivalent Python. Applying it sets the spec's `query` key, the one
// place the filter panel, this box and Python's `explorer.query` share.
//
// Parsing, checking and completing all happen in Python (lightly_studio/query/text.py, through
// the `query_check` and `query_completions` api methods): one grammar, no second copy here.

import { h, clear } from "../lib/dom";
import type { RpcClient } from "../transport/rpc";
import type { QueryCheck, QueryCompletion, Spec } from "../transport/methods";

export interface QueryBoxOptions {
  rpc: RpcClient;
  datasetId: string;
  /** Apply a text query ("" removes it) to the explorer's spec. */
  onApply: (text: string) => void;
  onClose: () => void;
}

const HELP: [string, string][] = [
  ["Logic", "AND, OR, NOT, ( … )"],
  ["Fields", "width, height, file_name, file_path_abs, created_at"],
  ["Tags", '"tag" IN tags'],
  ["Metadata", 'metadata["key"] > 0.5'],
  ["Text", 'file_name CONTAINS "abc", captions CONTAINS "dog"'],
  ["Annotations", 'object_detection(class_name = "cat" AND width >= 50), segmentation_mask(…), classification(…)'],
];

export class QueryBox {
  readonly el: HTMLDivElement;
  private readonly input: HTMLTextAreaElement;
  private readonly backdrop: HTMLDivElement;
  private readonly list: HTMLUListElement;
  private readonly errorEl: HTMLDivElement;
  private readonly pythonEl: HTMLPreElement;
  private readonly applyBtn: HTMLButtonElement;
  private readonly countEl: HTMLSpanElement;
  private applied = "";
  private candidates: QueryCompletion[] = [];
  private span: [number, number] = [0, 0];
  private active = 0;
  private checkTimer: ReturnType<typeof setTimeout> | null = null;
  private completeTimer: ReturnType<typeof setTimeout> | null = null;
  private checkId = 0;
  private completeId = 0;

  constructor(private readonly opts: QueryBoxOptions) {
    this.input = h("textarea", {
      "data-testid": "ls-query-input", spellcheck: "false", autocomplete: "off", "aria-label": "text query",
      placeholder: 'e.g. width >= 640 AND NOT "reviewed" IN tags', rows: 4,
    });
    this.backdrop = h("div", { class: "ls-qb-backdrop", "aria-hidden": "true" });
    this.list = h("ul", { class: "ls-qb-list", role: "listbox", hidden: true, "data-testid": "ls-query-completions" });
    this.errorEl = h("div", { class: "ls-qb-error", role: "alert", hidden: true, "data-testid": "ls-query-error" });
    this.pythonEl = h("pre", { class: "ls-qb-python", hidden: true, "data-testid": "ls-query-python", title: "The same query in Python" });
    this.countEl = h("span", { class: "ls-muted", "data-testid": "ls-query-count" });
    this.applyBtn = h("button", { class: "ls-primary", "data-testid": "ls-query-apply", title: "Apply (Ctrl+Enter)" }, "Apply");
    const clearBtn = h("button", { "data-testid": "ls-query-clear" }, "Clear");
    const closeBtn = h("button", { title: "Close the query box", "aria-label": "close" }, "×");

    this.el = h("div", { class: "ls-side-query", "data-testid": "ls-query-box" },
      h("div", { class: "ls-row", style: "justify-content:space-between;align-items:center" },
        h("strong", {}, "Query"), closeBtn),
      h("ul", { class: "ls-qb-help" }, HELP.map(([what, syntax]) => h("li", {}, `${what}: `, h("code", {}, syntax)))),
      h("div", { class: "ls-qb-editor" }, this.backdrop, this.input, this.list),
      this.errorEl,
      h("div", { class: "ls-row", style: "justify-content:flex-start;align-items:center" }, this.applyBtn, clearBtn, this.countEl),
      this.pythonEl,
    );

    this.input.addEventListener("input", () => this.onInput());
    this.input.addEventListener("keydown", (e) => this.onKey(e));
    this.input.addEventListener("scroll", () => { this.backdrop.scrollTop = this.input.scrollTop; });
    this.input.addEventListener("blur", () => setTimeout(() => this.hideList(), 150));
    this.input.addEventListener("click", () => this.hideList());
    this.applyBtn.addEventListener("click", () => void this.apply());
    clearBtn.addEventListener("click", () => {
      this.input.value = "";
      this.onInput();
      this.applied = "";
      this.opts.onApply("");
    });
    closeBtn.addEventListener("click", () => this.opts.onClose());
  }

  /** The spec changed (filter panel, Python): show its text query. */
  setSpec(spec: Spec): void {
    const text = typeof spec.query === "string" ? spec.query : "";
    if (text === this.applied && this.input.value === text) return;
    this.applied = text;
    this.input.value = text;
    this.renderMarks(null);
    this.hideList();
    void this.check();
  }

  focus(): void {
    this.input.focus();
  }

  dispose(): void {
    if (this.checkTimer) clearTimeout(this.checkTimer);
    if (this.completeTimer) clearTimeout(this.completeTimer);
    this.checkId++;
    this.completeId++;
  }

  // -- typing -----------------------------------------------------------------------------
  private onInput(): void {
    this.hideList(); // until the candidates for the new text arrive
    this.renderMarks(null);
    this.errorEl.hidden = true;
    if (this.checkTimer) clearTimeout(this.checkTimer);
    this.checkTimer = setTimeout(() => void this.check(), 300);
    // Suggestions come as one types a word, a space, a "(" or a "[" (as in the reference).
    if (this.completeTimer) clearTimeout(this.completeTimer);
    this.completeTimer = setTimeout(() => void this.complete(), 120);
  }

  private onKey(e: KeyboardEvent): void {
    const open = !this.list.hidden && this.candidates.length > 0;
    if ((e.ctrlKey || e.metaKey) && e.key === "Enter") {
      e.preventDefault();
      this.hideList();
      void this.apply();
    } else if ((e.ctrlKey || e.metaKey) && e.key === " ") {
      e.preventDefault();
      void this.complete();
    } else if (open && (e.key === "ArrowDown" || e.key === "ArrowUp")) {
      e.preventDefault();
      const n = this.candidates.length;
      this.active = (this.active + (e.key === "ArrowDown" ? 1 : n - 1)) % n;
      this.renderList();
    } else if (open && (e.key === "Enter" || e.key === "Tab")) {
      e.preventDefault();
      this.accept(this.candidates[this.active]);
    } else if (open && e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      this.hideList();
    } else if (e.key === "Enter" && !e.shiftKey) {
      e.preventDefault(); // Enter applies; Shift+Enter starts a new line
      void this.apply();
    }
  }

  private async complete(): Promise<void> {
    const id = ++this.completeId;
    const text = this.input.value;
    const offset = this.input.selectionStart ?? text.length;
    try {
      const { result } = await this.opts.rpc.call("query_completions", { dataset_id: this.opts.datasetId, text, offset });
      if (id !== this.completeId || this.input.value !== text) return;
      this.candidates = result.candidates;
      this.span = [result.start, result.end];
      this.active = 0;
      // A single candidate equal to what is typed adds nothing.
      const typed = text.slice(result.start, result.end);
      if (!this.candidates.length || (this.candidates.length === 1 && this.candidates[0].insert === typed)) this.hideList();
      else this.renderList();
    } catch {
      if (id === this.completeId) this.hideList();
    }
  }

  private accept(c: QueryCompletion): void {
    const text = this.input.value;
    const [start, end] = this.span;
    const spaced = c.insert.endsWith("(") || c.insert.endsWith("[") ? "" : " ";
    const after = text.slice(end);
    const insert = c.insert + (after.startsWith(" ") ? "" : spaced);
    this.input.value = text.slice(0, start) + insert + after;
    const caret = start + insert.length;
    this.input.setSelectionRange(caret, caret);
    this.input.focus();
    this.hideList();
    this.onInput();
  }

  private renderList(): void {
    clear(this.list);
    this.candidates.forEach((c, i) => {
      const item = h("li", { role: "option", "aria-selected": i === this.active ? "true" : "false", "data-label": c.label },
        h("span", { class: "ls-qb-kind" }, c.kind), h("span", {}, c.label), h("span", { class: "ls-qb-detail" }, c.detail));
      item.addEventListener("mousedown", (e) => { e.preventDefault(); this.accept(c); });
      this.list.append(item);
    });
    this.list.hidden = false;
    this.list.querySelector('[aria-selected="true"]')?.scrollIntoView?.({ block: "nearest" });
  }

  private hideList(): void {
    this.list.hidden = true;
    this.candidates = [];
  }

  // -- checking and applying ---------------------------------------------------------------
  private async check(): Promise<QueryCheck | null> {
    const id = ++this.checkId;
    const text = this.input.value;
    if (!text.trim()) {
      this.pythonEl.hidden = true;
      this.errorEl.hidden = true;
      this.countEl.textContent = "";
      this.renderMarks(null);
      return null;
    }
    try {
      const { result } = await this.opts.rpc.call("query_check", { dataset_id: this.opts.datasetId, text });
      if (id !== this.checkId || this.input.value !== text) return null;
      this.show(result);
      return result;
    } catch (e) {
      if (id !== this.checkId) return null;
      this.errorEl.textContent = (e as Error).message;
      this.errorEl.hidden = false;
      return null;
    }
  }

  private show(result: QueryCheck): void {
    if (result.error) {
      const { message, line, column, offset } = result.error;
      this.errorEl.textContent = `Line ${line}, column ${column}: ${message}`;
      this.errorEl.hidden = false;
      this.pythonEl.hidden = true;
      this.countEl.textContent = "";
      this.renderMarks(offset);
    } else {
      this.errorEl.hidden = true;
      this.renderMarks(null);
      this.pythonEl.textContent = `dataset.match(${result.python})`;
      this.pythonEl.hidden = false;
      const n = result.count ?? 0;
      this.countEl.textContent = `matches ${n.toLocaleString("en-US")} sample${n === 1 ? "" : "s"}`;
    }
  }

  /** Underline the word at ``offset`` (a caret mark at the end of the text). */
  private renderMarks(offset: number | null): void {
    clear(this.backdrop);
    const text = this.input.value;
    if (offset === null) {
      this.backdrop.append(text);
      return;
    }
    const tail = /^("[^"]*"?|'[^']*'?|[A-Za-z_][A-Za-z0-9_]*|\S)/.exec(text.slice(offset));
    const end = tail ? offset + tail[0].length : offset;
    this.backdrop.append(text.slice(0, offset));
    this.backdrop.append(end > offset
      ? h("mark", { "data-testid": "ls-query-mark" }, text.slice(offset, end))
      : h("mark", { class: "ls-qb-caret", "data-testid": "ls-query-mark" }, "\u200b"));
    this.backdrop.append(text.slice(end) + "\n");
  }

  private async apply(): Promise<void> {
    const text = this.input.value.trim();
    if (!text) {
      this.applied = "";
      this.opts.onApply("");
      return;
    }
    const checked = await this.check();
    if (!checked || checked.error) return; // the error is shown where it occurs
    this.applied = this.input.value;
    this.opts.onApply(this.input.value);
  }
}
