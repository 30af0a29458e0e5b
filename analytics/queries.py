"""Named analytics queries: `sql/queries/NAME.sql` with typed ClickHouse parameters.

A query file starts with comment lines: the first ones describe it, and lines of the form
`-- default: NAME = VALUE` give a parameter a default (an empty VALUE is the empty string).
Parameters are ClickHouse's own `{name:Type}` placeholders, bound by the server, so values
are never pasted into the SQL text. Values may be given as text (the CLI's `k=v`); array
parameters take comma-separated text or a list.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from infra.warehouse import Warehouse
from schemas.errors import FlowtapeError

_PARAM = re.compile(r"\{(\w+):([^{}]+)\}")
_DEFAULT = re.compile(r"^--\s*default:\s*(\w+)\s*=\s*(.*?)\s*$")
_NAME = re.compile(r"^[a-z0-9_]+$")


class QueryError(FlowtapeError):
    code = "query"


@dataclass(frozen=True, slots=True)
class NamedQuery:
    """One query file: its SQL, what it is for, its parameters' types and defaults."""

    name: str
    description: str
    sql: str
    params: dict[str, str]
    defaults: dict[str, str]

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "params": [
                {"name": n, "type": t, "default": self.defaults.get(n)}
                for n, t in self.params.items()
            ],
        }


def parse_query(name: str, text: str) -> NamedQuery:
    description: list[str] = []
    defaults: dict[str, str] = {}
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped.startswith("--"):
            if stripped:
                break
            continue
        if match := _DEFAULT.match(stripped):
            defaults[match[1]] = match[2]
        else:
            description.append(stripped.lstrip("-").strip())
    params: dict[str, str] = {}
    for param, type_name in _PARAM.findall(text):
        known = params.setdefault(param, type_name.strip())
        if known != type_name.strip():
            raise QueryError(f"{name}: parameter {param} used as {known} and as {type_name}")
    unknown = sorted(set(defaults) - set(params))
    if unknown:
        raise QueryError(f"{name}: defaults for parameters the SQL does not use: {unknown}")
    return NamedQuery(name, " ".join(d for d in description if d), text, params, defaults)


def list_queries() -> list[NamedQuery]:
    """Every named query, by name."""
    folder = resources.files("sql") / "queries"
    found = [
        parse_query(entry.name[: -len(".sql")], entry.read_text())
        for entry in folder.iterdir()
        if entry.name.endswith(".sql")
    ]
    return sorted(found, key=lambda q: q.name)


def get_query(name: str) -> NamedQuery:
    if not _NAME.match(name):
        raise QueryError(f"expected a query name of a-z, 0-9 and _, got {name!r}")
    for query in list_queries():
        if query.name == name:
            return query
    names = [q.name for q in list_queries()]
    raise QueryError(f"no named query {name!r}; expected one of {names}")


def _coerce(type_name: str, value: Any) -> Any:
    if type_name.startswith("Array(") and isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return value


def bind_params(query: NamedQuery, given: Mapping[str, Any] | None) -> dict[str, Any]:
    """The values to bind: given ones over defaults; every parameter must end up set."""
    values = dict(given or {})
    unknown = sorted(set(values) - set(query.params))
    if unknown:
        raise QueryError(
            f"{query.name} takes parameters {sorted(query.params)}, got unknown {unknown}"
        )
    bound: dict[str, Any] = {}
    missing: list[str] = []
    for param, type_name in query.params.items():
        if param in values:
            bound[param] = _coerce(type_name, values[param])
        elif param in query.defaults:
            bound[param] = _coerce(type_name, query.defaults[param])
        else:
            missing.append(f"{param}:{type_name}")
    if missing:
        raise QueryError(f"{query.name} needs parameters {missing}")
    return bound


def parse_param_args(pairs: list[str]) -> dict[str, str]:
    """`["k=v", ...]` (the CLI's --param values) as a dict."""
    params: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise QueryError(f"expected --param NAME=VALUE, got {pair!r}")
        params[key.strip()] = value
    return params


def run_query(
    warehouse: Warehouse, name: str, params: Mapping[str, Any] | None = None
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Run a named query; returns its column names and rows."""
    query = get_query(name)
    bound = bind_params(query, params)
    try:
        result = warehouse.client.query(query.sql, parameters=bound)
    except Exception as exc:
        raise QueryError(f"{name} failed: {exc}") from exc
    return list(result.column_names), list(result.result_rows)
