"""torch.randn(shape, generator=torch.manual_seed(seed)) on CPU, reproduced with numpy.

torch's CPU generator is a 32-bit MT19937 seeded with the low 32 bits of the seed
(init_genrand, as numpy's legacy seeding). Float tensors of 16 or more elements are
filled by ATen's normal_fill (uniform floats of 24 bits, Box-Muller over blocks of 16, the
last partial block redrawn); smaller ones draw doubles one at a time, caching the sine.
"""

from __future__ import annotations

import math

import numpy as np


def _engine(seed: int) -> np.random.MT19937:
    engine = np.random.MT19937(0)
    engine._legacy_seeding(seed & 0xFFFFFFFF)
    return engine


def _uniform24(engine: np.random.MT19937, count: int) -> np.ndarray:
    raw = engine.random_raw(count)
    return ((raw & ((1 << 24) - 1)) * (1.0 / (1 << 24))).astype(np.float32)


def _box_muller16(block: np.ndarray) -> np.ndarray:
    radius = np.sqrt(np.float32(-2) * np.log(np.float32(1) - block[:8]))
    theta = (2.0 * math.pi * block[8:].astype(np.float64)).astype(np.float32)
    return np.concatenate([radius * np.cos(theta), radius * np.sin(theta)])


def _serial(engine: np.random.MT19937, count: int) -> np.ndarray:
    def uniform53() -> float:
        hi, lo = (int(v) for v in engine.random_raw(2))
        return (((hi << 32) | lo) & ((1 << 53) - 1)) * (1.0 / (1 << 53))

    out: list[float] = []
    while len(out) < count:
        u1, u2 = uniform53(), uniform53()
        radius = math.sqrt(-2.0 * math.log1p(-u2))
        out.append(radius * math.cos(2.0 * math.pi * u1))
        out.append(radius * math.sin(2.0 * math.pi * u1))
    return np.array(out[:count], np.float32)


def randn(seed: int, shape: tuple[int, ...]) -> np.ndarray:
    """Standard normal float32 samples, as torch gives them for this seed and shape."""
    count = math.prod(shape)
    engine = _engine(seed)
    if count < 16:
        return _serial(engine, count).reshape(shape)
    data = _uniform24(engine, count)
    whole = count - count % 16
    blocks = data[:whole].reshape((-1, 16))  # every block at once: the same float32 operations
    radius = np.sqrt(np.float32(-2) * np.log(np.float32(1) - blocks[:, :8]))
    theta = (2.0 * math.pi * blocks[:, 8:].astype(np.float64)).astype(np.float32)
    data[:whole] = np.concatenate([radius * np.cos(theta), radius * np.sin(theta)], axis=1).ravel()
    if count % 16:
        data[count - 16 :] = _box_muller16(_uniform24(engine, 16))
    return data.reshape(shape)
