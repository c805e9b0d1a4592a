"""Every tree of a boosted ensemble evaluated for every row at once, without walking the trees (the
QuickScorer idea: Lucchese et al., SIGIR 2015). A split that a row's value fails (it goes right) rules
out the leaves of its left subtree; a tree's exit leaf is then its leftmost leaf not ruled out. The
splits on one feature that a value fails are those with a threshold below it, a prefix of that
feature's sorted thresholds, so for each feature and each count of thresholds below the value the
leaves ruled out are combined once, at load. Scoring a row is then one binary search per feature and
an AND of one table row per feature: the same leaves as walking the trees, so the same sums, bit for
bit (tested against the walk)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["LeafTables", "compile_trees", "leaf_values"]

MAX_LEAVES = 64  # leaves of one tree held as the bits of one unsigned integer


@dataclass(frozen=True)
class LeafTables:
    thresholds: tuple[np.ndarray, ...]  # per feature: its splits' distinct thresholds, ascending
    alive: tuple[np.ndarray, ...]  # per feature: (len(thresholds) + 1, trees) leaves not ruled out
    leaf_value: np.ndarray  # (trees, max leaves): each tree's leaves' outputs, left to right
    first_bit: np.ndarray  # `alive` (16 bits: itself; wider: its lowest set bit mod 67) -> that bit's position


def compile_trees(feature: np.ndarray, threshold: np.ndarray, left: np.ndarray, right: np.ndarray,
                  value: np.ndarray, roots: np.ndarray, features: int) -> LeafTables | None:
    """The tables for trees given as node arrays (leaves point to themselves); None when a tree has more
    than MAX_LEAVES leaves (the caller walks the trees instead)."""
    trees = len(roots)
    split_tree: list[int] = []  # per split node: its tree, and the leaves of its left subtree
    split_node: list[int] = []
    split_leaves: list[int] = []
    leaf_values: list[list[float]] = []
    lefts, rights, values = left.tolist(), right.tolist(), value.tolist()  # plain lists: walked node by node
    for t, root in enumerate(roots.tolist()):
        leaves: list[float] = []

        def walk(node: int, t: int = t, leaves: list[float] = leaves) -> tuple[int, int]:
            """The leaves under `node` as a (first, count) range of the tree's leaves, left to right."""
            if lefts[node] == node:
                leaves.append(values[node])
                return len(leaves) - 1, 1
            first, n_left = walk(lefts[node])
            _, n_right = walk(rights[node])
            split_tree.append(t)
            split_node.append(node)
            split_leaves.append(((1 << n_left) - 1) << first)
            return first, n_left + n_right

        walk(root)
        if len(leaves) > MAX_LEAVES:
            return None
        leaf_values.append(leaves)
    width = max(len(v) for v in leaf_values) if leaf_values else 1
    dtype = np.uint16 if width <= 16 else np.uint32 if width <= 32 else np.uint64
    full = np.iinfo(dtype).max
    table = np.zeros((trees, width), dtype=np.float64)
    for t, leaves in enumerate(leaf_values):
        table[t, :len(leaves)] = leaves
    nodes = np.array(split_node, dtype=np.int64)
    tree_of = np.array(split_tree, dtype=np.int64)
    kept = np.array([full ^ leaves for leaves in split_leaves], dtype=dtype)  # leaves left when going right
    thresholds: list[np.ndarray] = []
    alive: list[np.ndarray] = []
    for f in range(features):
        on = feature[nodes] == f
        cuts = np.unique(threshold[nodes[on]].astype(np.float64))
        rows = np.full((len(cuts) + 1, trees), full, dtype=dtype)
        # a value above a threshold (more thresholds below it than the threshold's position) goes right
        # there, and at every larger value: the masks accumulate down the rows
        np.bitwise_and.at(rows, (np.searchsorted(cuts, threshold[nodes[on]]) + 1, tree_of[on]), kept[on])
        thresholds.append(cuts)
        alive.append(np.bitwise_and.accumulate(rows, axis=0))
    if dtype == np.uint16:
        every = np.arange(1 << 16, dtype=np.int64)
        first_bit = np.zeros(1 << 16, dtype=np.int64)
        for i in reversed(range(16)):  # the lowest bit set wins
            first_bit[(every >> i) & 1 == 1] = i
    else:  # 2**i mod 67 differs for every i < 64, so a table of 67 finds the position of a lone bit
        first_bit = np.zeros(67, dtype=np.int64)
        for i in range(64):
            first_bit[(1 << i) % 67] = i
    return LeafTables(tuple(thresholds), tuple(alive), table, first_bit)


def leaf_values(tables: LeafTables, rows: np.ndarray) -> np.ndarray:
    """(n, trees): each row's exit leaf's output in each tree. `rows` (n, features) float64."""
    n = len(rows)
    alive = None
    for f, cuts in enumerate(tables.thresholds):
        if not len(cuts):
            continue
        # thresholds below the value: x <= cut exactly when fewer than its position are below x
        below = np.searchsorted(cuts, rows[:, f], side="left")
        got = tables.alive[f][below]
        alive = got if alive is None else alive & got
    trees = len(tables.leaf_value)
    if alive is None:  # no splits at all: every tree is its root leaf
        return np.broadcast_to(tables.leaf_value[:, 0], (n, trees)).copy()
    if alive.dtype == np.uint16:
        leaf = tables.first_bit[alive]
    else:
        wide = alive.astype(np.uint64)
        leaf = tables.first_bit[((wide & (~wide + np.uint64(1))) % np.uint64(67)).astype(np.int64)]
    return np.asarray(tables.leaf_value[np.arange(trees), leaf])
