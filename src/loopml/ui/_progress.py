"""A live progress bar for a run: cells done, failed, ETA."""

from __future__ import annotations

from rich.console import Console
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
from loopml.tracking import CellRecord, CellState

__all__ = ["ProgressObserver"]


class ProgressObserver(RunObserver):
    """Draws a Rich progress bar on ``console`` while the grid runs."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.failed = 0
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("cells"),
            TextColumn("[red]{task.fields[failed]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self._task: TaskID | None = None

    def on_start(self, run_id: str, total_cells: int) -> None:
        self.console.print(f"run [bold]{run_id[:8]}[/]: {total_cells} cells")
        self._progress.start()
        self._task = self._progress.add_task("training", total=total_cells, failed="")

    def on_dataset_ready(self, dataset: str, seconds: float) -> None:
        self._progress.console.print(f"prepared {dataset} in {seconds:.2f}s", soft_wrap=True)

    def on_cell(self, cell: CellRecord) -> None:
        if cell.state is CellState.FAILED:
            self.failed += 1
            self._progress.console.print(
                f"[red]FAILED[/] {cell.dataset}/{cell.model}", soft_wrap=True
            )
        assert self._task is not None
        self._progress.update(
            self._task,
            advance=1,
            failed=f"{self.failed} failed" if self.failed else "",
            description=f"{cell.dataset}/{cell.model}",
        )

    def on_end(self, result: RunResult) -> None:
        self.stop()

    def stop(self) -> None:
        if self._task is not None:
            self._progress.update(self._task, description="done")
        self._progress.stop()
