// Group detail: a group's members side by side at full resolution (one panel per view, in view
// order, named by the view) with their labels, the group's tags (editable) and metadata, and
// each member's file and tags. Prev/next walk the grid's order, as in the sample detail (detail.ts).

import { appendAll, clear, formatValue, h } from "../lib/dom";
import { icon, iconButton } from "../lib/icons";
import type { RpcClient } from "../transport/rpc";
import type { GroupDetail } from "../transport/methods";
import { maskCanvas, overlaySvg } from "./overlays";

export interface GroupDetailOptions {
  rpc: RpcClient;
  datasetId: string;
  datasetName?: string;
  onClose: () => void;
  onStep: (delta: number) => void;
  onTagsChanged: () => void;
  /** Rank the grid by similarity to this group (offered when the dataset has embeddings). */
  onFindSimilar?: (groupId: string) => void;
  position: () => string;
}

export class GroupDetailView {
  readonly el: HTMLDivElement;
  private readonly header: HTMLDivElement;
  private readonly members: HTMLDivElement;
  private readonly side: HTMLDivElement;
  private detail: GroupDetail | null = null;
  private urls: string[] = [];
  private current = "";

  constructor(private readonly o: GroupDetailOptions) {
    this.header = h("div", { class: "ls-toolbar ls-detail-head" });
    this.members = h("div", { class: "ls-group-detail-members", "data-testid": "ls-group-detail-members" });
    const step = (d: number, name: "prev" | "next", label: string) =>
      h("button", { class: `ls-detail-arrow ls-${name}`, title: label, "aria-label": label, "data-testid": `ls-detail-${name}`,
        onclick: () => this.o.onStep(d) }, icon(name, 22));
    const main = h("div", { class: "ls-detail-image ls-group-detail-main" }, this.members,
      step(-1, "prev", "Previous group (←)"), step(1, "next", "Next group (→)"));
    this.side = h("div", { class: "ls-detail-side" });
    this.el = h("div", { class: "ls-detail", tabindex: -1, "data-testid": "ls-group-detail" }, this.header,
      h("div", { class: "ls-detail-body" }, main, this.side));
    this.el.addEventListener("keydown", (e) => this.onKey(e));
  }

  async show(groupId: string): Promise<void> {
    this.current = groupId;
    this.renderHeader(null);
    clear(this.side);
    this.side.append(h("div", { class: "ls-muted" }, "Loading…"));
    try {
      const { result } = await this.o.rpc.call("group_detail", { dataset_id: this.o.datasetId, sample_id: groupId });
      if (groupId !== this.current) return;
      this.detail = result;
    } catch (e) {
      clear(this.side);
      this.side.append(h("div", { class: "ls-error" }, (e as Error).message));
      return;
    }
    this.renderHeader(this.detail);
    this.renderSide();
    await this.renderMembers(this.detail);
    this.el.focus();
  }

  private renderHeader(d: GroupDetail | null): void {
    clear(this.header);
    const name = d?.name ?? "";
    appendAll(this.header,
      iconButton("back", "Grid", { onclick: () => this.o.onClose(), title: "Back to the grid (Esc)", "data-testid": "ls-detail-close" }),
      h("nav", { class: "ls-crumbs", "aria-label": "breadcrumbs" },
        h("button", { class: "ls-crumb", onclick: () => this.o.onClose(), title: "Back to the grid" }, this.o.datasetName ?? "Dataset"),
        h("span", { class: "ls-crumb-sep", "aria-hidden": "true" }, "›"),
        h("span", { class: "ls-crumb ls-crumb-current", title: name }, name)),
      h("span", { class: "ls-count" }, this.o.position()),
      h("span", { class: "ls-spacer" }),
      d && this.o.onFindSimilar ? iconButton("similar", "Find similar", { onclick: () => this.o.onFindSimilar!(d.sample_id), title: "Groups most like this one (mean of the members' embeddings)", "data-testid": "ls-detail-similar" }) : null);
  }

  /** One panel per view; the members' full images load together, a missing member is a gap. */
  private async renderMembers(d: GroupDetail): Promise<void> {
    for (const url of this.urls) URL.revokeObjectURL(url);
    this.urls = [];
    clear(this.members);
    const panels = d.members.map((m) => {
      const picture = h("div", { class: "ls-group-detail-picture" },
        m.sample_id ? h("div", { class: "ls-muted" }, "Loading…") : h("div", { class: "ls-group-gap" }, `No ${m.view} member`));
      this.members.append(h("figure", { class: "ls-group-detail-member", "data-view": m.view, "data-testid": "ls-group-detail-member" },
        h("figcaption", {}, h("strong", {}, m.view), m.file_name ? h("span", { class: "ls-muted" }, ` ${m.file_name}${m.kind === "video" ? " · video, first frame" : ""}`) : null),
        picture,
        m.tags?.length ? h("div", { class: "ls-group-detail-tags" }, m.tags.map((t) => h("span", { class: "ls-tagchip" }, t))) : null));
      return { m, picture };
    });
    await Promise.all(panels.map(async ({ m, picture }) => {
      if (!m.sample_id) return;
      try {
        const img = await this.o.rpc.call("image", { dataset_id: this.o.datasetId, sample_id: m.sample_id });
        if (d !== this.detail) return;
        const url = URL.createObjectURL(new Blob([img.buffers[0] as BlobPart], { type: img.result.mime }));
        this.urls.push(url);
        clear(picture);
        picture.append(h("img", { src: url, alt: `${d.name} ${m.view}`, draggable: "false" }));
        if (m.width && m.height && m.annotations?.length) {
          const opts = { boxes: true, masks: true, labels: true, maskFillAlpha: 90, maskResolution: 1024,
            displayWidth: picture.clientWidth || 400, displayHeight: picture.clientHeight || 300 };
          const mask = maskCanvas(m.width, m.height, m.annotations, opts);
          if (mask) picture.append(mask);
          const svg = overlaySvg(m.width, m.height, m.annotations, opts);
          if (svg) picture.append(svg);
        }
      } catch (e) {
        clear(picture);
        picture.append(h("div", { class: "ls-error" }, (e as Error).message));
      }
    }));
  }

  private async setTag(tag: string, remove: boolean): Promise<void> {
    if (!this.detail || !tag.trim()) return;
    await this.o.rpc.call("tag_samples", { dataset_id: this.o.datasetId, sample_ids: [this.detail.sample_id], tag: tag.trim(), remove });
    const tags = new Set(this.detail.tags);
    if (remove) tags.delete(tag.trim()); else tags.add(tag.trim());
    this.detail.tags = [...tags].sort();
    this.renderSide();
    this.el.focus(); // the tag box was rebuilt: keep Esc and the arrow keys working
    this.o.onTagsChanged();
  }

  private renderSide(): void {
    const d = this.detail;
    clear(this.side);
    if (!d) return;
    const input = h("input", { type: "text", placeholder: "Add tag to group + Enter", "data-testid": "ls-detail-tag-input", style: "width:100%" });
    input.addEventListener("keydown", (e) => { if (e.key === "Enter") void this.setTag(input.value, false); });
    const table = (rows: [string, unknown][]) => h("table", { class: "ls-kv" }, rows.filter(([, v]) => v !== null && v !== undefined)
      .map(([k, v]) => h("tr", {}, h("td", {}, k), h("td", {}, formatValue(v)))));
    appendAll(this.side,
      h("div", { class: "ls-section" }, h("h4", {}, "Group tags"),
        h("div", { "data-testid": "ls-detail-tags" }, d.tags.map((t) => h("span", { class: "ls-tagchip" }, t,
          h("button", { title: `Remove tag ${t}`, "aria-label": `Remove tag ${t}`, onclick: () => void this.setTag(t, true) }, "×")))),
        input),
      Object.keys(d.metadata).length ? h("div", { class: "ls-section" }, h("h4", {}, "Metadata"), table(Object.entries(d.metadata))) : null,
      h("div", { class: "ls-section" }, h("h4", {}, "Members"),
        table(d.members.map((m) => [m.view, m.file_name ?? "none"]))),
      h("div", { class: "ls-section" }, h("h4", {}, "Group"), table([["Name", d.name], ["Group id", d.sample_id]])));
  }

  private onKey(e: KeyboardEvent): void {
    if ((e.target as HTMLElement).tagName === "INPUT") return;
    if (e.key === "Escape") this.o.onClose();
    else if (e.key === "ArrowLeft") this.o.onStep(-1);
    else if (e.key === "ArrowRight") this.o.onStep(1);
    else return;
    e.preventDefault();
  }

  dispose(): void {
    for (const url of this.urls) URL.revokeObjectURL(url);
    this.urls = [];
  }
}
