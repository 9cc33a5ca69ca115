"""The read-only web UI (`loopml ui`) and the shareable report (`loopml report`)."""

from __future__ import annotations

from loopml.ui.web._app import create_ui_app
from loopml.ui.web._report import render_pipeline_report, write_pipeline_report

__all__ = ["create_ui_app", "render_pipeline_report", "write_pipeline_report"]
