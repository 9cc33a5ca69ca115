"""A Python data source, as a user would write one."""

from __future__ import annotations

import pandas as pd

from loopml.cli import churn_frame


def churn(n: int = 100) -> pd.DataFrame:
    return churn_frame(n, seed=5)
