"""numba kernels of `latentspace.projection.fastmap`, compiled once per machine.

``cache=True`` stores the compiled code next to this file (or in numba's user cache
folder when that is read-only, or in ``NUMBA_CACHE_DIR``), so only the first process on a
machine pays for compilation. Every kernel runs its outer loop with ``prange`` and gives
the same result at any thread count.
"""

import math

import numba
import numpy as np

_OPTIONS = {"parallel": True, "fastmath": True, "cache": True, "nogil": True}


@numba.njit(**_OPTIONS)
def smooth_knn(distances, target, n_iter, mean_distance):
    """Return (sigma, rho) per row so that sum_j exp(-(d_ij - rho_i) / sigma_i) = target.

    Each row runs a binary search, as umap-learn's ``smooth_knn_dist`` does. The mean of
    all `distances`, `mean_distance`, sets the smallest sigma of rows whose distances are 0.
    """
    n_points, k = distances.shape
    sigmas = np.empty(n_points, dtype=np.float32)
    rhos = np.zeros(n_points, dtype=np.float32)
    for i in numba.prange(n_points):
        rho = 0.0
        for j in range(k):
            if distances[i, j] > 0.0:
                rho = distances[i, j]
                break
        low = 0.0
        high = np.inf
        mid = 1.0
        for _ in range(n_iter):
            psum = 0.0
            for j in range(k):
                gap = distances[i, j] - rho
                if gap > 0.0:
                    psum += math.exp(-(gap / mid))
                else:
                    psum += 1.0
            if abs(psum - target) < 1e-5:
                break
            if psum > target:
                high = mid
                mid = (low + high) / 2.0
            else:
                low = mid
                if high == np.inf:
                    mid *= 2.0
                else:
                    mid = (low + high) / 2.0
        # Same lower bounds as umap-learn's smooth_knn_dist (MIN_K_DIST_SCALE = 1e-3).
        row_mean = 0.0
        for j in range(k):
            row_mean += distances[i, j]
        row_mean /= k
        floor = 1e-3 * (row_mean if rho > 0.0 else mean_distance)
        sigmas[i] = max(mid, floor)
        rhos[i] = rho
    return sigmas, rhos


@numba.njit(**_OPTIONS)
def layout_epoch(
    positions,
    new_positions,
    tail_positions,
    negative_positions,
    negative_ids,
    indptr,
    indices,
    sample_rate,
    epoch,
    a,
    b,
    alpha,
    negative_sample_rate,
    seed,
    skip_self,
):
    """Run one epoch of UMAP's negative-sampling SGD, one point per parallel task.

    Point i starts from ``positions[i]``, moves towards the ends of its edges that are
    sampled in this epoch and away from ``negative_sample_rate`` random rows of
    `negative_positions` per sampled edge, and writes the result to ``new_positions[i]``.
    Edge ends are read from `tail_positions` (the same array as `positions` when fitting,
    the fixed training map in `transform`). `negative_positions` are rows
    `negative_ids` of `tail_positions`, a small random subset that stays in cache. No
    task reads another task's output, so the result does not depend on the thread count.
    The attraction and the negative samples of one edge are all evaluated at the same
    position, which lets the CPU overlap them.
    """
    n_points, dim = positions.shape
    n_negatives = negative_positions.shape[0]
    has_z = dim == 3
    zero = np.float32(0.0)
    limit = np.float32(4.0)
    two_b = np.float32(2.0) * b
    epsilon = np.float32(0.001)
    for i in numba.prange(n_points):
        x = positions[i, 0]
        y = positions[i, 1]
        w = positions[i, 2] if has_z else zero
        # xorshift64 random numbers, seeded by a multiplicative hash of (seed, epoch, point).
        state = (np.uint64(seed) + np.uint64(epoch) * np.uint64(n_points) + np.uint64(i)) * (
            np.uint64(0x9E3779B97F4A7C15)
        )
        state ^= state >> np.uint64(31)
        state |= np.uint64(1)
        for e in range(indptr[i], indptr[i + 1]):
            rate = sample_rate[e]
            if math.floor((epoch + 1) * rate) <= math.floor(epoch * rate):
                continue
            j = indices[e]
            dx = x - tail_positions[j, 0]
            dy = y - tail_positions[j, 1]
            dw = w - tail_positions[j, 2] if has_z else zero
            dist2 = dx * dx + dy * dy + dw * dw
            gx = zero
            gy = zero
            gw = zero
            if dist2 > zero:
                scaled = a * math.exp(b * math.log(dist2))
                coeff = -two_b * scaled / (dist2 * (scaled + np.float32(1.0)))
                gx = min(limit, max(-limit, coeff * dx))
                gy = min(limit, max(-limit, coeff * dy))
                gw = min(limit, max(-limit, coeff * dw))
            for _ in range(negative_sample_rate):
                state ^= state << np.uint64(13)
                state ^= state >> np.uint64(7)
                state ^= state << np.uint64(17)
                # Scales the high 32 bits to [0, n_negatives) without a slow modulo.
                other = np.int64(
                    ((state >> np.uint64(32)) * np.uint64(n_negatives)) >> np.uint64(32)
                )
                if skip_self and negative_ids[other] == i:
                    continue
                dx = x - negative_positions[other, 0]
                dy = y - negative_positions[other, 1]
                dw = w - negative_positions[other, 2] if has_z else zero
                dist2 = dx * dx + dy * dy + dw * dw
                if dist2 > zero:
                    scaled = a * math.exp(b * math.log(dist2))
                    coeff = two_b / ((epsilon + dist2) * (scaled + np.float32(1.0)))
                    gx += min(limit, max(-limit, coeff * dx))
                    gy += min(limit, max(-limit, coeff * dy))
                    gw += min(limit, max(-limit, coeff * dw))
            x += gx * alpha
            y += gy * alpha
            w += gw * alpha
        new_positions[i, 0] = x
        new_positions[i, 1] = y
        if has_z:
            new_positions[i, 2] = w


@numba.njit(**_OPTIONS)
def refine_knn(z, indices, squared, pool):
    """Run one neighbour-of-neighbour pass that improves an approximate kNN graph in place.

    Row i of `pool` lists the current neighbours of i and points that list i as a
    neighbour, padded with -1. Each point checks the pools of the points in its own pool
    and keeps the `k` nearest it finds. `squared` contains squared distances, ascending per
    row. Points only write their own row and read the fixed pools, so the result does not
    depend on the thread count.
    """
    n_points, k = indices.shape
    width = pool.shape[1]
    dim = z.shape[1]
    for i in numba.prange(n_points):
        for a in range(width):
            j = pool[i, a]
            if j < 0:
                continue
            for b in range(width):
                candidate = pool[j, b]
                if candidate < 0 or candidate == i:
                    continue
                dist = np.float32(0.0)
                for d in range(dim):
                    diff = z[i, d] - z[candidate, d]
                    dist += diff * diff
                if dist >= squared[i, k - 1]:
                    continue
                known = False
                for c in range(k):
                    if indices[i, c] == candidate:
                        known = True
                        break
                if known:
                    continue
                position = k - 1
                while position > 0 and squared[i, position - 1] > dist:
                    squared[i, position] = squared[i, position - 1]
                    indices[i, position] = indices[i, position - 1]
                    position -= 1
                squared[i, position] = dist
                indices[i, position] = candidate


@numba.njit(cache=True, nogil=True)
def neighbour_pool(indices):
    """Return (N, 2k) rows: each point's k neighbours, then up to k points that list it.

    Reverse entries are filled in order of the listing point and padded with -1. The loop
    is sequential, so the result is deterministic.
    """
    n_points, k = indices.shape
    pool = np.full((n_points, 2 * k), -1, dtype=indices.dtype)
    counts = np.zeros(n_points, dtype=np.int64)
    for i in range(n_points):
        for a in range(k):
            pool[i, a] = indices[i, a]
            j = indices[i, a]
            if j >= 0 and counts[j] < k:
                pool[j, k + counts[j]] = i
                counts[j] += 1
    return pool
