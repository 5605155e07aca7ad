"""Few-shot classifier: which model to fit on a few examples, measured on held-out samples.

    .venv/bin/python benchmarks/bench_classifier.py              # example COCO images
    .venv/bin/python benchmarks/bench_classifier.py --shots 5 --repeats 20

Two planted two-class splits of the COCO example images, embedded with the configured model
(LIGHTLY_STUDIO_EMBEDDING_MODEL; random weights offline, so only visual statistics separate
the groups): "tinted" (blue vs red tint, easy) and "inverted" (originals vs colour-inverted
mirrored copies, hard for random weights). For each, ``--shots`` examples per class are
drawn ``--repeats`` times; every candidate is fitted on them and scored on all other images:
accuracy, and the mean probability it gives its prediction (how sure it sounds). Then the
time to fit the chosen model on 2 x shots examples and to predict 100,000 512-d vectors.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("LIGHTLY_STUDIO_EMBEDDING_MODEL", "open_clip:ViT-S-32:random")
os.environ.setdefault("LIGHTLY_STUDIO_EMBEDDING_PRECISION", "fp32")

EXAMPLES = Path(os.environ.get("LIGHTLY_STUDIO_EXAMPLE_DATA", "/work/shared/dataset_examples"))


def planted_embeddings(kind: str, workdir: Path) -> tuple[np.ndarray, np.ndarray]:
    from PIL import Image, ImageOps

    import lightly_studio as ls
    from lightly_studio.embed import get_embeddings

    folder = workdir / kind
    for i, path in enumerate(sorted((EXAMPLES / "coco_subset_128_images/images").glob("*.jpg"))):
        image = Image.open(path).convert("RGB")
        image.thumbnail((160, 160))
        group = "b" if i % 2 else "a"
        if kind == "tinted":
            tint = (255, 40, 0) if group == "b" else (0, 40, 255)
            image = Image.blend(image, Image.new("RGB", image.size, tint), 0.5)
        elif group == "b":
            image = ImageOps.invert(ImageOps.mirror(image))
        (folder / group).mkdir(parents=True, exist_ok=True)
        image.save(folder / group / path.name)
    ls.db_manager.connect(db_file=workdir / f"{kind}.db")
    dataset = ls.ImageDataset.create(kind)
    dataset.add_images_from_path(str(folder), tag_depth=1)
    ids, vectors = get_embeddings(dataset)
    frame = dataset.query().to_polars()
    tag = {str(s): t[0] for s, t in zip(frame["sample_id"], frame["tags"], strict=True)}
    ls.db_manager.close()
    return vectors, np.array([tag[str(i)] == "b" for i in ids], dtype=int)


def logistic(c: float):
    def fit_predict(x, y, test):
        from sklearn.linear_model import LogisticRegression

        model = LogisticRegression(C=c, class_weight="balanced", max_iter=1000).fit(x, y)
        return model.predict_proba(test)

    return fit_predict


def nearest_centroid(x, y, test):
    centroids = np.stack([x[y == k].mean(0) for k in (0, 1)])
    scores = test @ centroids.T * 10
    exp = np.exp(scores - scores.max(1, keepdims=True))
    return exp / exp.sum(1, keepdims=True)


def torch_probe(x, y, test):
    import torch

    torch.manual_seed(0)
    layer = torch.nn.Linear(x.shape[1], 2, dtype=torch.float64)
    optimiser = torch.optim.Adam(layer.parameters(), lr=0.1, weight_decay=1e-3)
    xt, yt = torch.from_numpy(x.astype(np.float64)), torch.from_numpy(y)
    for _ in range(200):
        optimiser.zero_grad()
        torch.nn.functional.cross_entropy(layer(xt), yt).backward()
        optimiser.step()
    with torch.no_grad():
        return torch.softmax(layer(torch.from_numpy(test.astype(np.float64))), 1).numpy()


CANDIDATES = {
    "logistic C=1": logistic(1.0),
    "logistic C=10 (used)": logistic(10.0),
    "nearest centroid": nearest_centroid,
    "torch linear probe": torch_probe,
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shots", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    print(f"CPU flags: {_cpu_flags()}")
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("tinted", "inverted"):
            vectors, labels = planted_embeddings(kind, Path(tmp))
            print(f"\n{kind}: {len(labels)} images, {args.shots} examples per class")
            for name, fit_predict in CANDIDATES.items():
                accuracies, sureness, seconds = [], [], []
                for seed in range(args.repeats):
                    rng = np.random.default_rng(seed)
                    train = np.concatenate(
                        [
                            rng.choice(np.where(labels == k)[0], args.shots, replace=False)
                            for k in (0, 1)
                        ]
                    )
                    test = np.setdiff1d(np.arange(len(labels)), train)
                    start = time.perf_counter()
                    probs = fit_predict(vectors[train], labels[train], vectors[test])
                    seconds.append(time.perf_counter() - start)
                    accuracies.append((probs.argmax(1) == labels[test]).mean())
                    sureness.append(probs.max(1).mean())
                print(
                    f"  {name:22s} accuracy {np.mean(accuracies):.3f} (min {np.min(accuracies):.3f})"
                    f"  mean confidence {np.mean(sureness):.3f}  fit+predict {np.median(seconds) * 1e3:.1f} ms"
                )
    _timing(args.shots)


def _timing(shots: int) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2 * shots, 512)).astype(np.float32)
    y = np.repeat([0, 1], shots)
    many = rng.normal(size=(100_000, 512)).astype(np.float32)
    from sklearn.linear_model import LogisticRegression

    from lightly_studio.classifier._few_shot import _probabilities

    start = time.perf_counter()
    model = LogisticRegression(C=10.0, class_weight="balanced", max_iter=1000).fit(x, y)
    fitted = time.perf_counter() - start
    start = time.perf_counter()
    _probabilities(many, model.coef_, model.intercept_)
    predicted = time.perf_counter() - start
    print(
        f"\nfit on {2 * shots} examples: {fitted * 1e3:.1f} ms; predict 100,000 x 512: {predicted * 1e3:.1f} ms"
    )


def _cpu_flags() -> str:
    try:
        flags = next(
            line
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("flags")
        ).split()
    except (OSError, StopIteration):
        return "unknown"
    return (
        " ".join(f for f in ("avx2", "avx512f", "avx512_bf16", "amx_tile") if f in flags)
        or "none of avx2/avx512"
    )


if __name__ == "__main__":
    main()
