// The plugins menu: lists the registered operators (api `operators_list`), renders each one's
// form from its parameter schema (no per-plugin code), runs it (`operator_run`) on the current
// scope, polls `operator_status` for progress, can cancel (`operator_cancel`) and shows the
// result message. See lightly_studio/api/operators.py for the reply shapes.

import { h, clear } from "../lib/dom";
import { icon } from "../lib/icons";
import { keepInside } from "../lib/popover";
import type { RpcClient } from "../transport/rpc";
import type { OperatorInfo, ParamSchema, RunStatus, Scope } from "../transport/methods";

export type { OperatorInfo, ParamSchema, RunStatus, Scope } from "../transport/methods";

const POLL_MS = 300;

export class OperatorsView {
  readonly el: HTMLDivElement;
  private readonly menu: HTMLDivElement;
  private readonly panel: HTMLDivElement;
  private operators: OperatorInfo[] = [];
  private runId: string | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly rpc: RpcClient,
    private readonly datasetId: () => string,
    private readonly scope: () => Scope,
    /** Called after a successful run that may have changed data (refresh grid, facets). */
    private readonly onDataChanged: () => void,
  ) {
    this.menu = h("div", { class: "ls-op-menu", "data-testid": "ls-operators-menu", hidden: true });
    this.panel = h("div", { class: "ls-op-panel", "data-testid": "ls-operator-panel", hidden: true });
    const button = h(
      "button",
      { class: "ls-op-button ls-icon-button", "data-testid": "ls-operators-button", title: "Plugins", "aria-label": "Plugins", onclick: () => void this.toggleMenu() },
      icon("plugins"), h("span", { class: "ls-label" }, "Plugins ▾"),
    );
    this.el = h("div", { class: "ls-operators" }, button, this.menu, this.panel);
  }

  private async toggleMenu(): Promise<void> {
    if (!this.menu.hidden) {
      this.menu.hidden = true;
      return;
    }
    clear(this.menu);
    this.menu.append(h("div", { class: "ls-op-loading" }, "Loading…"));
    this.menu.hidden = false;
    keepInside(this.menu);
    try {
      const { result } = await this.rpc.call("operators_list", {
        dataset_id: this.datasetId(),
      });
      this.operators = result.operators;
    } catch (e) {
      clear(this.menu);
      this.menu.append(h("div", { class: "ls-op-error" }, `Could not list plugins: ${(e as Error).message}`));
      return;
    }
    clear(this.menu);
    if (!this.operators.length) this.menu.append(h("div", {}, "No plugins registered."));
    queueMicrotask(() => keepInside(this.menu));
    for (const op of this.operators) {
      this.menu.append(
        h(
          "button",
          {
            class: "ls-op-item",
            "data-testid": "ls-operator-item",
            "data-operator": op.name,
            title: op.description,
            disabled: Boolean(op.error),
            onclick: () => {
              this.menu.hidden = true;
              this.openForm(op);
            },
          },
          op.name,
        ),
      );
    }
  }

  /** Render the form of one operator from its parameter schema. */
  openForm(op: OperatorInfo): void {
    this.stopPolling();
    clear(this.panel);
    this.panel.hidden = false;
    const inputs = new Map<string, () => unknown>();
    const fieldErrors = new Map<string, HTMLElement>();
    const fields = op.parameters.map((p) => {
      const id = `ls-op-${cssSafe(op.name)}-${cssSafe(p.name)}`;
      const { el, read } = inputFor(p, id);
      inputs.set(p.name, read);
      const err = h("div", { class: "ls-op-field-error", "data-testid": `ls-op-error-${p.name}` });
      fieldErrors.set(p.name, err);
      return h(
        "div",
        { class: "ls-op-field" },
        h("label", { for: id }, p.title + (p.required ? " *" : "")),
        el,
        p.description ? h("div", { class: "ls-op-help" }, p.description) : null,
        err,
      );
    });
    const status = h("div", { class: "ls-op-status", "data-testid": "ls-operator-status", role: "status" });
    const bar = h("progress", { class: "ls-op-progress", "data-testid": "ls-operator-progress", hidden: true });
    const run = h("button", { class: "ls-primary", "data-testid": "ls-operator-run" }, "Run");
    const cancel = h("button", { "data-testid": "ls-operator-cancel", hidden: true }, "Cancel");
    const close = h("button", { "data-testid": "ls-operator-close" }, "Close");
    const scope = this.scope();
    const scopeText =
      scope.kind === "selection"
        ? `Runs on ${scope.sample_ids.length} selected samples.`
        : scope.kind === "filter"
          ? "Runs on the filtered samples."
          : "Runs on the whole dataset.";

    run.addEventListener("click", () => {
      const values: Record<string, unknown> = {};
      for (const [name, read] of inputs) values[name] = read();
      fieldErrors.forEach((e) => (e.textContent = ""));
      void this.start(op, values, { status, bar, run, cancel, fieldErrors });
    });
    cancel.addEventListener("click", () => void this.cancel(status));
    close.addEventListener("click", () => {
      this.stopPolling();
      this.panel.hidden = true;
    });
    this.panel.append(
      h("div", { class: "ls-op-title" }, op.name),
      h("div", { class: "ls-op-description" }, op.description),
      h("div", { class: "ls-op-scope" }, scopeText),
      h("form", { class: "ls-op-form", onsubmit: (e: Event) => { e.preventDefault(); run.click(); } }, ...fields),
      h("div", { class: "ls-op-actions" }, run, cancel, close),
      bar,
      status,
    );
    keepInside(this.panel);
  }

  private async start(
    op: OperatorInfo,
    parameters: Record<string, unknown>,
    ui: { status: HTMLElement; bar: HTMLProgressElement; run: HTMLButtonElement; cancel: HTMLButtonElement; fieldErrors: Map<string, HTMLElement> },
  ): Promise<void> {
    ui.run.disabled = true;
    ui.status.textContent = "Starting…";
    ui.status.className = "ls-op-status";
    let reply: RunStatus;
    try {
      ({ result: reply } = await this.rpc.call("operator_run", {
        dataset_id: this.datasetId(),
        operator: op.name,
        parameters,
        scope: this.scope(),
      }));
    } catch (e) {
      this.showDone({ status: "failed", finished: true, success: false, message: (e as Error).message }, ui);
      return;
    }
    if (reply.status === "invalid") {
      for (const [name, why] of Object.entries(reply.errors ?? {})) {
        const el = ui.fieldErrors.get(name);
        if (el) el.textContent = why;
      }
      this.showDone(reply, ui);
      return;
    }
    this.runId = reply.run_id ?? null;
    ui.cancel.hidden = false;
    ui.cancel.disabled = false;
    ui.bar.hidden = false;
    const poll = async (): Promise<void> => {
      if (!this.runId) return;
      let st: RunStatus;
      try {
        ({ result: st } = await this.rpc.call("operator_status", { run_id: this.runId }));
      } catch (e) {
        this.showDone({ status: "failed", finished: true, success: false, message: (e as Error).message }, ui);
        return;
      }
      if (st.finished) {
        this.showDone(st, ui);
        return;
      }
      if (typeof st.progress === "number") ui.bar.value = st.progress;
      else ui.bar.removeAttribute("value"); // indeterminate
      ui.status.textContent = st.progress_message || "Running…";
      this.timer = setTimeout(() => void poll(), POLL_MS);
    };
    await poll();
  }

  private showDone(
    st: RunStatus,
    ui: { status: HTMLElement; bar: HTMLProgressElement; run: HTMLButtonElement; cancel: HTMLButtonElement },
  ): void {
    this.stopPolling();
    this.runId = null;
    ui.run.disabled = false;
    ui.cancel.hidden = true;
    ui.bar.hidden = true;
    ui.status.textContent = st.message || st.status;
    ui.status.className = `ls-op-status ls-op-${st.success ? "ok" : "error"}`;
    ui.status.setAttribute("data-status", st.status);
    if (!st.success && st.status !== "invalid") console.error(`[lightly_studio] ${st.message}`);
    if (st.success && st.result?.data_changed !== false) this.onDataChanged();
  }

  private async cancel(status: HTMLElement): Promise<void> {
    if (!this.runId) return;
    status.textContent = "Cancelling…";
    try {
      await this.rpc.call("operator_cancel", { run_id: this.runId });
    } catch (e) {
      status.textContent = `Could not cancel: ${(e as Error).message}`;
    }
  }

  private stopPolling(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  dispose(): void {
    this.stopPolling();
  }
}

/** One input element for a parameter, and how to read its value as JSON. */
export function inputFor(p: ParamSchema, id: string): { el: HTMLElement; read: () => unknown } {
  const common = { id, name: p.name, "data-testid": `ls-op-input-${p.name}` };
  if (p.enum && (p.widget === "select" || p.widget === "tag" || p.widget === "label")) {
    const select = h(
      "select",
      common,
      p.required && p.default !== undefined ? null : h("option", { value: "" }, "—"),
      ...p.enum.map((v) => h("option", { value: String(v), selected: v === p.default }, String(v))),
    );
    return { el: select, read: () => (select.value === "" ? null : p.enum!.find((v) => String(v) === select.value) ?? select.value) };
  }
  if (p.type === "boolean") {
    const box = h("input", { ...common, type: "checkbox", checked: p.default === true });
    return { el: box, read: () => box.checked };
  }
  if (p.type === "integer" || p.type === "number") {
    const input = h("input", {
      ...common,
      type: "number",
      step: p.type === "integer" ? 1 : "any",
      min: p.minimum,
      max: p.maximum,
      value: p.default === undefined || p.default === null ? undefined : String(p.default),
    });
    // Sent as text when not a clean number so the server names the problem.
    return { el: input, read: () => (input.value === "" ? null : Number.isFinite(input.valueAsNumber) ? input.valueAsNumber : input.value) };
  }
  const text = h("input", { ...common, type: "text", value: p.default == null ? undefined : String(p.default) });
  return { el: text, read: () => text.value };
}

function cssSafe(s: string): string {
  return s.replace(/[^A-Za-z0-9_-]/g, "_");
}

/** CSS for this view, scoped under .ls-root; to be appended to views/styles.ts. */
export const OPERATOR_STYLES = `
.ls-root .ls-operators { position: relative; display: inline-block; }
.ls-root .ls-op-menu { position: absolute; right: 0; top: 100%; z-index: 20; min-width: 220px;
  display: flex; flex-direction: column; gap: 2px; padding: 4px; background: var(--ls-bg);
  border: 1px solid var(--ls-border); border-radius: 4px; }
.ls-root .ls-op-menu[hidden], .ls-root .ls-op-panel[hidden] { display: none; }
.ls-root .ls-op-item { text-align: left; }
.ls-root .ls-op-panel { position: absolute; right: 0; top: 100%; z-index: 21; width: 340px;
  padding: 10px; background: var(--ls-bg); border: 1px solid var(--ls-border); border-radius: 4px;
  display: flex; flex-direction: column; gap: 6px; }
.ls-root .ls-op-title { font-weight: 600; }
.ls-root .ls-op-description, .ls-root .ls-op-help, .ls-root .ls-op-scope { opacity: .75; font-size: 12px; }
.ls-root .ls-op-field { display: flex; flex-direction: column; gap: 2px; margin-bottom: 4px; }
.ls-root .ls-op-field-error, .ls-root .ls-op-error { color: #d33; font-size: 12px; }
.ls-root .ls-op-actions { display: flex; gap: 6px; }
.ls-root .ls-op-progress { width: 100%; }
.ls-root .ls-op-status.ls-op-ok { color: #2a2; }
.ls-root .ls-op-status.ls-op-error { color: #d33; }
`;
