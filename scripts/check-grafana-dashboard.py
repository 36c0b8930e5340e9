#!/usr/bin/env python3
"""Check a Grafana dashboard JSON against Grafana's own dashboard schema.

Checks against: PyPI package grafana-foundation-sdk==1769699379!11.6.0 (Grafana Labs,
Apache-2.0), whose models are generated from Grafana 11.6's schema (dashboard
schemaVersion 41, the panel kinds' options and field config, the Prometheus query).
Install it in a venv (it needs Python 3.11 or newer):

    python3 -m venv /tmp/grafana-check
    /tmp/grafana-check/bin/pip install 'grafana-foundation-sdk==1769699379!11.6.0'
    /tmp/grafana-check/bin/python scripts/check-grafana-dashboard.py [DASHBOARD.json]

Pin the version with its epoch ("1769699379!"): a bare or unpinned install picks
the highest epoch on PyPI, which may be a build for an older Grafana.

The package's from_json only decodes, it checks no types, so this script does that
itself from the package's type annotations: every field of the dashboard, its rows,
panels, Prometheus targets, panel options and field config must have the type the
schema gives it (a string where a number is due fails, an unknown enum value fails),
and no key may be one the schema does not know (a misspelt key fails). Every panel
must be of a type the schema describes (so its options are checked too), and every
target must be a Prometheus query with a one-line expr, no template variables.

    check-grafana-dashboard.py [DASHBOARD.json]          check; exit 1 on any error
    check-grafana-dashboard.py --exprs [DASHBOARD.json]  check, then print every expr, one a line

DASHBOARD.json defaults to config/grafana/charter-dashboard.json beside this script.
"""

import enum
import functools
import inspect
import json
import re
import sys
import types
import typing
from pathlib import Path

try:
    from grafana_foundation_sdk.cog import runtime as cogruntime
    from grafana_foundation_sdk.cog import variants as cogvariants
    from grafana_foundation_sdk.cog.encoder import JSONEncoder
    from grafana_foundation_sdk.cog.plugins import register_default_plugins
    from grafana_foundation_sdk.models import dashboard as dashboard_model
    from grafana_foundation_sdk.models import prometheus as prometheus_model
except ImportError:
    sys.exit(
        "check-grafana-dashboard: needs grafana-foundation-sdk: "
        "pip install 'grafana-foundation-sdk==1769699379!11.6.0'"
    )

PACKAGE = "grafana-foundation-sdk==1769699379!11.6.0"
GRAFANA = "11.6"
SCHEMA_VERSION = dashboard_model.Dashboard().schema_version  # 41 for Grafana 11.6
# Keys of the export-for-sharing envelope, read by Grafana's import and not part of the
# dashboard model itself.
IMPORT_KEYS = {"__inputs", "__requires", "__elements"}
DEFAULT = Path(__file__).resolve().parent.parent / "config" / "grafana" / "charter-dashboard.json"


def is_model(value):
    return hasattr(value, "to_json") and type(value).__module__.startswith(
        "grafana_foundation_sdk.models"
    )


@functools.lru_cache(maxsize=None)
def json_names(cls):
    """The JSON key of each attribute of a model class, read from its generated to_json."""
    try:
        source = inspect.getsource(cls.to_json)
    except (OSError, TypeError):
        return {}
    return {attr: key for key, attr in re.findall(r'"([^"]+)"\]?\s*[:=]\s*self\.(\w+)', source)}


class Checker:
    def __init__(self):
        self.errors = []

    def error(self, path, message):
        self.errors.append(f"{path}: {message}")

    def model(self, obj, path):
        hints = typing.get_type_hints(type(obj))
        names = json_names(type(obj))
        for name, hint in hints.items():
            self.value(getattr(obj, name, None), hint, f"{path}.{names.get(name, name)}")

    def value(self, value, hint, path):
        """Record why `value` does not have type `hint`, if it does not."""
        problems = self.problems(value, hint, path)
        self.errors.extend(problems)

    def problems(self, value, hint, path):
        saved, self.errors = self.errors, []
        try:
            self._check(value, hint, path)
            return self.errors
        finally:
            self.errors = saved

    def _check(self, value, hint, path):
        if isinstance(value, cogruntime.UnknownDataquery):
            self.error(path, "a query of no known datasource type (set datasource.type to prometheus)")
            return
        # A decoded model is checked against its own class, whatever the field says:
        # panel options and field config are typed `object` on Panel and decoded to the
        # panel kind's own model.
        if is_model(value):
            expected = hint if isinstance(hint, type) else None
            if expected is not None and expected is not object and not isinstance(value, expected):
                self.error(path, f"expected {expected.__name__}, got {type(value).__name__}")
                return
            self.model(value, path)
            return
        if hint is typing.Any or hint is object:
            return
        origin = typing.get_origin(hint)
        args = typing.get_args(hint)
        if origin is typing.Union or origin is types.UnionType:
            if value is None and type(None) in args:
                return
            options = [a for a in args if a is not type(None)]
            attempts = [self.problems(value, a, path) for a in options]
            if any(not a for a in attempts):
                return
            if len(options) == 1:
                self.errors.extend(attempts[0])
            else:
                names = ", ".join(describe(a) for a in options)
                self.error(path, f"{short(value)} is none of: {names}")
            return
        if origin is typing.Literal:
            if not any(type(value) is type(a) and value == a for a in args):
                self.error(path, f"{short(value)} is not one of {list(args)}")
            return
        if origin is list:
            if not isinstance(value, list):
                self.error(path, f"expected a list, got {short(value)}")
                return
            (item,) = args or (typing.Any,)
            for i, element in enumerate(value):
                self._check(element, item, f"{path}[{i}]")
            return
        if origin is dict:
            if not isinstance(value, dict):
                self.error(path, f"expected an object, got {short(value)}")
                return
            key_hint, value_hint = args or (typing.Any, typing.Any)
            for k, v in value.items():
                self._check(k, key_hint, f"{path}.<key>")
                self._check(v, value_hint, f"{path}[{k!r}]")
            return
        if hint is type(None) or hint is None:
            if value is not None:
                self.error(path, f"expected null, got {short(value)}")
            return
        if isinstance(hint, type) and issubclass(hint, enum.Enum):
            if isinstance(value, hint):
                return
            base = int if issubclass(hint, int) else str if issubclass(hint, str) else None
            if base is not None and (type(value) is not base):
                self.error(path, f"{short(value)} is not a {hint.__name__} ({base.__name__})")
                return
            try:
                hint(value)
            except ValueError:
                allowed = [m.value for m in hint]
                self.error(path, f"{short(value)} is not a {hint.__name__}: one of {allowed}")
            return
        if hint is bool:
            if type(value) is not bool:
                self.error(path, f"expected a boolean, got {short(value)}")
            return
        if hint is int:
            if type(value) is not int:
                self.error(path, f"expected an integer, got {short(value)}")
            return
        if hint is float:
            if type(value) not in (int, float):
                self.error(path, f"expected a number, got {short(value)}")
            return
        if hint is str:
            if not isinstance(value, str):
                self.error(path, f"expected a string, got {short(value)}")
            return
        if isinstance(hint, type) and hasattr(hint, "from_json") and isinstance(value, dict):
            # A few fields (a panel's links, transformations) are kept undecoded by
            # from_json: decode them here and check them like the rest.
            try:
                decoded = hint.from_json(value)
            except Exception as e:
                self.error(path, f"does not decode as {hint.__name__}: {type(e).__name__}: {e}")
                return
            self.model(decoded, path)
            unknown_keys(value, json.loads(json.dumps(decoded, cls=JSONEncoder)), path, self.errors)
            return
        if isinstance(hint, type) and issubclass(hint, cogvariants.Dataquery):
            self.error(path, f"expected a query, got {short(value)}")
            return
        if isinstance(hint, type):
            self.error(path, f"expected {hint.__name__}, got {short(value)}")
            return
        self.error(path, f"cannot check type {hint!r}")


def describe(hint):
    return getattr(hint, "__name__", None) or str(hint).replace("typing.", "")


def short(value):
    text = type(value).__name__ if hasattr(value, "to_json") else json.dumps(value, default=repr)
    return text if len(text) <= 60 else text[:57] + "..."


def unknown_keys(raw, encoded, path, out):
    """Keys present in the input that the schema's encoding of it does not carry."""
    if isinstance(raw, dict) and isinstance(encoded, dict):
        for key, value in raw.items():
            # A null is an absent optional field, which the encoding leaves out (the
            # type check catches a null where a value is required).
            if key not in encoded:
                if value is not None:
                    out.append(f"{path}.{key}: not a field of Grafana {GRAFANA}'s schema here")
            else:
                unknown_keys(value, encoded[key], f"{path}.{key}", out)
    elif isinstance(raw, list) and isinstance(encoded, list):
        for i, (a, b) in enumerate(zip(raw, encoded)):
            unknown_keys(a, b, f"{path}[{i}]", out)


def panels_of(raw):
    for panel in raw.get("panels") or []:
        yield panel
        if isinstance(panel, dict) and panel.get("type") == "row":
            yield from panel.get("panels") or []


def check(raw):
    """Every error in the dashboard `raw`, and its exprs in order."""
    if not isinstance(raw, dict):
        return ["dashboard: not a JSON object"], []
    errors = []
    body = {k: v for k, v in raw.items() if k not in IMPORT_KEYS}
    try:
        dash = dashboard_model.Dashboard.from_json(body)
    except Exception as e:  # a shape the schema's decoder cannot take at all
        return [f"dashboard: does not decode as a Grafana {GRAFANA} dashboard: {type(e).__name__}: {e}"], []

    checker = Checker()
    checker.model(dash, "dashboard")
    errors += checker.errors

    encoded = json.loads(json.dumps(dash, cls=JSONEncoder))
    unknown_keys(body, encoded, "dashboard", errors)

    if not isinstance(raw.get("schemaVersion"), int):
        errors.append("dashboard.schemaVersion: missing")
    elif raw["schemaVersion"] > SCHEMA_VERSION:
        errors.append(
            f"dashboard.schemaVersion: {raw['schemaVersion']} is newer than Grafana {GRAFANA}'s {SCHEMA_VERSION}"
        )
    if not raw.get("title"):
        errors.append("dashboard.title: missing")

    # Each ${INPUT} a datasource refers to must be declared in __inputs, or Grafana's
    # import has nothing to ask for and the panels keep a datasource that does not exist.
    declared = {i.get("name") for i in raw.get("__inputs") or [] if isinstance(i, dict)}
    used = set(re.findall(r'"uid": "\$\{(\w+)\}"', json.dumps(body)))
    for name in sorted(used - declared):
        errors.append(f"dashboard: datasource uid ${{{name}}} is not declared in __inputs")

    known_panels = set(cogruntime.Runtime().panelcfg_variants)
    ids, exprs = {}, []
    for i, panel in enumerate(panels_of(raw)):
        where = f"panel {panel.get('id')!r} ({panel.get('title')!r})" if isinstance(panel, dict) else f"panel #{i}"
        if not isinstance(panel, dict):
            continue
        if panel.get("id") in ids:
            errors.append(f"{where}: id also used by {ids[panel['id']]!r}")
        ids[panel.get("id")] = panel.get("title")
        if "gridPos" not in panel:
            errors.append(f"{where}: no gridPos")
        kind = panel.get("type")
        if kind == "row":
            continue
        if kind not in known_panels:
            errors.append(f"{where}: panel type {kind!r} is not one Grafana {GRAFANA}'s schema describes")
        refs = set()
        for target in panel.get("targets") or []:
            if not isinstance(target, dict):
                continue
            ref = target.get("refId")
            if ref in refs:
                errors.append(f"{where}: refId {ref!r} used twice")
            refs.add(ref)
            expr = target.get("expr")
            if not isinstance(expr, str) or not expr.strip():
                errors.append(f"{where}: target {ref!r} has no expr")
                continue
            if "\n" in expr or "$" in expr:
                errors.append(f"{where}: target {ref!r}: expr must be one line with no template variables: {expr!r}")
            exprs.append(expr)
        if not panel.get("targets"):
            errors.append(f"{where}: no targets")
    # Every decoded target must be a Prometheus query.
    for panel in dash.panels or []:
        for inner in ([panel] + list(panel.panels or []) if isinstance(panel, dashboard_model.RowPanel) else [panel]):
            for target in getattr(inner, "targets", None) or []:
                if not isinstance(target, prometheus_model.Dataquery):
                    errors.append(f"panel {inner.id_val!r} ({inner.title!r}): a target that is not a Prometheus query")
    return errors, exprs


def main(argv):
    args = argv[1:]
    want_exprs = "--exprs" in args
    args = [a for a in args if a != "--exprs"]
    if len(args) > 1 or any(a.startswith("-") for a in args):
        sys.exit(__doc__)
    path = Path(args[0]) if args else DEFAULT
    register_default_plugins()
    try:
        raw = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        print(f"{path}: {e}", file=sys.stderr)
        return 1
    errors, exprs = check(raw)
    if errors:
        for e in errors:
            print(f"{path}: {e}", file=sys.stderr)
        print(f"{path}: {len(errors)} error(s) against Grafana {GRAFANA}'s schema ({PACKAGE})", file=sys.stderr)
        return 1
    if want_exprs:
        for expr in exprs:
            print(expr)
    else:
        print(f"{path}: valid for Grafana {GRAFANA} (schemaVersion {SCHEMA_VERSION}, {PACKAGE}); {len(exprs)} queries")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
