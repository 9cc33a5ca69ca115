"""Read ``loopml.yaml`` into a :class:`Spec`, with errors that name the key and line."""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from loopml.errors import Problem, SpecError
from loopml.spec._schema import Spec

__all__ = ["dotted_key", "load_spec", "parse_spec", "spec_hash"]

KeyLines = Mapping[tuple[str | int, ...], int]
# libyaml's parser when PyYAML was built with it (much faster), else the pure-Python one.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_spec(path: str | Path) -> Spec:
    """Return the validated spec in ``path`` (a file, or a directory holding loopml.yaml).

    Raises SpecError naming the file, key path and line of every broken rule.
    """
    file = Path(path)
    if file.is_dir():
        file = file / "loopml.yaml"
    shown = str(path if Path(path).is_file() else file)
    if not file.is_file():
        raise SpecError(
            [Problem("", f"no spec file at {file}", hint="Run `loopml init` to create one")],
            file=shown,
        )
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError([Problem("", f"cannot read the spec: {exc}")], file=shown) from exc
    spec = parse_spec(text, file=shown).bind(root=file.parent, file=file)
    # Like running a script from the project directory: its own modules (custom
    # estimators, data loaders) import by name, here and in worker processes.
    if str(spec.root) not in sys.path:
        sys.path.insert(0, str(spec.root))
    return spec


def parse_spec(text: str, *, file: str | None = None) -> Spec:
    """Return the spec in YAML ``text``; ``file`` is only used in messages."""
    data, lines = _parse_yaml(text, file)
    if not isinstance(data, dict):
        raise SpecError(
            [Problem("", f"the spec must be a mapping of keys, but got {type(data).__name__}")],
            file=file,
        )
    try:
        spec = Spec.model_validate(data)
    except ValidationError as exc:
        raise SpecError(_problems(exc, lines), file=file) from exc
    return spec.bind(root=Path.cwd(), lines=lines)


def spec_hash(spec: Spec) -> str:
    """Return a sha256 of the spec's content, independent of key order and formatting."""
    canonical = json.dumps(spec.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _parse_yaml(text: str, file: str | None) -> tuple[Any, dict[tuple[str | int, ...], int]]:
    try:
        # One pass: the node tree gives key lines, and the same tree builds the data.
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise SpecError(
            [Problem("", f"malformed YAML: {problem}", line=line, hint="Fix the YAML syntax")],
            file=file,
        ) from exc
    lines: dict[tuple[str | int, ...], int] = {}
    problems: list[Problem] = []
    if node is not None:
        _walk(node, (), lines, problems)
    if problems:
        raise SpecError(problems, file=file)
    return data, lines


def _walk(
    node: yaml.Node,
    path: tuple[str | int, ...],
    lines: dict[tuple[str | int, ...], int],
    problems: list[Problem],
) -> None:
    # Record the line of every key, and refuse duplicate keys: PyYAML would keep the last
    # one silently, and a silently ignored model or param is a wrong experiment.
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            line = key_node.start_mark.line + 1
            sub = (*path, key)
            if key in seen:
                problems.append(
                    Problem(
                        dotted_key(sub),
                        f"duplicate key {key!r}, first given on line {seen[key]}",
                        line=line,
                        hint="Keep one of them",
                    )
                )
            seen[key] = line
            lines[sub] = line
            _walk(value_node, sub, lines, problems)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            sub = (*path, i)
            lines[sub] = item.start_mark.line + 1
            _walk(item, sub, lines, problems)


def dotted_key(key: tuple[str | int, ...]) -> str:
    """Return a key path as a user reads it: `models.rf.params.max_depth`, `steps[0]`."""
    out = ""
    for part in key:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def _problems(exc: ValidationError, lines: KeyLines) -> list[Problem]:
    problems = []
    for err in exc.errors(include_url=False):
        loc = tuple(p for p in err["loc"] if isinstance(p, str | int))
        # pydantic adds the tag of union members and validator names to loc; drop them
        loc = tuple(p for p in loc if not (isinstance(p, str) and p.startswith("function-")))
        line = None
        probe = loc
        while probe:
            if probe in lines:
                line = lines[probe]
                break
            probe = probe[:-1]
        problems.append(Problem(dotted_key(loc), _message(err), line=line, hint=_hint(err)))
    return problems


def _message(err: Any) -> str:
    kind = err["type"]
    value = err.get("input")
    if kind == "extra_forbidden":
        return f"unknown key {str(err['loc'][-1])!r}"
    if kind == "missing":
        return "this key is required but is missing"
    if kind == "string_pattern_mismatch":
        return (
            "a name must start with a letter or digit and hold only letters, digits, "
            f"'_' and '-' (at most 64), but got {value!r}"
        )
    msg = str(err["msg"])
    msg = msg.removeprefix("Value error, ")
    if "but got" in msg:
        return msg
    return f"{msg[0].lower()}{msg[1:]}, but got {value!r}"


def _hint(err: Any) -> str | None:
    if err["type"] == "extra_forbidden":
        return "Remove it or check its spelling (see `loopml init` for a full example)"
    if err["type"] == "missing":
        return "Add it"
    return None
