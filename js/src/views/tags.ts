// Tag management in the filter panel: each tag row's "⋯" menu (assign to / remove from the
// selection, rename, delete with a confirmation that says how many samples carry it) and the
// "tag the selection" box under the list. The rename and delete go through the `tag_rename` /
// `tag_delete` api methods, the same functions as Python's dataset.rename_tag / delete_tag.

import { h, clear, formatCount } from "../lib/dom";
import type { RpcClient } from "../transport/rpc";

export interface TagActions {
  rpc: RpcClient;
  datasetId: string;
  /** Sample ids selected in the grid. */
  selection: () => string[];
  /** Tags or samples changed: refresh the grid's rows and the panel. */
  onChanged: () => void;
  /** A tag was renamed (new) or deleted (null): the view's filter follows. */
  onRenamed: (old: string, name: string | null) => void;
  /** Say what happened; `undoable`: the change can be undone (the toast offers Undo). */
  flash: (text: string, error?: boolean, undoable?: boolean) => void;
}

let openMenu: HTMLElement | null = null;

function closeMenu(): void {
  openMenu?.remove();
  openMenu = null;
}

async function run(actions: TagActions, work: () => Promise<string>, undoable = false): Promise<void> {
  try {
    actions.flash(await work(), false, undoable);
    actions.onChanged();
  } catch (e) {
    actions.flash((e as Error).message, true);
  }
}

/** After the panel re-rendered (a refresh), put the open menu back under its tag's row. */
export function reattachTagMenu(panel: HTMLElement): void {
  if (!openMenu) return;
  const tag = openMenu.dataset.tag ?? "";
  const row = [...panel.querySelectorAll<HTMLElement>("[data-testid=ls-tag-filters] .ls-tag-row")]
    .find((r) => r.dataset.name === tag);
  if (row) row.after(openMenu);
  else closeMenu();
}

/** The "⋯" button of a tag row; opens the tag's menu below the row. */
export function tagMenuButton(actions: TagActions, name: string, count: number): HTMLElement {
  const button = h("button", { class: "ls-tag-menu-btn", title: `Manage tag “${name}”`, "aria-label": `manage tag ${name}`, "data-testid": "ls-tag-menu-button" }, "⋯");
  button.addEventListener("click", (e) => {
    e.preventDefault();
    e.stopPropagation();
    const row = button.closest(".ls-tag-row") ?? button.parentElement!;
    const again = openMenu?.dataset.tag === name;
    closeMenu();
    if (!again) {
      openMenu = tagMenu(actions, name, count);
      row.after(openMenu);
    }
  });
  return button;
}

function tagMenu(actions: TagActions, name: string, count: number): HTMLElement {
  const menu = h("div", { class: "ls-tag-menu", role: "menu", "data-tag": name, "data-testid": "ls-tag-menu" });
  const selected = actions.selection().length;
  const item = (label: string, testid: string, enabled: boolean, onclick: () => void) =>
    h("button", { role: "menuitem", "data-testid": testid, disabled: !enabled, onclick: (e: Event) => { e.stopPropagation(); onclick(); } }, label);
  const tagSelection = (remove: boolean) => run(actions, async () => {
    const ids = actions.selection();
    closeMenu();
    const { result } = await actions.rpc.call("tag_samples", { dataset_id: actions.datasetId, sample_ids: ids, tag: name, remove });
    return remove ? `Removed “${name}” from ${formatCount(result.changed)} samples` : `Tagged ${formatCount(result.changed)} samples “${name}”`;
  });

  const body = h("div", { class: "ls-tag-menu-body" },
    item(`Assign to ${formatCount(selected)} selected`, "ls-tag-assign", selected > 0, () => void tagSelection(false)),
    item(`Remove from ${formatCount(selected)} selected`, "ls-tag-unassign", selected > 0, () => void tagSelection(true)),
    item("Rename…", "ls-tag-rename", true, () => renameForm()),
    item("Delete…", "ls-tag-delete", true, () => deleteForm()));
  menu.append(body);

  const renameForm = () => {
    clear(body);
    const input = h("input", { type: "text", value: name, "aria-label": "new tag name", "data-testid": "ls-tag-rename-input" });
    const submit = () => run(actions, async () => {
      const next = input.value.trim();
      if (!next || next === name) { closeMenu(); return "Tag unchanged"; }
      const { result } = await actions.rpc.call("tag_rename", { dataset_id: actions.datasetId, old: name, new: next });
      closeMenu();
      actions.onRenamed(name, next);
      return `Renamed “${name}” to “${next}” (${formatCount(result.count)} samples)`;
    }, true);
    input.addEventListener("keydown", (e) => {
      if (e.key === "Enter") void submit();
      if (e.key === "Escape") closeMenu();
    });
    body.append(input, h("div", { class: "ls-row" },
      h("button", { onclick: closeMenu }, "Cancel"),
      h("button", { class: "ls-primary", "data-testid": "ls-tag-rename-ok", onclick: () => void submit() }, "Rename")));
    input.focus();
    input.select();
  };

  const deleteForm = () => {
    clear(body);
    body.append(
      h("div", { "data-testid": "ls-tag-delete-question" },
        `Delete tag “${name}”? It is taken off ${formatCount(count)} sample${count === 1 ? "" : "s"}.`),
      h("div", { class: "ls-row" },
        h("button", { onclick: closeMenu }, "Cancel"),
        h("button", { class: "ls-danger", "data-testid": "ls-tag-delete-ok", onclick: () => void run(actions, async () => {
          const { result } = await actions.rpc.call("tag_delete", { dataset_id: actions.datasetId, name });
          closeMenu();
          actions.onRenamed(name, null);
          return `Deleted tag “${name}” from ${formatCount(result.count)} samples`;
        }, true) }, "Delete")));
  };
  return menu;
}

/** "Tag the selection" box under the tag list: a new or existing name, Enter assigns it to
 * the selected samples (or creates the tag when nothing is selected). */
export function tagAssignBox(actions: TagActions): HTMLElement {
  const input = h("input", { type: "text", placeholder: "Assign tag to selection…", "data-testid": "ls-tag-assign-input", "aria-label": "assign tag to selection" });
  input.addEventListener("keydown", (e) => {
    if (e.key !== "Enter") return;
    const name = input.value.trim();
    if (!name) return;
    void run(actions, async () => {
      const ids = actions.selection();
      input.value = "";
      if (!ids.length) {
        await actions.rpc.call("tag_create", { dataset_id: actions.datasetId, name });
        return `Created tag “${name}” (select samples to assign it)`;
      }
      const { result } = await actions.rpc.call("tag_samples", { dataset_id: actions.datasetId, sample_ids: ids, tag: name });
      return `Tagged ${formatCount(result.changed)} samples “${name}”`;
    });
  });
  return input;
}

export const TAG_STYLES = `
.ls-root .ls-tag-row { display: flex; align-items: center; gap: 2px; }
.ls-root .ls-tag-row > .ls-check { flex: 1; min-width: 0; }
.ls-root .ls-tag-row button { padding: 0 5px; min-width: 0; line-height: 1.4; }
.ls-root .ls-not-btn[aria-pressed="true"] { background: var(--ls-danger); color: #fff; border-color: var(--ls-danger); }
.ls-root .ls-excluded .ls-name { text-decoration: line-through; }
.ls-root .ls-tag-menu { margin: 2px 0 6px 18px; padding: 4px; border: 1px solid var(--ls-border); border-radius: 4px;
  background: var(--ls-bg2); }
.ls-root .ls-tag-menu-body { display: flex; flex-direction: column; gap: 3px; }
.ls-root .ls-tag-menu-body > button { text-align: left; }
.ls-root .ls-danger { background: var(--ls-danger); color: #fff; border-color: var(--ls-danger); }
.ls-root input[data-testid="ls-tag-assign-input"] { width: 100%; box-sizing: border-box; margin-top: 4px; }
`;
