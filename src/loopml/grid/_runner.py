"""The driver: validate, prepare each dataset once, run d x m cells, record, register."""

from __future__ import annotations

import dataclasses
import logging
import time
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from types import MappingProxyType

from loopml.artifacts import ArtifactStore, input_schema, sample_rows
from loopml.data import Dataset, Prepared, load_datasets, prepare
from loopml.executors import BaseExecutor, get_executor
from loopml.grid._cell import CellOutcome, CellTask, run_cell
from loopml.grid._keys import cell_key
from loopml.grid._lineage import collect_lineage
from loopml.grid._observer import RunObserver
from loopml.grid._results import ChampionChange, RunResult
from loopml.grid._select import best_cell
from loopml.registry import Registry
from loopml.spec import Spec, check_spec
from loopml.tracking import (
    ArtifactRecord,
    BaseStore,
    CellRecord,
    CellState,
    RunRecord,
    RunState,
    get_store,
)

__all__ = ["open_store", "run", "validate"]

log = logging.getLogger(__name__)

# Results are written in batches: one transaction per this many cells, or per this many
# seconds, whichever comes first (and always at the end).
_BATCH_CELLS = 64
_BATCH_SECONDS = 2.0


def validate(spec: Spec) -> dict[str, Dataset]:
    """Check the whole spec and load its datasets; raise SpecError/DataError, write nothing."""
    check_spec(spec)
    return load_datasets(spec)


def open_store(spec: Spec, store: BaseStore | str | None = None) -> BaseStore:
    """Return the store a spec uses: the argument, else the spec's URL, else SQLite."""
    return get_store(
        store if store is not None else spec.store,
        default_path=spec.state_dir / "loopml.db",
    )


def run(
    spec: Spec,
    *,
    workers: int | None = None,
    store: BaseStore | str | None = None,
    observer: RunObserver | None = None,
    actor: str | None = None,
) -> RunResult:
    """Run the grid of ``spec``: every dataset x every model, then register champions.

    Everything is validated before any worker starts or anything is written. A cell that
    raises (or whose worker dies) is recorded FAILED with its traceback and the others go
    on; check :attr:`RunResult.ok`.
    """
    observer = observer or RunObserver()
    datasets = validate(spec)
    owns_store = not isinstance(store, BaseStore)
    db = open_store(spec, store)
    try:
        return _Driver(spec, datasets, db, observer, actor).run(workers)
    finally:
        if owns_store:
            db.close()


class _Driver:
    def __init__(
        self,
        spec: Spec,
        datasets: dict[str, Dataset],
        store: BaseStore,
        observer: RunObserver,
        actor: str | None,
    ) -> None:
        self.spec = spec
        self.datasets = datasets
        self.store = store
        self.observer = observer
        self.actor = actor
        self.artifacts = ArtifactStore(spec.artifacts_dir)
        self.run_id = uuid.uuid4().hex
        self.cells: list[CellRecord] = []
        self._pending_cells: list[CellRecord] = []
        self._pending_artifacts: list[ArtifactRecord] = []
        self._last_flush = time.monotonic()
        self._schemas: dict[str, tuple[dict[str, object], tuple[dict[str, object], ...]]] = {}

    def run(self, workers: int | None) -> RunResult:
        total = len(self.datasets) * len(self.spec.models)
        record = RunRecord(
            run_id=self.run_id,
            pipeline=self.spec.name,
            state=RunState.RUNNING,
            started_at=datetime.now(UTC),
            lineage=collect_lineage(self.spec),
            workers=workers or 0,
        )
        executor = get_executor(workers, preload=["loopml.grid._cell"])
        record = dataclasses.replace(record, workers=executor.workers)
        self.store.create_run(record)
        try:
            with executor:
                # Workers start before the observer may start threads (a progress bar),
                # so the pool can fork them from this single-threaded process.
                executor.start()
                self.observer.on_start(self.run_id, total)
                self._run_cells(executor)
            self._flush()
            champions = self._register()
        except BaseException:
            self._flush()
            self._finish(RunState.FAILED)
            raise
        n_failed = sum(c.state is CellState.FAILED for c in self.cells)
        finished = self._finish(RunState.FAILED if n_failed else RunState.COMPLETE)
        result = RunResult(
            run=finished,
            cells=tuple(self.cells),
            champions=MappingProxyType(champions),
            metrics=tuple(self.spec.metrics.all),
        )
        self.observer.on_end(result)
        return result

    def _run_cells(self, executor: BaseExecutor) -> None:
        tickets: dict[int, CellTask] = {}
        for name, dataset in self.datasets.items():
            started = time.perf_counter()
            prepared = prepare(dataset, self.spec.split_for(name), self.spec.preprocessing)
            self._schemas[name] = (
                input_schema(prepared.X_raw_final),
                tuple(sample_rows(prepared.X_raw_final)),
            )
            self.observer.on_dataset_ready(name, time.perf_counter() - started)
            for task in self._tasks(prepared):
                tickets[executor.submit(run_cell, task)] = task
            self._collect(executor, tickets, block=False)
        self._collect(executor, tickets, block=True)

    def _tasks(self, prepared: Prepared) -> Iterable[CellTask]:
        for model_name, model in self.spec.models.items():
            yield CellTask(
                dataset=prepared.dataset,
                model=model_name,
                estimator=model.estimator,
                params=dict(model.params),
                prepared=prepared,
                metrics=tuple(self.spec.metrics.all),
                artifacts_root=str(self.artifacts.root),
            )

    def _collect(
        self, executor: BaseExecutor, tickets: dict[int, CellTask], *, block: bool
    ) -> None:
        # Non-blocking between datasets, so preparing the next dataset overlaps the workers.
        while executor.pending:
            done = executor.next_completed(timeout=None if block else 0)
            if done is None:
                return
            task = tickets.pop(done.ticket)
            outcome = done.value if done.ok else None
            if not isinstance(outcome, CellOutcome):
                outcome = CellOutcome(task.dataset, task.model, ok=False, error=done.error)
            self._record(task, outcome)

    def _record(self, task: CellTask, outcome: CellOutcome) -> None:
        dataset = self.datasets[task.dataset]
        cell = CellRecord(
            cell_id=uuid.uuid4().hex,
            run_id=self.run_id,
            pipeline=self.spec.name,
            dataset=task.dataset,
            model=task.model,
            state=CellState.COMPLETE if outcome.ok else CellState.FAILED,
            estimator=task.estimator,
            params=dict(outcome.params or task.params),
            dataset_fingerprint=dataset.fingerprint,
            metrics=dict(outcome.metrics),
            fit_seconds=outcome.fit_seconds,
            predict_seconds=outcome.predict_seconds,
            artifact_sha256=outcome.artifact.sha256 if outcome.artifact else None,
            error=outcome.error,
            finished_at=datetime.now(UTC),
            key=cell_key(self.spec, task.dataset, dataset.fingerprint, task.estimator, task.params),
        )
        if outcome.artifact is not None:
            schema, samples = self._schemas[task.dataset]
            self._pending_artifacts.append(
                ArtifactRecord(
                    sha256=outcome.artifact.sha256,
                    uri=outcome.artifact.uri,
                    size_bytes=outcome.artifact.size_bytes,
                    input_schema=schema,
                    sample_rows=samples,
                    created_at=cell.finished_at or datetime.now(UTC),
                )
            )
        self.cells.append(cell)
        self._pending_cells.append(cell)
        self.observer.on_cell(cell)
        if (
            len(self._pending_cells) >= _BATCH_CELLS
            or time.monotonic() - self._last_flush >= _BATCH_SECONDS
        ):
            self._flush()

    def _flush(self) -> None:
        if self._pending_artifacts:
            self.store.add_artifacts(self._pending_artifacts)
            self._pending_artifacts = []
        if self._pending_cells:
            self.store.add_cells(self._pending_cells)
            self._pending_cells = []
        self._last_flush = time.monotonic()

    def _register(self) -> dict[str, ChampionChange]:
        registry = Registry(self.store, self.artifacts)
        metrics = self.spec.metrics.all
        out: dict[str, ChampionChange] = {}
        for name in self.datasets:
            best = best_cell((c for c in self.cells if c.dataset == name), metrics)
            if best is None:
                continue
            registered = self.spec.registered_name(name)
            current = registry.champion(registered)
            if current is not None and self._same_work(current.cell_id, best):
                # The champion is this very model: a new version would change nothing.
                out[name] = ChampionChange(name, registered, current, current.version, False)
                continue
            primary = metrics[0]
            version = registry.register(
                registered,
                best,
                actor=self.actor,
                reason=f"best of run {self.run_id[:8]}: {best.model} "
                f"{primary}={best.metrics.get(primary, float('nan')):.4f}",
            )
            out[name] = ChampionChange(
                name, registered, version, current.version if current else None, True
            )
        return out

    def _same_work(self, cell_id: str, cell: CellRecord) -> bool:
        champion_cell = self.store.get_cell(cell_id)
        return champion_cell is not None and champion_cell.key == cell.key

    def _finish(self, state: RunState) -> RunRecord:
        n_failed = sum(c.state is CellState.FAILED for c in self.cells)
        self.store.finish_run(self.run_id, state=state, n_cells=len(self.cells), n_failed=n_failed)
        finished = self.store.get_run(self.run_id)
        assert finished is not None
        return finished
