"""The driver: validate, run d x m x t trials on an executor, record, register champions.

For each dataset, preprocessing is fitted once (per fold) and shared by every trial of
every model. Each (dataset, model) cell is a :class:`Study`: trials already in the store
with the same content keys are reused, not retrained; only missing trials run. Workers
train one rung of one trial at a time and hand results back; the driver alone writes.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from loopml.artifacts import ArtifactStore, input_schema, sample_rows
from loopml.data import Dataset, Prepared, load_datasets, prepare
from loopml.errors import AliasConflict, ArtifactError
from loopml.executors import BaseExecutor, Shared, check_executor, get_executor
from loopml.grid._keys import preparation_key, study_key
from loopml.grid._lineage import collect_lineage
from loopml.grid._observer import RunObserver
from loopml.grid._recorder import Recorder
from loopml.grid._results import ChampionChange, RunResult
from loopml.grid._select import best_cell
from loopml.grid._study import Study, TrialDone
from loopml.monitoring import ReferenceProfile, build_profile
from loopml.registry import CHAMPION, UNREAD, Registry
from loopml.spec import Spec, check_spec
from loopml.tracking import (
    ArtifactRecord,
    BaseStore,
    CellRecord,
    CellState,
    RunRecord,
    RunState,
    TrialRecord,
    TrialState,
    get_store,
)
from loopml.tuning import RungOutcome, RungTask, answer_rows, run_shared_rung, task_fields

__all__ = ["Force", "open_store", "recover_abandoned", "run", "validate"]

log = logging.getLogger(__name__)

# A RUNNING run on another host whose heartbeat is older than this is taken as dead.
_STALE_SECONDS = 120.0
# Runs of one pipeline finishing together each lose the champion's compare-and-set at most
# once per competitor before deciding again; this bounds that well above realistic ones.
_REGISTER_ATTEMPTS = 20


@dataclass(frozen=True)
class Force:
    """What to recompute even when the store has it: everything, or some datasets/models."""

    all: bool = False
    datasets: Collection[str] = ()
    models: Collection[str] = ()

    def applies(self, dataset: str, model: str) -> bool:
        return self.all or dataset in self.datasets or model in self.models


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
    executor: str | None = None,
    store: BaseStore | str | None = None,
    observer: RunObserver | None = None,
    actor: str | None = None,
    force: Force | None = None,
    budget_seconds: float | None = None,
    max_trials: int | None = None,
    estimate: Mapping[str, Any] | None = None,
    datasets: Mapping[str, Dataset] | None = None,
    register_as: str = CHAMPION,
) -> RunResult:
    """Run the grid of ``spec``: every dataset x every model x its trials; register champions.

    The best cell of each dataset becomes a new version under the alias ``register_as``:
    the champion, or a challenger that must still prove itself (``loopml update``), with
    its reference profile for the monitor.

    Everything is validated before any worker starts or anything is written. A trial that
    raises (or whose worker dies) is recorded FAILED with its traceback and the others go
    on; check :attr:`RunResult.ok`. ``budget_seconds`` and ``max_trials`` stop scheduling
    new work once spent; what is unfinished is left for a later run (state STOPPED).

    ``executor`` says where trials run (see :func:`~loopml.executors.get_executor`):
    ``"local"``, ``"dask"`` or a Dask scheduler's address; by default the spec's
    ``executor`` section, else local.
    """
    where = check_executor(executor if executor is not None else spec.executor.target)
    observer = observer or RunObserver()
    # A caller that has just validated (the CLI plans first) passes its datasets: large
    # files are then read and fingerprinted once.
    loaded = dict(datasets) if datasets is not None else validate(spec)
    owns_store = not isinstance(store, BaseStore)
    db = open_store(spec, store)
    try:
        recover_abandoned(db, spec.name)
        driver = _Driver(spec, loaded, db, observer, actor, force or Force(), register_as)
        return driver.run(workers, where, budget_seconds, max_trials, estimate)
    finally:
        if owns_store:
            db.close()


def recover_abandoned(store: BaseStore, pipeline: str) -> list[str]:
    """Mark runs of ``pipeline`` whose driver is gone ABANDONED; return their ids."""
    host = socket.gethostname()
    now = datetime.now(UTC)
    gone = []
    for r in store.list_runs(pipeline=pipeline, limit=1000):
        if r.state is not RunState.RUNNING:
            continue
        if r.host == host and r.pid is not None:
            dead = not _alive(r.pid)
        else:
            beat = r.heartbeat_at or r.started_at
            dead = (now - beat).total_seconds() > _STALE_SECONDS
        if dead:
            store.abandon_run(r.run_id)
            log.warning("run %s was left RUNNING by a driver that is gone: abandoned", r.run_id)
            gone.append(r.run_id)
    return gone


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class _Driver:
    def __init__(
        self,
        spec: Spec,
        datasets: dict[str, Dataset],
        store: BaseStore,
        observer: RunObserver,
        actor: str | None,
        force: Force,
        register_as: str = CHAMPION,
    ) -> None:
        self.spec = spec
        self.register_as = register_as
        self.datasets = datasets
        self.store = store
        self.observer = observer
        self.actor = actor
        self.force = force
        self.artifacts = ArtifactStore(spec.artifacts_dir)
        self.root = str(self.artifacts.root)
        self.run_id = uuid.uuid4().hex
        self.prepared: dict[str, Prepared] = {}
        # Each dataset's prepared data as the executor shares it with every trial.
        self.shared: dict[str, Shared] = {}
        self.schemas: dict[str, tuple[dict[str, Any], tuple[dict[str, Any], ...]]] = {}
        self.trials: list[TrialRecord] = []
        self.tickets: dict[int, tuple[Study, int]] = {}
        self.started = 0
        self.stopped_by_budget = False
        # Finished work by content key: a trial asked again (same data, model, params,
        # budget, seed) takes the result instead of training.
        self.by_key: dict[str, TrialRecord] = {}
        # The last rung's answers on the validation rows, by trial, for the profiles.
        self.answers: dict[str, Any] = {}
        self.reused: set[str] = set()

    # -- set-up -----------------------------------------------------------------------
    def _studies(self, workers: int) -> list[Study]:
        history: dict[str, list[TrialRecord]] = {}
        for t in self.store.list_trials(pipeline=self.spec.name):
            history.setdefault(t.study_key, []).append(t)
            if t.state is TrialState.COMPLETE and t.artifact_sha256:
                self.by_key[t.key] = t
        studies = []
        for name, dataset in self.datasets.items():
            prep_key = preparation_key(self.spec, name, dataset.fingerprint)
            for model in self.spec.models:
                key = study_key(self.spec, name, model, prep_key)
                past = [] if self.force.applies(name, model) else history.get(key, [])
                studies.append(
                    Study(
                        self.spec,
                        dataset,
                        model,
                        prep_key=prep_key,
                        history=past,
                        run_id=self.run_id,
                        window=workers,
                    )
                )
        return studies

    def run(
        self,
        workers: int | None,
        where: str,
        budget_seconds: float | None,
        max_trials: int | None,
        estimate: Mapping[str, Any] | None,
    ) -> RunResult:
        executor = get_executor(
            workers,
            preload=["loopml.tuning"],
            executor=where,
            max_retries=self.spec.executor.max_retries,
        )
        studies = self._studies(executor.workers)
        to_run = sum(s.remaining for s in studies)
        cached = sum(min(s.cached, s.target) for s in studies)
        record = RunRecord(
            run_id=self.run_id,
            pipeline=self.spec.name,
            state=RunState.RUNNING,
            started_at=datetime.now(UTC),
            lineage=collect_lineage(self.spec),
            workers=executor.workers,
            host=socket.gethostname(),
            pid=os.getpid(),
            heartbeat_at=datetime.now(UTC),
            estimate=dict(estimate) if estimate else None,
        )
        self.store.create_run(record)
        recorder = Recorder(self.store, self.run_id)
        self.deadline = None if budget_seconds is None else time.monotonic() + budget_seconds
        self.max_trials = max_trials
        try:
            with executor:
                if to_run:
                    # Workers start before the observer may start threads (a progress bar),
                    # so the pool can fork them from this single-threaded process.
                    executor.start()
                self.observer.on_start(self.run_id, to_run, cached)
                self._loop(executor, studies, recorder)
            recorder.flush()
            cells = self._cells(studies)
            self.store.add_cells(cells)
            for cell in cells:
                self.observer.on_cell(cell)
            champions = self._register(cells)
        except BaseException:
            # Interrupted (Ctrl-C) or broken: keep what finished, and mark the run and its
            # unfinished trials ABANDONED so that the next run asks them again.
            try:
                recorder.flush()
            finally:
                self.store.abandon_run(self.run_id)
            raise
        n_failed = sum(c.state is CellState.FAILED for c in cells)
        state = (
            RunState.FAILED
            if n_failed
            else RunState.STOPPED
            if self.stopped_by_budget
            else RunState.COMPLETE
        )
        finished = self._finish(state, cells)
        result = RunResult(
            run=finished,
            cells=tuple(cells),
            champions=MappingProxyType(champions),
            metrics=tuple(self.spec.metrics.all),
            trials=tuple(self.trials),
            cached=cached,
        )
        self.observer.on_end(result)
        return result

    # -- the loop ---------------------------------------------------------------------
    def _budget_left(self) -> bool:
        if self.deadline is not None and time.monotonic() >= self.deadline:
            return False
        return self.max_trials is None or self.started < self.max_trials

    def _loop(self, executor: BaseExecutor, studies: list[Study], recorder: Recorder) -> None:
        while True:
            self._fill(executor, studies, recorder)
            if not executor.pending:
                break
            done = executor.next_completed(timeout=recorder.interval)
            recorder.tick()
            if done is None:
                continue
            study, number = self.tickets.pop(done.ticket)
            outcome = done.value
            if not done.ok or not isinstance(outcome, RungOutcome):
                result: RungTask | TrialDone = study.abandon(number, done.error or "no result")
            else:
                # Past the budget, trials in flight still finish: no new ones start.
                result = study.on_rung(outcome, self.prepared[study.dataset], self.root)
            if isinstance(result, TrialDone):
                self._done(result, recorder)
            else:
                self._submit(executor, result, study)
        if any(s.remaining for s in studies):
            self.stopped_by_budget = True

    def _fill(self, executor: BaseExecutor, studies: list[Study], recorder: Recorder) -> None:
        for study in studies:
            while study.can_ask():
                if not self._budget_left():
                    return
                record = study.ask()
                cached = (
                    None
                    if self.force.applies(study.dataset, study.model)
                    else (self.by_key.get(record.key))
                )
                if cached is not None:
                    self.reused.add(record.trial_id)
                    self._done(study.reuse(record.number, cached), recorder)
                    continue
                task = study.first_task(record.number, self._prepare(study.dataset), self.root)
                self.started += 1
                recorder.started(record)
                self._submit(executor, task, study)

    def _submit(self, executor: BaseExecutor, task: RungTask, study: Study) -> None:
        if task.dataset not in self.shared:
            self.shared[task.dataset] = executor.share(task.prepared)
        ticket = executor.submit(
            run_shared_rung, task_fields(task), shared=self.shared[task.dataset]
        )
        self.tickets[ticket] = (study, task.number)

    def _prepare(self, name: str) -> Prepared:
        if name not in self.prepared:
            started = time.perf_counter()
            prepared = prepare(
                self.datasets[name], self.spec.split_for(name), self.spec.preprocessing
            )
            self.prepared[name] = prepared
            self.schemas[name] = (
                input_schema(prepared.X_raw_final),
                tuple(sample_rows(prepared.X_raw_final)),
            )
            self.observer.on_dataset_ready(name, time.perf_counter() - started)
        return self.prepared[name]

    def _done(self, done: TrialDone, recorder: Recorder) -> None:
        trial = done.record
        artifact = None
        if done.outcome is not None and done.outcome.artifact is not None:
            schema, samples = self.schemas[trial.dataset]
            ref = done.outcome.artifact
            artifact = ArtifactRecord(
                sha256=ref.sha256,
                uri=ref.uri,
                size_bytes=ref.size_bytes,
                input_schema=schema,
                sample_rows=samples,
                created_at=trial.finished_at or datetime.now(UTC),
            )
        recorder.finished(trial, artifact)
        if trial.state is TrialState.COMPLETE and trial.artifact_sha256:
            self.by_key.setdefault(trial.key, trial)
            if done.outcome is not None and done.outcome.answers is not None:
                self.answers[trial.trial_id] = done.outcome.answers
        self.trials.append(trial)
        self.observer.on_trial(trial)

    # -- results ----------------------------------------------------------------------
    def _cells(self, studies: list[Study]) -> list[CellRecord]:
        cells = []
        for study in studies:
            if not study.done:
                continue  # nothing ran yet (budget): not a failure
            best = study.best()
            dataset = self.datasets[study.dataset]
            common: dict[str, Any] = {
                "cell_id": uuid.uuid4().hex,
                "run_id": self.run_id,
                "pipeline": self.spec.name,
                "dataset": study.dataset,
                "model": study.model,
                "estimator": study.estimator,
                "dataset_fingerprint": dataset.fingerprint,
                "finished_at": datetime.now(UTC),
                "n_trials": len(study.done),
            }
            if best is None:
                failures = [t for t in study.done if t.state is TrialState.FAILED]
                reason = (
                    failures[-1].error
                    if failures and failures[-1].error
                    else f"none of {len(study.done)} trials completed (all pruned)"
                )
                cells.append(
                    CellRecord(
                        **common,
                        state=CellState.FAILED,
                        params=dict(study.fixed),
                        error=reason,
                    )
                )
                continue
            cells.append(
                CellRecord(
                    **common,
                    state=CellState.COMPLETE,
                    params=dict(best.params),
                    metrics=dict(best.metrics),
                    fit_seconds=best.fit_seconds,
                    predict_seconds=best.predict_seconds,
                    artifact_sha256=best.artifact_sha256,
                    key=best.key,
                    trial_id=best.trial_id,
                    cached=best.run_id != self.run_id or best.trial_id in self.reused,
                )
            )
        return cells

    def _register(self, cells: list[CellRecord]) -> dict[str, ChampionChange]:
        registry = Registry(self.store, self.artifacts)
        out: dict[str, ChampionChange] = {}
        for name in self.datasets:
            best = best_cell((c for c in cells if c.dataset == name), self.spec.metrics.all)
            if best is not None:
                out[name] = self._register_best(registry, name, best)
        return out

    def _register_best(self, registry: Registry, dataset: str, best: CellRecord) -> ChampionChange:
        registered = self.spec.registered_name(dataset)
        primary = self.spec.metrics.primary
        reason = (
            f"best of run {self.run_id[:8]}: {best.model} "
            f"{primary}={best.metrics.get(primary, float('nan')):.4f}"
        )
        profile: ReferenceProfile | None = None
        attempts = 0
        while True:
            current = registry.champion(registered)
            if current is not None and self._same_work(current.cell_id, best):
                # The champion is this very model: a new version would change nothing.
                return ChampionChange(dataset, registered, current, current.version, False)
            profile = profile or self._profile(dataset, best)
            previous = current.version if current else None
            try:
                version = registry.register(
                    registered,
                    best,
                    alias=self.register_as,
                    # What we decided on: a champion that moved since is a conflict.
                    expected=previous if self.register_as == CHAMPION else UNREAD,
                    profile=profile,
                    actor=self.actor,
                    reason=reason,
                )
            except AliasConflict:
                # Another run registered between our read and our write. Decide again, as
                # if this run had finished after it; the alias moves by compare-and-set.
                attempts += 1
                if attempts == _REGISTER_ATTEMPTS:
                    raise
                continue
            return ChampionChange(dataset, registered, version, previous, True)

    def _profile(self, dataset: str, cell: CellRecord) -> ReferenceProfile:
        """Return what the monitor will compare this cell's served rows and answers with."""
        prepared = self._prepare(dataset)
        record = self.store.get_artifact(cell.artifact_sha256 or "")
        if record is None:
            raise ArtifactError(
                f"the artifact of cell {dataset}/{cell.model} is not in the store, so it "
                "cannot be registered; run again with --force to retrain it"
            )
        predictions = self.answers.get(cell.trial_id or "")
        try:
            if predictions is None:  # trained by an earlier run: ask the saved model
                pipeline = self.artifacts.load(record.uri, sha256=record.sha256)
                predictions = pipeline.predict(
                    prepared.X_raw_valid.iloc[answer_rows(len(prepared.X_raw_valid))]
                )
        except ArtifactError as exc:
            # Types loopml does not trust (a user's own estimator): the inputs are still
            # profiled; only the drift of the answers goes unwatched.
            log.warning("%s/%s: answers not profiled: %s", dataset, cell.model, exc)
        return build_profile(
            prepared.X_raw_final,
            predictions=predictions,
            metrics=cell.metrics,
            seed=prepared.seed,
        )

    def _same_work(self, cell_id: str, cell: CellRecord) -> bool:
        champion_cell = self.store.get_cell(cell_id)
        return champion_cell is not None and champion_cell.key == cell.key

    def _finish(self, state: RunState, cells: list[CellRecord]) -> RunRecord:
        n_failed = sum(c.state is CellState.FAILED for c in cells)
        self.store.finish_run(self.run_id, state=state, n_cells=len(cells), n_failed=n_failed)
        finished = self.store.get_run(self.run_id)
        assert finished is not None
        return finished
