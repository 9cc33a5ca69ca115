"""The driver's writes to the store: batched, in an order that keeps every row valid.

Workers never write. The driver buffers artifacts, new trials and finished trials and
writes them in one transaction per kind every ``interval`` seconds (or ``batch`` rows):
artifacts first (trials refer to them), then new trials, then finished ones. A trial that
starts and finishes between two flushes is written once, already finished. A RUNNING row
reaches the store within one interval, so a driver killed with ``kill -9`` leaves RUNNING
trials that the next run marks ABANDONED and asks again.
"""

from __future__ import annotations

import time

from loopml.tracking import ArtifactRecord, BaseStore, TrialRecord

__all__ = ["Recorder"]


class Recorder:
    """Buffers the driver's writes and flushes them in batches."""

    def __init__(
        self,
        store: BaseStore,
        run_id: str,
        *,
        interval: float = 1.0,
        batch: int = 256,
        heartbeat: float = 10.0,
    ) -> None:
        self.store = store
        self.run_id = run_id
        self.interval = interval
        self.batch = batch
        self.heartbeat_every = heartbeat
        self._artifacts: dict[str, ArtifactRecord] = {}
        self._new: dict[str, TrialRecord] = {}
        self._finished: dict[str, TrialRecord] = {}
        self._written: set[str] = set()  # trials in the store as RUNNING
        self._last_flush = time.monotonic()
        self._last_heartbeat = time.monotonic()

    def started(self, trial: TrialRecord) -> None:
        self._new[trial.trial_id] = trial
        self._maybe_flush()

    def finished(self, trial: TrialRecord, artifact: ArtifactRecord | None = None) -> None:
        if artifact is not None:
            self._artifacts.setdefault(artifact.sha256, artifact)
        if trial.trial_id in self._written:
            self._finished[trial.trial_id] = trial
        else:
            self._new[trial.trial_id] = trial  # never written as RUNNING: write it final
        self._maybe_flush()

    @property
    def pending(self) -> int:
        return len(self._artifacts) + len(self._new) + len(self._finished)

    def tick(self) -> None:
        """Flush if the interval has passed; beat the run's heartbeat now and then."""
        self._maybe_flush()
        if time.monotonic() - self._last_heartbeat >= self.heartbeat_every:
            self.store.heartbeat(self.run_id)
            self._last_heartbeat = time.monotonic()

    def flush(self) -> None:
        if self._artifacts:
            self.store.add_artifacts(list(self._artifacts.values()))
            self._artifacts = {}
        if self._new:
            self.store.add_trials(list(self._new.values()))
            self._written.update(
                t.trial_id for t in self._new.values() if not t.state.is_finished()
            )
            self._new = {}
        if self._finished:
            self.store.finish_trials(list(self._finished.values()))
            self._written.difference_update(self._finished)
            self._finished = {}
        self._last_flush = time.monotonic()

    def _maybe_flush(self) -> None:
        if self.pending >= self.batch or time.monotonic() - self._last_flush >= self.interval:
            self.flush()
