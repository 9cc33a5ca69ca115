"""`loopml plan`: the grid before it runs, and which cells are new."""

from __future__ import annotations

from dataclasses import dataclass

from rich import box
from rich.table import Table

from loopml import grid
from loopml.grid import cell_key
from loopml.spec import Spec
from loopml.tracking import CellRecord, CellState

__all__ = ["CellPlan", "Plan", "build_plan", "plan_table"]


@dataclass(frozen=True)
class CellPlan:
    dataset: str
    model: str
    status: str  # new | data changed | model changed | trained before


@dataclass(frozen=True)
class Plan:
    pipeline: str
    datasets: int
    models: int
    cells: tuple[CellPlan, ...]

    @property
    def total(self) -> int:
        return len(self.cells)

    @property
    def new(self) -> int:
        return sum(c.status != "trained before" for c in self.cells)

    @property
    def headline(self) -> str:
        return (
            f"work = {self.datasets} datasets x {self.models} models = {self.total} cells; "
            f"{self.total - self.new} trained before with the same data and model; "
            f"{self.new} new or changed"
        )


def build_plan(spec: Spec) -> Plan:
    """Return the plan; reads the store only if it already exists (never creates it)."""
    datasets = grid.validate(spec)
    history: list[CellRecord] = []
    default_db = spec.state_dir / "loopml.db"
    if spec.store is not None or default_db.exists():
        with grid.open_store(spec) as store:
            history = [
                c for c in store.list_cells(pipeline=spec.name) if c.state is CellState.COMPLETE
            ]
    done_keys = {c.key for c in history}
    cells = []
    for d_name, dataset in datasets.items():
        for m_name, model in spec.models.items():
            past = [c for c in history if c.dataset == d_name and c.model == m_name]
            key = cell_key(spec, d_name, dataset.fingerprint, model.estimator, model.params)
            if key in done_keys:
                status = "trained before"
            elif not past:
                status = "new"
            elif not any(c.dataset_fingerprint == dataset.fingerprint for c in past):
                status = "data changed"
            else:
                status = "model changed"
            cells.append(CellPlan(d_name, m_name, status))
    return Plan(spec.name, len(datasets), len(spec.models), tuple(cells))


def plan_table(plan: Plan) -> Table:
    models = list(dict.fromkeys(c.model for c in plan.cells))
    table = Table(box=box.SIMPLE_HEAD, title=f"plan for {plan.pipeline}", title_justify="left")
    table.add_column("dataset")
    for m in models:
        table.add_column(m)
    colors = {"new": "green", "data changed": "yellow", "model changed": "yellow"}
    for dataset in dict.fromkeys(c.dataset for c in plan.cells):
        row = {c.model: c.status for c in plan.cells if c.dataset == dataset}
        table.add_row(
            dataset,
            *[f"[{colors.get(row[m], 'dim')}]{row[m]}" for m in models],
        )
    return table
