"""Selection algorithms on plain arrays: no database, no samples, only indices.

Everything here takes numpy arrays (or torch tensors) whose row ``i`` is candidate ``i`` of
the pool and returns candidate indices. The Selection class maps them to samples.

Distances
    Embeddings are L2-normalised first. The distance users see (thresholds, returned
    distances) is the *cosine distance* ``1 - cos(x, y)`` in [0, 2]. Internally the
    Euclidean distance of the unit vectors, ``sqrt(2 - 2 cos) = sqrt(2 * cosine distance)``, is
    used because it obeys the triangle inequality; it orders pairs exactly like the cosine
    distance, so farthest-point picks are the same under either.

Ties
    Every ``argmax`` takes the lowest index among equal scores, so the caller decides tie
    breaks by the order of the rows (Selection shuffles the pool with the seed).

Speed
    The per-pick bookkeeping (O(N) element-wise passes) runs in numpy, which is single-threaded
    and cheap; only matrix products go through torch, which parallelises them. Element-wise
    torch ops on a busy two-core machine were measured 10-15x slower than numpy's (thread
    hand-offs), which made them cost more than the distance pass itself.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

# Candidates whose distances are updated after every pick (see NearestCentre): large enough
# to last many picks, small enough to stay in cache (2048 x 512 float32 = 4 MB).
_ACTIVE_SIZE = 2048
# Rows and centres per block when many distances are computed at once (memory ~ rows*cols*4 B).
_BLOCK_ROWS = 8192
_BLOCK_COLS = 2048


def _matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` for float32 arrays through torch (multi-threaded BLAS), zero-copy."""
    import torch

    out = torch.from_numpy(np.ascontiguousarray(a)) @ torch.from_numpy(np.ascontiguousarray(b))
    return out.numpy()


def as_unit_rows(vectors: Any) -> np.ndarray:
    """float32 array of L2-normalised rows; no copy when ``vectors`` is already that."""
    if hasattr(vectors, "detach"):  # a torch tensor
        vectors = vectors.detach().cpu().numpy()
    x = np.asarray(vectors)
    if x.dtype != np.float32:
        x = x.astype(np.float32)
    if x.ndim != 2:
        raise ValueError(f"embeddings must be a 2-D array (n, dim), got shape {x.shape}")
    if len(x) == 0:
        return x
    norms = np.sqrt(np.einsum("ij,ij->i", x, x))
    if bool((np.abs(norms - 1) < 1e-4).all()):
        return x
    return x / np.maximum(norms, 1e-12)[:, None]


def _euclidean(dots: np.ndarray) -> np.ndarray:
    """Euclidean distance of unit vectors from their dot products (in place)."""
    np.multiply(dots, -2, out=dots)
    dots += 2
    np.maximum(dots, 0, out=dots)
    return np.sqrt(dots, out=dots)


def cosine_to_euclidean(cosine_distance: float) -> float:
    return math.sqrt(max(2.0 * cosine_distance, 0.0))


def euclidean_to_cosine(euclidean: Any) -> Any:
    return euclidean * euclidean / 2


def max_similarity(x: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """For each row of ``x``: the largest cosine similarity to any row of ``queries``."""
    best = np.full(len(x), -np.inf, dtype=np.float32)
    for c0 in range(0, len(queries), _BLOCK_COLS):
        block_t = np.ascontiguousarray(queries[c0 : c0 + _BLOCK_COLS].T)
        for r0 in range(0, len(x), _BLOCK_ROWS):
            rows = slice(r0, r0 + _BLOCK_ROWS)
            np.maximum(best[rows], _matmul(x[rows], block_t).max(axis=1), out=best[rows])
    return best


class NearestCentre:
    """Every candidate's distance to its nearest selected point (a "centre"), kept exact
    where it matters, with few passes over the full matrix.

    The textbook update — after each pick, one distance pass over all N candidates — reads
    the whole (N, d) matrix per pick and is bound by memory bandwidth (~20 ms for 100k x 512
    here). Instead picks are made in *epochs*: at the start of an epoch every distance is
    exact; the B candidates with the largest distances form the active set, and ``T`` is the
    largest distance outside it. Within the epoch each new centre updates only the active set
    (a small, cache-resident matrix-vector product). Distances outside it are stale, i.e. upper
    bounds (a distance to the nearest centre only shrinks), all <= T, so while the best active
    candidate is farther than T it is the exact global answer. When that fails the epoch ends:
    the pending centres are applied to every candidate in one matrix-matrix product (reading
    the matrix once for many centres) and a new active set is chosen. The picks are identical
    to the textbook algorithm.

    ``dist`` is the Euclidean distance of unit vectors, ``inf`` before any centre exists and
    ``-1`` for rows that are no longer candidates (selected or excluded).
    """

    def __init__(self, x: np.ndarray, active_size: int = _ACTIVE_SIZE) -> None:
        self.x = x
        self.dist = np.full(len(x), np.inf, dtype=np.float32)
        self.n_centres = 0
        self.pending: list[int] = []  # centres (rows of x) not yet applied outside the active set
        self.active: np.ndarray | None = None  # sorted row indices
        self.active_set = np.zeros(len(x), dtype=bool)
        self.outside_max = -np.inf  # T: largest (stale) distance outside the active set
        self.active_size = active_size
        self.rows_updated = 0  # candidate distances computed (for benchmarks)
        self.epochs = 0

    @property
    def exact(self) -> bool:
        """True when every candidate's distance is exact (no pending centres)."""
        return not self.pending

    def remove(self, rows: Any) -> None:
        """Rows that stop being candidates (their distance is no longer tracked)."""
        self.dist[rows] = -1

    def add_vectors(self, vectors: np.ndarray) -> None:
        """Add centres that are not candidates (preselected), exactly, in blocked products."""
        self.flush()
        for c0 in range(0, len(vectors), _BLOCK_COLS):
            self._apply(np.ascontiguousarray(vectors[c0 : c0 + _BLOCK_COLS].T))
        self.n_centres += len(vectors)

    def _apply(self, centres_t: np.ndarray) -> None:
        """dist = min(dist, distance to the columns of ``centres_t``) for every row."""
        for r0 in range(0, len(self.x), _BLOCK_ROWS):
            rows = slice(r0, r0 + _BLOCK_ROWS)
            sims = _matmul(self.x[rows], centres_t)
            d = _euclidean(sims.max(axis=1) if sims.shape[1] > 1 else sims[:, 0])
            # -1 (not a candidate) stays -1: it is below any distance.
            np.minimum(self.dist[rows], d, out=self.dist[rows])
        self.rows_updated += len(self.x) * centres_t.shape[1]

    def flush(self) -> None:
        """Apply the pending centres to every row: all distances exact again."""
        if self.pending:
            self._apply(np.ascontiguousarray(self.x[self.pending].T))
            self.pending = []
        if self.active is not None:
            self.active_set[self.active] = False
            self.active = None

    def start_epoch(self, priority: np.ndarray | None = None) -> None:
        """Flush, then choose the active set: the largest distances (and, when given, the
        largest ``priority`` values too)."""
        self.flush()
        self.epochs += 1
        n = len(self.x)
        b = min(self.active_size, n)
        chosen = np.argpartition(-self.dist, b - 1)[:b] if b < n else np.arange(n)
        if priority is not None and b < n:
            chosen = np.union1d(chosen, np.argpartition(-priority, b - 1)[:b])
        self.active = np.sort(chosen)
        self.active_set[self.active] = True
        self.x_active = np.ascontiguousarray(self.x[self.active])
        outside = np.where(self.active_set, -np.inf, self.dist)
        self.outside_max = float(outside.max()) if n > len(self.active) else -np.inf

    def best_active(self) -> tuple[int, float]:
        """Row and exact distance of the farthest active candidate (lowest row on ties)."""
        if self.active is None or len(self.active) == 0:
            return -1, -1.0
        values = self.dist[self.active]
        i = int(np.argmax(values))
        return int(self.active[i]), float(values[i])

    def add(self, row: int) -> None:
        """Make candidate ``row`` a centre."""
        self.n_centres += 1
        self.pending.append(row)
        if self.active is not None:
            d = _euclidean(_matmul(self.x_active, self.x[row]))
            current = self.dist[self.active]
            np.minimum(current, d, out=current)
            self.dist[self.active] = current
            self.rows_updated += len(self.active)
        self.dist[row] = -1


@dataclass
class FarthestPointResult:
    """Picked candidate indices in pick order, and the cosine distance of each pick to the
    points selected before it (``inf`` for a first pick without preselected points)."""

    indices: np.ndarray
    distances: np.ndarray
    rows_updated: int = 0  # candidate distances computed (textbook: N per pick)
    epochs: int = 0  # full passes over the matrix (see NearestCentre)


def farthest_point_sampling(
    embeddings: Any,
    n: int,
    *,
    preselected: Any | None = None,
    exclude: Any | None = None,
    min_distance: float | None = None,
    active_size: int = _ACTIVE_SIZE,
) -> FarthestPointResult:
    """Greedy k-center: repeatedly pick the candidate farthest from everything picked so far.

    Args:
        embeddings: (N, d) candidates; normalised here.
        n: at most this many picks.
        preselected: (P, d) vectors counted as already selected (they are not candidates).
        exclude: boolean mask (N,) of candidates that must not be picked.
        min_distance: stop before a pick whose cosine distance to the selected set is below
            this value (deduplication). The first pick is always made.
        active_size: candidates updated after every pick (see NearestCentre); any value gives
            the same picks.

    The first pick without preselected vectors is the candidate farthest from the mean
    embedding (the least typical one), so the result does not depend on a random start.
    Cost: picks are exactly the textbook ones (one distance update over all candidates per
    pick); the updates are batched in epochs so the full matrix is read rarely (NearestCentre).
    """
    x = as_unit_rows(embeddings)
    tracker = NearestCentre(x, active_size)
    if exclude is not None:
        tracker.remove(np.asarray(exclude, dtype=bool))
    if preselected is not None and len(preselected):
        tracker.add_vectors(as_unit_rows(preselected))
    stop = None if min_distance is None else cosine_to_euclidean(min_distance)
    picks: list[int] = []
    dists: list[float] = []
    n_candidates = int((tracker.dist >= 0).sum())
    for _ in range(min(n, n_candidates)):
        if tracker.n_centres == 0:
            # Farthest from the mean of unit vectors == smallest dot product with it.
            candidates = tracker.dist >= 0
            dots = _matmul(x, _candidate_mean(x, candidates))
            dots[~candidates] = np.inf
            row = int(np.argmin(dots))
            distance = float("inf")
        else:
            row, distance = tracker.best_active()
            if tracker.active is None or not distance > tracker.outside_max:
                tracker.start_epoch()
                row = int(np.argmax(tracker.dist))
                distance = float(tracker.dist[row])
            if distance < 0 or (stop is not None and distance < stop):
                break
        picks.append(row)
        dists.append(euclidean_to_cosine(distance))
        tracker.add(row)
    return FarthestPointResult(
        np.asarray(picks, dtype=np.int64),
        np.asarray(dists, dtype=np.float64),
        tracker.rows_updated,
        tracker.epochs,
    )


def _candidate_mean(x: np.ndarray, available: np.ndarray | None) -> np.ndarray:
    if available is None or bool(available.all()):
        return x.mean(axis=0)
    return x[available].mean(axis=0)


# -- class balancing ----------------------------------------------------------------------------
def balancing_loss(counts: Any, target: Any) -> float:
    """The balancing objective of a selection with class histogram ``counts``:

    ``L(c) = sum_k (c_k / sum(c) - p_k) ** 2`` — the squared distance between the selection's
    class shares and the target shares ``p`` (normalised to sum to 1). An empty histogram has
    shares 0, so ``L(0) = sum_k p_k ** 2``.
    """
    c = np.asarray(counts, dtype=np.float64)
    p = np.asarray(target, dtype=np.float64)
    p = p / p.sum()
    total = c.sum()
    shares = c / total if total > 0 else np.zeros_like(c)
    return float(((shares - p) ** 2).sum())


class ClassBalance:
    """Greedy gain of adding each candidate to the selection, for ``balancing_loss``.

    ``gain_i = L(c) - L(c + a_i)`` with ``a_i`` the candidate's class counts. It is evaluated
    for all candidates in O(N) per pick by expanding the square:
    ``L(c + a) = (|c|^2 + 2 a.c + |a|^2) / T^2 - 2 (p.c + p.a) / T + |p|^2`` with
    ``T = sum(c) + sum(a)``; ``A @ c`` is updated after each pick from the picked row's
    non-zero classes only.
    """

    def __init__(self, class_counts: Any, target: Any, initial: Any | None = None) -> None:
        a = np.asarray(class_counts, dtype=np.float64)
        p = np.asarray(target, dtype=np.float64)
        if a.ndim != 2 or a.shape[1] != len(p):
            raise ValueError(f"class_counts must be (N, {len(p)}), got {a.shape}")
        if (p < 0).any() or p.sum() <= 0:
            raise ValueError("target shares must be non-negative and not all zero")
        self.p = p / p.sum()
        self.a_cols = np.asfortranarray(a)  # column k contiguous: cheap per-class updates
        self.row_total = a.sum(axis=1)
        self.row_sq = (a * a).sum(axis=1)
        self.row_p = a @ self.p
        self.p_sq = float(self.p @ self.p)
        self.c = np.zeros(len(p))
        self.a_dot_c = np.zeros(len(a))
        if initial is not None:
            self._add_counts(np.asarray(initial, dtype=np.float64))

    def _add_counts(self, counts: np.ndarray) -> None:
        for k in np.flatnonzero(counts):
            self.a_dot_c += counts[k] * self.a_cols[:, k]
        self.c = self.c + counts

    def loss(self) -> float:
        return balancing_loss(self.c, self.p)

    def gains(self) -> np.ndarray:
        c_total = float(self.c.sum())
        c_sq = float(self.c @ self.c)
        p_c = float(self.p @ self.c)
        total = c_total + self.row_total
        empty = total <= 0
        safe = np.where(empty, 1.0, total)
        new_loss = (
            (c_sq + 2 * self.a_dot_c + self.row_sq) / safe**2
            - 2 * (p_c + self.row_p) / safe
            + self.p_sq
        )
        new_loss[empty] = self.p_sq
        return self.loss() - new_loss

    def add(self, row: int) -> None:
        self._add_counts(self.a_cols[row])


# -- combined objective -------------------------------------------------------------------------
class Term:
    """One strategy's preference for each candidate (higher = better), before normalisation."""

    dynamic = False

    def values(self, available: np.ndarray | None) -> np.ndarray:
        raise NotImplementedError

    def picked(self, row: int) -> None:
        """Called after each pick (dynamic terms update their state)."""


class StaticTerm(Term):
    """A fixed value per candidate: metadata weighting, similarity to a query set."""

    def __init__(self, values: Any) -> None:
        self._values = np.asarray(values, dtype=np.float64)

    def values(self, available: np.ndarray | None) -> np.ndarray:
        return self._values


class DiversityTerm(Term):
    """Cosine distance to the nearest selected point, updated after each pick.

    Before anything is selected it is the distance to the mean embedding of the candidates, so
    the first pick prefers atypical samples just as plain farthest-point sampling does.
    ``greedy_combined`` reads the distances from ``tracker`` (see NearestCentre).
    """

    dynamic = True

    def __init__(
        self,
        embeddings: Any,
        capacity: int = 0,
        preselected: Any | None = None,
        active_size: int = _ACTIVE_SIZE,
    ) -> None:
        self.x = as_unit_rows(embeddings)
        self.preselected = preselected
        self.active_size = active_size
        self._tracker: NearestCentre | None = None

    @property
    def tracker(self) -> NearestCentre:
        # Built on first use, so a caller that only needs x (the plain diverse fast path)
        # never pays for the preselected distances.
        if self._tracker is None:
            self._tracker = NearestCentre(self.x, self.active_size)
            if self.preselected is not None and len(self.preselected):
                self._tracker.add_vectors(as_unit_rows(self.preselected))
        return self._tracker

    def first_values(self, available: np.ndarray | None) -> np.ndarray:
        """Cosine distance to the mean of the available candidates (before any centre)."""
        return 1 - _matmul(self.x, _candidate_mean(self.x, available)).astype(np.float64)

    def values(self, available: np.ndarray | None) -> np.ndarray:
        if self.tracker.n_centres == 0:
            return self.first_values(available)
        self.tracker.flush()
        return euclidean_to_cosine(self.tracker.dist.astype(np.float64))

    def picked(self, row: int) -> None:
        self.tracker.add(row)


class BalanceTerm(Term):
    """Reduction of ``balancing_loss`` from adding the candidate (see ClassBalance)."""

    dynamic = True

    def __init__(self, balance: ClassBalance) -> None:
        self.balance = balance

    def values(self, available: np.ndarray | None) -> np.ndarray:
        return self.balance.gains()

    def picked(self, row: int) -> None:
        self.balance.add(row)


def _normalise(values: np.ndarray, available: np.ndarray) -> np.ndarray:
    """Min-max rescale to [0, 1] over the available candidates (all 0 when they are equal)."""
    live = values[available]
    if len(live) == 0:
        return np.zeros_like(values)
    lo, hi = live.min(), live.max()
    span = hi - lo
    if not np.isfinite(span) or span <= 0:
        return np.zeros_like(values)
    return (values - lo) / span


def _over_max(values: np.ndarray, top: float) -> np.ndarray:
    """Distances divided by the largest one (distances start at 0, so this spans [0, 1])."""
    if not np.isfinite(top) or top <= 0:
        return np.zeros_like(values)
    return values / top


def greedy_combined(
    terms: Sequence[tuple[float, Term]],
    n_candidates: int,
    n: int,
    *,
    available: Any | None = None,
) -> np.ndarray:
    """Pick ``n`` candidates one at a time, each maximising the combined score.

    ``score_i = sum_s strength_s * norm_s(v_s,i)``, where ``v_s`` is strategy ``s``'s value
    for candidate ``i`` and ``norm_s`` rescales it to [0, 1] over the candidates still
    available: ``(v - min) / (max - min)`` for metadata, similarity and balancing gains, and
    ``v / max`` for the diversity distance (distances start at 0). Fixed terms are rescaled
    once, the diversity and balancing terms before every pick. Rescaling makes strengths
    comparable: a strength-2 term can move a candidate's score twice as far as a strength-1
    term. Negative strengths prefer low values. Ties go to the lowest index.

    With one diversity term of positive strength the distances are kept lazily (see
    NearestCentre): stale distances give upper bounds of the other candidates' scores, and a
    pick is taken from the active set only when it beats all those bounds, so the picks equal
    those of exact updates after every pick.
    """
    avail = (
        np.ones(n_candidates, dtype=bool) if available is None else np.array(available, dtype=bool)
    )
    static = np.zeros(n_candidates)
    others: list[tuple[float, Term]] = []
    diversity: list[tuple[float, DiversityTerm]] = []
    for strength, term in terms:
        if isinstance(term, DiversityTerm):
            term.tracker.remove(~avail)
            diversity.append((strength, term))
        elif term.dynamic:
            others.append((strength, term))
        elif strength:
            static += strength * _normalise(term.values(avail), avail)
    lazy = diversity[0][1] if len(diversity) == 1 and diversity[0][0] > 0 else None
    picks: list[int] = []
    for _ in range(min(n, int(avail.sum()))):
        base = static.copy()
        for strength, term in others:
            if strength:
                base += strength * _normalise(term.values(avail), avail)
        row = -1
        for strength, term in diversity:
            if term.tracker.n_centres == 0:
                base += strength * _normalise(term.first_values(avail), avail)
            elif term is lazy:
                row = _lazy_pick(base, strength, term.tracker, avail)
            else:
                cos = term.values(avail)
                base += strength * _over_max(cos, cos[avail].max())
        if row < 0:
            base[~avail] = -np.inf
            row = int(np.argmax(base))
        picks.append(row)
        avail[row] = False
        for _strength, term in (*others, *diversity):
            term.picked(row)
    return np.asarray(picks, dtype=np.int64)


def _lazy_pick(base: np.ndarray, strength: float, tracker: NearestCentre, avail: np.ndarray) -> int:
    """The best candidate for ``base + strength * cos_dist / max cos_dist`` (see above)."""
    if tracker.active is not None:
        _row, top = tracker.best_active()
        if top >= tracker.outside_max and top > 0:
            # The largest true distance is in the active set, so the scale is exact; stale
            # distances elsewhere only overestimate those candidates' scores.
            scale = strength / euclidean_to_cosine(top)
            bound = base + scale * euclidean_to_cosine(tracker.dist.astype(np.float64))
            bound[~avail] = -np.inf
            row = int(np.argmax(bound))
            if tracker.active_set[row]:
                outside = np.where(tracker.active_set, -np.inf, bound).max()
                if bound[row] > outside:
                    return row
    tracker.start_epoch()
    cos = euclidean_to_cosine(tracker.dist.astype(np.float64))
    score = base + strength * _over_max(cos, cos[avail].max())
    score[~avail] = -np.inf
    # Re-centre the active set on the current best scores as well as the largest distances.
    tracker.start_epoch(priority=score)
    return int(np.argmax(score))


def top_k(
    values: Any, n: int, *, descending: bool = True, available: Any | None = None
) -> np.ndarray:
    """Indices of the ``n`` largest (or smallest) values among available ones; NaN is never
    picked; ties go to the lowest index."""
    v = np.asarray(values, dtype=np.float64)
    ok = ~np.isnan(v)
    if available is not None:
        ok &= np.asarray(available, dtype=bool)
    idx = np.nonzero(ok)[0]
    key = -v[idx] if descending else v[idx]
    order = np.argsort(key, kind="stable")
    return idx[order[:n]]


# -- duplicates ---------------------------------------------------------------------------------
def duplicate_pairs(embeddings: Any, threshold: float) -> np.ndarray:
    """All pairs ``(i, j)``, ``i < j``, whose cosine distance is below ``threshold``.

    Exact, blocked over the upper triangle: O(N^2 d) work in matrix products, memory
    O(block^2).
    """
    x = as_unit_rows(embeddings)
    min_cos = np.float32(1.0 - threshold)
    found = []
    for r0 in range(0, len(x), _BLOCK_ROWS):
        rows = x[r0 : r0 + _BLOCK_ROWS]
        for c0 in range(r0, len(x), _BLOCK_ROWS):
            sims = _matmul(rows, np.ascontiguousarray(x[c0 : c0 + _BLOCK_ROWS].T))
            i, j = np.nonzero(sims > min_cos)
            if len(i) == 0:
                continue
            i, j = i + r0, j + c0
            keep = i < j
            found.append(np.stack([i[keep], j[keep]], axis=1))
    if not found:
        return np.zeros((0, 2), dtype=np.int64)
    return np.concatenate(found).astype(np.int64)


def connected_groups(n: int, pairs: np.ndarray) -> list[np.ndarray]:
    """Connected components (size >= 2) of the graph with ``pairs`` as edges.

    Vectorised label propagation: each node takes the smallest label among its neighbours
    until nothing changes (a handful of rounds for duplicate clusters). Groups are sorted by
    size (largest first), members by index.
    """
    if len(pairs) == 0:
        return []
    label = np.arange(n)
    i, j = pairs[:, 0], pairs[:, 1]
    while True:
        low = np.minimum(label[i], label[j])
        new = label.copy()
        np.minimum.at(new, i, low)
        np.minimum.at(new, j, low)
        new = new[new]  # pointer jumping: follow labels to their own labels
        if np.array_equal(new, label):
            break
        label = new
    involved = np.unique(pairs)
    roots = label[involved]
    order = np.lexsort((involved, roots))
    involved, roots = involved[order], roots[order]
    cuts = np.nonzero(np.diff(roots))[0] + 1
    groups = [g for g in np.split(involved, cuts) if len(g) > 1]
    groups.sort(key=lambda g: (-len(g), int(g[0])))
    return groups
