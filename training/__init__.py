"""StyleFilter training pipeline: temporally stable feed-forward style networks, exported as engine packs.

See docs/training.md. Modules: data (photos, crops), flow (synthetic motion), net (ReCoNet-style network),
lossnet (fixed random loss networks / VGG-16), losses, train, export, evaluate, probe.
"""
import os as _os

# On a shared, busy CPU, OpenMP threads that spin while waiting slow PyTorch down several times over
# (measured here: 6.8 s vs 2.3 s per iteration with 2 threads). Must be set before torch is first imported.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
