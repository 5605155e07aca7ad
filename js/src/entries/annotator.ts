// anywidget entry of ls.widgets.Annotator. Like the other views it asks the kernel "ready"
// first, so nothing Python sends before the view exists is lost.

import { RpcClient } from "../transport/rpc";
import { modelChannel, type ModelLike } from "../transport/model";
import { mountAnnotator, type AnnotatorInfo } from "../views/annotator";
import { injectAnnotatorStyles } from "../views/annotator/styles";
import { injectStyles } from "../views/styles";
import { h } from "../lib/dom";
import { noticeIfSlow, type Snapshot } from "../transport/kernelless";

export { mountAnnotator };

async function render({ model, el }: { model: ModelLike; el: HTMLElement }): Promise<() => void> {
  injectStyles(el);
  injectAnnotatorStyles(el);
  const rpc = new RpcClient(modelChannel(model));
  const loading = h("div", { class: "ls-root", style: "padding:12px" }, "Loading annotator…");
  el.append(loading);
  // No kernel (a saved notebook opened without one) or a busy one: say so, keep waiting.
  const clear = noticeIfSlow(el, () => model.get("_snapshot") as Snapshot | undefined);
  let dispose: () => void = () => {};
  try {
    const { result } = await rpc.call<AnnotatorInfo>("ready", { view: "annotator" });
    clear();
    loading.remove();
    dispose = mountAnnotator(el, model, rpc, result);
  } catch (e) {
    clear();
    loading.textContent = `LightlyStudio annotator failed: ${(e as Error).message}`;
    loading.classList.add("ls-error");
  }
  return () => {
    clear();
    dispose();
    rpc.dispose();
  };
}

export default { render };
