"""Several users at once: sessions sampling from every model in parallel threads get no errors and the
same images for the same seed as a single session does. (Latency under load: benchmarks/concurrency.py.)"""

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from inference import load_model, scan

GENERATIVE = [n for n, e in scan().items() if e.available and e.capabilities.generative]


def draw(model, seed: int) -> np.ndarray:
    return model.sample(4, seed)  # a conditional model draws classes 0, 1, 2, 3


def test_eight_sessions_sampling_every_model_at_once():
    models = {name: load_model(name) for name in GENERATIVE}  # shared, as st.cache_resource shares them
    alone = {(name, seed): draw(m, seed) for name, m in models.items() for seed in (0, 1)}
    jobs = [(name, seed) for _ in range(8) for name in models for seed in (0, 1)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        together = list(pool.map(lambda job: draw(models[job[0]], job[1]), jobs))
    for (name, seed), images in zip(jobs, together, strict=True):
        np.testing.assert_array_equal(images, alone[(name, seed)], err_msg=f"{name} seed {seed}")
