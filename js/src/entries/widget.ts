// anywidget entry for every notebook view (Explorer, EmbeddingPlot). The view asks the
// kernel "ready" first: messages Python sends before a view exists are lost, so Python only
// ever answers.

import { RpcClient } from "../transport/rpc";
import { modelChannel, type ModelLike } from "../transport/model";
import { mountExplorer, type ReadyInfo } from "../views/explorer";
import { mountPlot } from "../views/plot";
import { injectStyles } from "../views/styles";
import { h } from "../lib/dom";
import { noticeIfSlow, type Snapshot } from "../transport/kernelless";

export { RpcClient, modelChannel, mountExplorer, mountPlot };

async function render({ model, el }: { model: ModelLike; el: HTMLElement }): Promise<() => void> {
  injectStyles(el);
  const rpc = new RpcClient(modelChannel(model));
  const loading = h("div", { class: "ls-root", style: "padding:12px" }, "Loading LightlyStudio…");
  el.append(loading);
  // No kernel (a saved notebook opened without one) or a busy one: say so, keep waiting.
  const clear = noticeIfSlow(el, () => model.get("_snapshot") as Snapshot | undefined);
  let dispose: () => void = () => {};
  try {
    const { result } = await rpc.call<ReadyInfo>("ready", { view: model.get("_view") });
    clear();
    loading.remove();
    dispose = model.get("_view") === "plot" ? mountPlot(el, model, rpc, result) : mountExplorer(el, model, rpc, result);
  } catch (e) {
    clear();
    loading.textContent = `LightlyStudio view failed: ${(e as Error).message}`;
    loading.classList.add("ls-error");
  }
  return () => {
    clear();
    dispose();
    rpc.dispose();
  };
}

export default { render };
