"""``claimscrub config [KEY]``: explain the settings; and the settings checks ``check`` runs.

``claimscrub config`` lists every setting with its type, default and description;
``claimscrub config KEY`` explains one (or a table such as ``rules``) with an example
and the value in effect here; ``--format json`` gives the same as data, ``--format
markdown`` the reference of docs/configuration.md, ``--schema`` the JSON Schema shipped
in the package for editors.

The configuration layer knows no rules, packs or reporters; the checks that need them
(a selector that names no rule, an option a rule does not have, an output format that
does not exist) are here, and every message names the file and key (or the flag).
"""

from __future__ import annotations

import difflib
import fnmatch
import json
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from claimscrub.cli import UserError
from claimscrub.config import SETTINGS, ConfigError, Setting, Settings
from claimscrub.config.discovery import find_config, load
from claimscrub.config.schema import markdown_table, schema_text, shown_default
from claimscrub.config.settings import SECTIONS, with_choices

if TYPE_CHECKING:
    from claimscrub.engine.scrub import Plan, ScrubOptions
    from claimscrub.rules.registry import Rule


def settings_table() -> tuple[Setting, ...]:
    """The settings with the choices that come from registries (formats) filled in."""
    from claimscrub.readers import FORMATS as INPUT_FORMATS
    from claimscrub.reporters import FORMATS

    choices = {"output-format": tuple(FORMATS), "input-format": ("auto", *INPUT_FORMATS)}
    return tuple(with_choices(s, choices[s.key]) if s.key in choices else s for s in SETTINGS)


# --- checks against the rule registry and the packs (used by ``check``) ---------------------


def _rule_by_name_or_code(rules: Mapping[str, Rule]) -> dict[str, Rule]:
    out = {code: r for code, r in rules.items()}
    out.update({r.name: r for r in rules.values()})
    return out


def _selector_problems(
    where: str, selectors: tuple[str, ...], rules: Mapping[str, Rule]
) -> list[str]:
    from claimscrub.rules.registry import SelectionError, select

    problems = []
    for selector in selectors:
        try:
            select(rules.values(), [selector], (), ())
        except SelectionError:
            problems.append(f"{where}: selector {selector!r} matches no rule")
    return problems


def _option_problems(where: str, rule: Rule, options: Mapping[str, Any]) -> tuple[dict, list[str]]:
    known = dict(rule.options)
    out: dict[str, Any] = {}
    problems = []
    for name, value in options.items():
        attr = name.replace("-", "_")
        if attr not in known:
            have = ", ".join(sorted(known)) or "none"
            problems.append(
                f"{where}.{name}: rule {rule.code} has no option {name!r} (options: {have})"
            )
            continue
        default = known[attr]
        expected = type(default)
        ok = (
            default is None
            or isinstance(value, expected)
            and not (isinstance(value, bool) and expected is not bool)
            or (expected is float and isinstance(value, int) and not isinstance(value, bool))
        )
        if not ok:
            problems.append(
                f"{where}.{name}: expected {expected.__name__} like the default "
                f"({default!r}), got {value!r}"
            )
            continue
        out[attr] = value
    return out, problems


def check_settings(settings: Settings) -> None:
    """Check what only the registries can tell; raise UserError naming file and key."""
    from claimscrub.rules.registry import load_builtin_rules

    rules = load_builtin_rules()
    named = _rule_by_name_or_code(rules)
    problems: list[str] = []
    for s in settings_table():
        if s.choices and settings.value(s.key) not in s.choices:
            problems.append(
                f"{settings.where(s.key)}: {settings.value(s.key)!r} is not one of "
                f"{', '.join(s.choices)}"
            )
    for key, attr in (
        ("rules.select", "select"),
        ("rules.ignore", "ignore"),
        ("rules.extend-select", "extend_select"),
    ):
        problems += _selector_problems(settings.where(key), getattr(settings, attr), rules)
    for pattern, selectors in settings.per_payer_ignores.items():
        where = f'{settings.where("rules.per-payer-ignores")}."{pattern}"'
        problems += _selector_problems(where, selectors, rules)
    for key, overrides in (
        ("rules.severity", settings.severity),
        ("rules.confidence", settings.confidence),
    ):
        for rule_id in overrides:
            if rule_id not in named:
                problems.append(f"{settings.where(key)}.{rule_id}: {_no_rule(rule_id, named)}")
    for rule_id, options in settings.rule_options.items():
        where = f"{settings.where('rules.options')}.{rule_id}"
        if rule_id not in named:
            problems.append(f"{where}: {_no_rule(rule_id, named)}")
            continue
        problems += _option_problems(where, named[rule_id], options)[1]
    if problems:
        raise UserError("\n".join(problems))


def _no_rule(rule_id: str, named: Mapping[str, Rule]) -> str:
    close = difflib.get_close_matches(rule_id, list(named), n=1)
    return f"no rule {rule_id!r}" + (f" (did you mean {close[0]!r}?)" if close else "")


def scrub_options(settings: Settings, as_of: Any = None) -> ScrubOptions:
    """The engine's options from checked settings (rule names turned into codes)."""
    from claimscrub.engine.scrub import ScrubOptions
    from claimscrub.rules.registry import load_builtin_rules

    named = _rule_by_name_or_code(load_builtin_rules())
    options: dict[str, dict[str, Any]] = {}
    for rule_id, values in settings.rule_options.items():
        rule = named[rule_id]
        checked, _ = _option_problems("", rule, values)
        options.setdefault(rule.code, {}).update(checked)
    return ScrubOptions(
        select=list(settings.select),
        ignore=list(settings.ignore),
        extend_select=list(settings.extend_select),
        pack=settings.payer,
        extra_packs=list(settings.policy),
        severity={named[k].code: v for k, v in settings.severity.items()},
        confidence={named[k].code: v for k, v in settings.confidence.items()},
        rule_options=options,
        as_of=as_of,
        min_confidence=settings.min_confidence,
    )


def apply_pack_settings(plan: Plan, settings: Settings) -> None:
    """Check the payer named by the settings and add ``per-payer-ignores`` to the packs.

    A configured ignore for a pack works exactly like the pack's own ``rules.ignore``:
    its findings on the pack's claims are dropped (configuration overrides the pack).
    """
    from claimscrub.rules.registry import load_builtin_rules, select

    if settings.payer is not None and settings.payer not in plan.packs:
        raise UserError(
            f"{settings.where('payer')}: unknown payer pack {settings.payer!r}; "
            f"known: {', '.join(sorted(plan.packs))}"
        )
    rules = load_builtin_rules().values()
    for pattern, selectors in settings.per_payer_ignores.items():
        names = fnmatch.filter(sorted(plan.packs), pattern)
        if not names:
            raise UserError(
                f'{settings.where("rules.per-payer-ignores")}."{pattern}": matches no payer '
                f"policy pack; known: {', '.join(sorted(plan.packs))}"
            )
        codes = [r.code for r in select(rules, selectors, (), ())]
        for name in names:
            pack = plan.packs[name]
            ignored = [*pack.rules.get("ignore", []), *codes]
            plan.packs[name] = replace(pack, rules={**pack.rules, "ignore": ignored})


def user_pack_options(command: Any) -> Any:
    """``--policy``, ``--config`` and ``--isolated`` for commands that read only the policy
    setting (``explain``, ``serve``); :func:`user_pack_paths` resolves them."""
    options = (
        click.option(
            "--policy",
            multiple=True,
            type=click.Path(exists=True, path_type=Path),
            help="Extra payer policy pack file or folder (repeatable), as for check; added to "
            "the configuration's policy list.",
        ),
        click.option(
            "--config",
            "config_file",
            type=click.Path(dir_okay=False, path_type=Path),
            help="Read the policy setting from this configuration file instead of finding one "
            "from the current folder upward.",
        ),
        click.option("--isolated", is_flag=True, help="Ignore every configuration file."),
    )
    for option in reversed(options):
        command = option(command)
    return command


def user_pack_paths(
    policy: tuple[Path, ...], config: Path | None = None, isolated: bool = False
) -> tuple[Path, ...]:
    """The user pack files and folders of ``serve`` and ``explain``: the configuration's
    ``policy`` (found from the current folder upward, or ``config``), then the flags.

    The paths are made absolute (worker processes and later reads do not depend on the
    current folder); other keys of the file are not used by these commands.
    """
    from claimscrub.config.discovery import resolve

    try:
        settings = resolve((), config=config, isolated=isolated, flags={"policy": policy})
    except ConfigError as exc:
        raise UserError(str(exc)) from None
    return tuple(Path(p).resolve() for p in settings.policy)


# --- the command --------------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, Path):
        return str(value)
    return value


def _record(s: Setting, current: Settings | None) -> dict[str, Any]:
    record: dict[str, Any] = {
        "key": s.key,
        "type": s.type_name,
        "default": _jsonable(s.default),
        "choices": list(s.choices),
        "flag": s.flag,
        "summary": s.summary,
        "description": s.details,
        "example": s.example,
    }
    if current is not None and current.origin(s.key) != "default":
        record["current"] = {
            "value": _jsonable(current.value(s.key)),
            "from": current.origin(s.key),
        }
    return record


def _current() -> tuple[Settings | None, str]:
    """The settings in effect in the current folder, and a sentence saying where from."""
    try:
        path = find_config(Path.cwd())
        settings = load(["."]) if path is not None else None
    except ConfigError as exc:
        return None, f"The configuration here has problems:\n{exc}"
    if path is None:
        return None, "No configuration file applies here; the defaults are in effect."
    return settings, f"Configuration in effect here: {path}"


def _rule_options_text() -> list[str]:
    from claimscrub.rules.registry import load_builtin_rules

    lines = ["Rules with options (code, name: option = default):"]
    for rule in sorted(load_builtin_rules().values(), key=lambda r: r.code):
        for name, default in rule.options.items():
            shown = json.dumps(default) if not isinstance(default, str) else f'"{default}"'
            lines.append(f"  {rule.code} {rule.name}: {name.replace('_', '-')} = {shown}")
    return lines


def _detail(s: Setting, current: Settings | None) -> list[str]:
    lines = [s.key, f"  {s.summary}"]
    if s.details:
        lines.append(f"  {s.details}")
    kind = s.type_name + (f" (one of {', '.join(s.choices)})" if s.choices else "")
    lines += [f"  Type: {kind}", f"  Default: {shown_default(s)}"]
    if s.flag:
        lines.append(f"  Command line: {s.flag}")
    if s.example:
        table = f"[tool.claimscrub.{s.section}]" if s.section else "[tool.claimscrub]"
        snippet = s.example if s.example.startswith("[") else f"{table}\n{s.example}"
        lines.append("  Example (pyproject.toml; in claimscrub.toml drop 'tool.claimscrub'):")
        lines += [f"    {x}" for x in snippet.splitlines()]
    if current is not None and current.origin(s.key) != "default":
        value = json.dumps(_jsonable(current.value(s.key)))
        lines.append(f"  Current value: {value} (from {current.origin(s.key)})")
    if s.key == "rules.options":
        lines += ["", *_rule_options_text()]
    return lines


def _list(table: tuple[Setting, ...]) -> list[str]:
    width_key = max(len(s.key) for s in table)
    width_type = max(len(s.type_name) for s in table)
    width_default = max(len(shown_default(s)) for s in table)
    out = [
        f"{'KEY':<{width_key}}  {'TYPE':<{width_type}}  {'DEFAULT':<{width_default}}  DESCRIPTION"
    ]
    for s in table:
        out.append(
            f"{s.key:<{width_key}}  {s.type_name:<{width_type}}  "
            f"{shown_default(s):<{width_default}}  {s.summary}"
        )
    return out


def _normalised(key: str) -> str:
    return key.strip().removeprefix("tool.claimscrub.").replace("_", "-")


def _find(key: str, table: tuple[Setting, ...]) -> tuple[Setting, ...]:
    """The settings a KEY argument names: one setting, or every setting of a table."""
    normalised = _normalised(key)
    exact = [s for s in table if s.key == normalised]
    if exact:
        return tuple(exact)
    if normalised in SECTIONS:
        return tuple(s for s in table if s.section == normalised)
    close = difflib.get_close_matches(normalised, [s.key for s in table] + list(SECTIONS), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise UserError(f"unknown setting {key!r}{hint}; `claimscrub config` lists them all")


def _rule_options_of(key: str) -> tuple[Rule, dict[str, Any]] | None:
    """``rules.options.<rule>``: the rule and its option defaults."""
    from claimscrub.rules.registry import load_builtin_rules

    prefix = "rules.options."
    normalised = key.strip().removeprefix("tool.claimscrub.")
    if not normalised.startswith(prefix):
        return None
    rule_id = normalised[len(prefix) :]
    named = _rule_by_name_or_code(load_builtin_rules())
    if rule_id not in named:
        raise UserError(f"unknown setting {key!r}: {_no_rule(rule_id, named)}")
    rule = named[rule_id]
    return rule, {name.replace("_", "-"): value for name, value in rule.options.items()}


@click.command("config")
@click.argument("key", required=False)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
    help="text for people, json as data, markdown for the docs.",
)
@click.option("--schema", is_flag=True, help="Print the JSON Schema of the configuration.")
def command(key: str | None, fmt: str, schema: bool) -> None:
    """Explain the settings of claimscrub.toml / [tool.claimscrub] (all, or KEY)."""
    table = settings_table()
    if schema:
        click.echo(schema_text(table), nl=False)
        return
    if key is not None and (found := _rule_options_of(key)) is not None:
        rule, options = found
        if fmt == "json":
            click.echo(
                json.dumps({"rule": rule.code, "name": rule.name, "options": options}, indent=2)
            )
        else:
            click.echo(f"rules.options.{rule.name} ({rule.code}): {rule.summary}")
            for name, value in options.items():
                click.echo(f"  {name} = {json.dumps(value)}")
            if not options:
                click.echo("  (this rule has no options)")
        return
    chosen = _find(key, table) if key else table
    if fmt == "markdown":
        click.echo(markdown_table(chosen), nl=False)
        return
    current, where = _current()
    if fmt == "json":
        records = [_record(s, current) for s in chosen]
        single = key is not None and chosen[0].key == _normalised(key)
        click.echo(json.dumps(records[0] if single else {"settings": records}, indent=2))
        return
    if key is None or chosen[0].key != _normalised(key):
        lines = _list(chosen)
        lines += ["", where, "Run `claimscrub config KEY` for one setting in detail."]
    else:
        lines = _detail(chosen[0], current)
    click.echo("\n".join(lines))
