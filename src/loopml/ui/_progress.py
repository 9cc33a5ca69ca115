"""A live progress bar for a run: trials done, pruned, failed, cached, ETA."""

from __future__ import annotations

from collections import Counter

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from loopml.grid import RunObserver, RunResult
from loopml.tracking import CellRecord, CellState, TrialRecord, TrialState

__all__ = ["ProgressObserver"]


class ProgressObserver(RunObserver):
    """Draws a Rich progress bar on ``console`` while the grid runs."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.states: Counter[TrialState] = Counter()
        self.cached = 0
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("trials {task.fields[summary]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self._task: TaskID | None = None

    def on_start(self, run_id: str, total: int, cached: int = 0) -> None:
        self.cached = cached
        self.console.print(
            f"run [bold]{run_id[:8]}[/]: {total} trials to run, {cached} cached", soft_wrap=True
        )
        self._progress.start()
        self._task = self._progress.add_task("training", total=total, summary=self._summary())

    def on_dataset_ready(self, dataset: str, seconds: float) -> None:
        self._progress.console.print(f"prepared {dataset} in {seconds:.2f}s", soft_wrap=True)

    def on_trial(self, trial: TrialRecord) -> None:
        self.states[trial.state] += 1
        if trial.state is TrialState.FAILED:
            last = (trial.error or "").strip().splitlines()[-1:] or [""]
            self._progress.console.print(
                f"[red]FAILED[/] {trial.dataset}/{trial.model} trial {trial.number}: "
                + escape(last[0]),
                soft_wrap=True,
            )
        assert self._task is not None
        self._progress.update(
            self._task,
            advance=1,
            summary=self._summary(),
            description=f"{trial.dataset}/{trial.model}",
        )

    def on_cell(self, cell: CellRecord) -> None:
        if cell.state is CellState.FAILED:
            self._progress.console.print(
                f"[red]cell FAILED[/] {cell.dataset}/{cell.model}", soft_wrap=True
            )

    def _summary(self) -> str:
        parts = [f"{self.cached} cached"] if self.cached else []
        for state, color in (
            (TrialState.PRUNED, "yellow"),
            (TrialState.FAILED, "red"),
            (TrialState.ABANDONED, "yellow"),
        ):
            if self.states[state]:
                parts.append(f"[{color}]{self.states[state]} {state.value.lower()}[/]")
        return ", ".join(parts)

    def on_end(self, result: RunResult) -> None:
        self.stop()

    def stop(self) -> None:
        if self._task is not None:
            self._progress.update(self._task, description="done")
        self._progress.stop()
