"""`loopml init`: a spec and a small sample dataset to start from."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from loopml.errors import InputError

__all__ = ["SPEC_TEMPLATE", "churn_frame", "scaffold"]

SPEC_TEMPLATE = """\
# loopml.yaml: d datasets x m models. `loopml validate`, `loopml plan`, `loopml run`.
name: {name}                      # registered models are named <name>.<dataset>

datasets:
  customers:
    path: data/customers.csv      # .csv or .parquet, relative to this file
    target: churned
    drop: [customer_id]           # identifiers are not features
    # task: classification        # inferred from the target when absent
  cancer:
    sklearn: load_breast_cancer   # any bundled scikit-learn `load_*` loader
    target: target
  # another:
  #   python: my_project.data:load_frame   # a function returning a pandas DataFrame
  #   target: y

split:
  holdout: 0.25                   # or `kfold: 5`
  seed: 0
  stratify: true

# preprocessing:                  # the default: impute + scale numeric, one-hot categorical
#   numeric:
#     - sklearn.impute.SimpleImputer: {{strategy: median}}
#     - sklearn.preprocessing.StandardScaler
#   categorical:
#     - sklearn.impute.SimpleImputer: {{strategy: most_frequent}}
#     - sklearn.preprocessing.OneHotEncoder: {{handle_unknown: ignore, sparse_output: false}}

models:
  logreg:
    estimator: sklearn.linear_model.LogisticRegression
    params: {{max_iter: 1000}}
  tree:
    estimator: sklearn.tree.DecisionTreeClassifier
    params: {{max_depth: 5}}
  forest:
    estimator: sklearn.ensemble.RandomForestClassifier
    params: {{n_estimators: 100, n_jobs: 1}}

metrics:
  primary: roc_auc                # any scikit-learn scorer name
  extra: [accuracy, f1]
"""


def churn_frame(
    n: int = 600, *, seed: int = 0, shift: float = 0.0, concept: float = 0.0
) -> pd.DataFrame:
    """Return a synthetic customer-churn table with numeric, categorical and missing values.

    ``shift`` moves the customers (older, newer, more support tickets): covariate drift.
    ``concept`` (0 to 1) changes why they churn, from support trouble to price: at 1 a
    ticket answered well keeps a customer, and the fee decides. The inputs alone do not
    show it; only the labels that come back do.
    """
    rng = np.random.default_rng(seed)
    plan = rng.choice(["basic", "pro", "team"], size=n, p=[0.5, 0.35, 0.15])
    age = rng.normal(40 + shift * 5, 12, n).clip(18, 90).round()
    tenure = rng.gamma(2.0, 12.0 * (1 - 0.3 * shift), n).round(1)
    monthly = (
        np.select([plan == "basic", plan == "pro"], [20.0, 45.0], 90.0) + rng.normal(0, 5, n)
    ).round(2)
    tickets = rng.poisson(1.5 + shift, n)
    logit = -1.0 + 0.6 * tickets - 0.05 * tenure + 0.02 * (monthly - 40) - 0.01 * (age - 40)
    if concept:
        price = -0.8 - 0.5 * (tickets - 1.5) - 0.02 * (tenure - 24) + 0.06 * (monthly - 40)
        logit = (1 - concept) * logit + concept * price
    churned = rng.random(n) < 1 / (1 + np.exp(-logit))
    frame = pd.DataFrame(
        {
            "customer_id": [f"c{seed:02d}{i:05d}" for i in range(n)],
            "age": age,
            "tenure_months": tenure,
            "monthly_fee": monthly,
            "support_tickets": tickets,
            "plan": plan,
            "churned": churned.astype(int),
        }
    )
    # A few missing values, as real exports have.
    frame.loc[rng.random(n) < 0.03, "age"] = np.nan
    frame.loc[rng.random(n) < 0.02, "plan"] = None
    return frame


def scaffold(directory: Path, *, name: str | None = None, force: bool = False) -> list[Path]:
    """Create ``loopml.yaml`` and ``data/customers.csv`` in ``directory``; return the files."""
    directory = directory.resolve()
    spec_path = directory / "loopml.yaml"
    data_path = directory / "data" / "customers.csv"
    existing = [p for p in (spec_path, data_path) if p.exists()]
    if existing and not force:
        raise InputError(
            f"{existing[0]} already exists; `loopml init` does not overwrite files. "
            "Pass --force to replace them, or choose another directory"
        )
    project = name or _project_name(directory)
    data_path.parent.mkdir(parents=True, exist_ok=True)
    churn_frame().to_csv(data_path, index=False)
    spec_path.write_text(SPEC_TEMPLATE.format(name=project), encoding="utf-8")
    return [spec_path, data_path]


def _project_name(directory: Path) -> str:
    cleaned = "".join(c if c.isalnum() or c in "_-" else "-" for c in directory.name).strip("-_")
    return cleaned[:64] or "project"
