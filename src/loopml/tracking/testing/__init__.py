"""The tracking store conformance suite: every store must pass it. Requires pytest.

Subclass :class:`StoreContract` in a test module and provide a ``store`` fixture that
yields a fresh, empty store and closes it afterwards::

    class TestMyStore(StoreContract):
        @pytest.fixture
        def store(self) -> Iterator[BaseStore]:
            with MyStore(...) as store:
                yield store

The tests follow the contract in :mod:`loopml.tracking._base`, one module per part of it:
runs, liveness, cells and artifacts; trials and abandoned runs; the registry; served
predictions and their feedback; model events and reference profiles. The builders
(``make_run``, ...) give records to store in tests of code that uses a store;
``register_champion`` and ``check_champion_chain`` test registrations from many processes.
"""

from __future__ import annotations

from loopml.tracking.testing._builders import (
    T0,
    make_artifact,
    make_cell,
    make_feedback,
    make_model_event,
    make_prediction,
    make_run,
    make_trial,
    running,
)
from loopml.tracking.testing._monitoring import MonitoringContract
from loopml.tracking.testing._predictions import PredictionContract
from loopml.tracking.testing._registry import (
    RegistryContract,
    check_champion_chain,
    register_champion,
)
from loopml.tracking.testing._runs import RunContract
from loopml.tracking.testing._trials import TrialContract

__all__ = [
    "T0",
    "StoreContract",
    "check_champion_chain",
    "make_artifact",
    "make_cell",
    "make_feedback",
    "make_model_event",
    "make_prediction",
    "make_run",
    "make_trial",
    "register_champion",
    "running",
]


class StoreContract(
    RunContract, TrialContract, RegistryContract, PredictionContract, MonitoringContract
):
    """Tests every :class:`~loopml.tracking.BaseStore` must pass; needs a ``store`` fixture."""
