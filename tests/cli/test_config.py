"""Configuration files: discovery, precedence, errors, and ``claimscrub config``."""

from __future__ import annotations

import json
import re
import shutil
import tomllib
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from claimscrub.cli import cli
from claimscrub.cli.config import settings_table
from claimscrub.config import SETTINGS, Settings
from claimscrub.config.schema import SCHEMA_FILE, markdown_table, schema_text
from claimscrub.config.settings import assert_table_matches_dataclass

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "immunosuppressants.json"
DOCS = ROOT / "docs" / "configuration.md"


def _check(args: list[str], cwd: Path | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["check", *args])
    return result.exit_code, result.stdout, result.stderr


def _rules(stdout: str) -> set[str]:
    doc = json.loads(stdout)
    return {f["rule"] for c in doc["claims"] for f in c["findings"]}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project folder with the example batch two folders down: project/claims/june/."""
    folder = tmp_path / "project" / "claims" / "june"
    folder.mkdir(parents=True)
    shutil.copy(EXAMPLE, folder / "batch.json")
    return tmp_path / "project"


def _batch(project: Path) -> str:
    return str(project / "claims" / "june" / "batch.json")


# --- discovery -------------------------------------------------------------------------------


def test_without_configuration_every_rule_runs(project):
    code, out, _ = _check([_batch(project), "--format", "json"])
    assert code == 1
    assert {"NDC003", "PAU001", "DGN002"} <= _rules(out)


def test_claimscrub_toml_found_from_the_inputs_folder_upward(project):
    (project / "claimscrub.toml").write_text('[rules]\nselect = ["NDC"]\n')
    code, out, _ = _check([_batch(project), "--format", "json"])
    assert code == 1
    assert _rules(out) == {"NDC003"}


def test_pyproject_table_is_used_and_a_pyproject_without_it_is_passed_over(project):
    (project / "pyproject.toml").write_text('[tool.claimscrub.rules]\nselect = ["PAU"]\n')
    (project / "claims" / "pyproject.toml").write_text('[project]\nname = "x"\n')
    code, out, _ = _check([_batch(project), "--format", "json"])
    assert _rules(out) == {"PAU001", "PAU005"}


def test_the_nearest_file_wins_and_claimscrub_toml_before_pyproject(project):
    (project / "claimscrub.toml").write_text('[rules]\nselect = ["PAU"]\n')
    near = project / "claims"
    (near / "pyproject.toml").write_text('[tool.claimscrub.rules]\nselect = ["DGN"]\n')
    assert {r[:3] for r in _rules(_check([_batch(project), "--format", "json"])[1])} == {"DGN"}
    (near / "claimscrub.toml").write_text('[rules]\nselect = ["NDC"]\n')
    assert _rules(_check([_batch(project), "--format", "json"])[1]) == {"NDC003"}


def test_config_flag_and_isolated(project, tmp_path):
    (project / "claimscrub.toml").write_text('[rules]\nselect = ["NDC"]\n')
    other = tmp_path / "other.toml"
    other.write_text('output-format = "json"\n[rules]\nselect = ["PAU"]\n')
    assert _rules(_check([_batch(project), "--config", str(other)])[1]) == {"PAU001", "PAU005"}
    code, out, _ = _check([_batch(project), "--isolated", "--format", "json"])
    assert {"NDC003", "PAU001", "DGN002"} <= _rules(out)


# --- precedence: defaults -> pack -> file -> flags ----------------------------------------


def test_flags_override_the_file(project):
    (project / "claimscrub.toml").write_text(
        'output-format = "json"\n[rules]\nselect = ["NDC"]\nfail-on = "warning"\nignore = ["PAU001"]\n'
    )
    code, out, _ = _check([_batch(project)])
    assert _rules(out) == {"NDC003"}
    # --select replaces the file's select and its ignore (a fresh selection, as in ruff)
    code, out, _ = _check([_batch(project), "--select", "PAU"])
    assert _rules(out) == {"PAU001", "PAU005"}
    # --ignore adds to the file's ignore
    code, out, _ = _check([_batch(project), "--select", "PAU", "--ignore", "PAU005"])
    assert _rules(out) == {"PAU001"}
    # fail-on: the file says warning (PAU005 is a warning), the flag says error
    assert _check([_batch(project), "--select", "PAU005"])[0] == 1
    assert _check([_batch(project), "--select", "PAU005", "--fail-on", "error"])[0] == 0
    # the output format
    code, out, _ = _check([_batch(project), "--format", "concise"])
    assert out.startswith(str(Path(_batch(project))))


def test_file_severity_overrides_the_pack_and_the_pack_the_default(project):
    packs = project / "packs"
    packs.mkdir()
    (packs / "strict.yaml").write_text(
        "name: strict-commercial\nextends: commercial\nrules:\n  severity: {PAU005: error}\n"
    )
    base = 'payer = "strict-commercial"\npolicy = ["packs"]\n[rules]\nselect = ["PAU005"]\n'
    config = project / "claimscrub.toml"
    config.write_text(base)
    out = json.loads(_check([_batch(project), "--format", "json"])[1])
    severities = {f["severity"] for c in out["claims"] for f in c["findings"]}
    assert severities == {"error"}  # the pack's override of the rule's default (warning)
    config.write_text(base + 'severity = { non-preferred-product = "info" }\n')
    code, out, _ = _check([_batch(project), "--format", "json"])
    doc = json.loads(out)
    assert {f["severity"] for c in doc["claims"] for f in c["findings"]} == {"info"}
    assert code == 0  # info is below the default fail-on


def test_file_confidence_overrides_the_pack_and_the_pack_the_default(project):
    packs = project / "packs"
    packs.mkdir()
    (packs / "sure.yaml").write_text(
        "name: sure-commercial\nextends: commercial\nrules:\n  confidence: {PAU005: high}\n"
    )
    base = 'payer = "sure-commercial"\npolicy = ["packs"]\n[rules]\nselect = ["PAU005"]\n'
    config = project / "claimscrub.toml"
    config.write_text('[rules]\nselect = ["PAU005"]\n')
    out = json.loads(_check([_batch(project), "--format", "json"])[1])
    assert {f["confidence"] for c in out["claims"] for f in c["findings"]} == {"medium"}
    config.write_text(base)
    out = json.loads(_check([_batch(project), "--format", "json"])[1])
    assert {f["confidence"] for c in out["claims"] for f in c["findings"]} == {"high"}
    config.write_text(base + 'confidence = { non-preferred-product = "low" }\n')
    code, out, _ = _check([_batch(project), "--format", "json"])
    doc = json.loads(out)
    assert {f["confidence"] for c in doc["claims"] for f in c["findings"]} == {"low"}
    assert {f["severity"] for c in doc["claims"] for f in c["findings"]} == {"warning"}


def test_per_payer_ignores_drop_a_rule_on_matching_packs_only(project):
    (project / "claimscrub.toml").write_text(
        '[rules]\nselect = ["PAU", "NDC003"]\nper-payer-ignores = { "commerc*" = ["PAU"] }\n'
    )
    assert _rules(_check([_batch(project), "--format", "json"])[1]) == {"NDC003"}


def test_rule_options_by_rule_name_with_kebab_case_option(project):
    (project / "claimscrub.toml").write_text(
        '[rules]\nselect = ["DGN002"]\n[rules.options.diagnosis-not-billable]\nmax-choices = 2\n'
    )
    doc = json.loads(_check([_batch(project), "--format", "json"])[1])
    (finding,) = [f for c in doc["claims"] for f in c["findings"]]
    # 5 billable codes below the heading: more than 2 to list
    assert "T86.10" not in finding["message"]
    (project / "claimscrub.toml").write_text('[rules]\nselect = ["DGN002"]\n')
    doc = json.loads(_check([_batch(project), "--format", "json"])[1])
    (finding,) = [f for c in doc["claims"] for f in c["findings"]]
    assert "below it: T86.10, T86.11, T86.12, T86.13, T86.19;" in finding["message"]


# --- errors: exit 2, naming the file and the key ---------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '[rules]\nselcet = ["NDC"]\n',
            r"unknown key 'rules\.selcet' \(did you mean 'rules\.select'\?\)",
        ),
        (
            '[rules]\nfail-on = "fatal"\n',
            r"rules\.fail-on: 'fatal' is not one of error, warning, info",
        ),
        ('[rules]\nselect = "NDC"\n', r"rules\.select: expected an array of strings"),
        ("[streaming]\nchunk-claims = 0\n", r"streaming\.chunk-claims: must be at least 1"),
        ('show-progress = "no"\n', r"show-progress: expected true or false"),
        ('output-format = "xml"\n', r"output-format: 'xml' is not one of full, concise"),
        ('[rules]\nselect = ["NDC", "XYZ9"]\n', r"rules\.select: selector 'XYZ9' matches no rule"),
        (
            '[rules]\nseverity = { MCR016 = "loud" }\n',
            r"rules\.severity\.MCR016: 'loud' is not a severity",
        ),
        ('[rules]\nseverity = { MCR999 = "info" }\n', r"rules\.severity\.MCR999: no rule 'MCR999'"),
        (
            '[rules]\nconfidence = { MCR016 = "sure" }\n',
            r"rules\.confidence\.MCR016: 'sure' is not a confidence \(high, medium, low\)",
        ),
        (
            '[rules]\nconfidence = { MCR999 = "low" }\n',
            r"rules\.confidence\.MCR999: no rule 'MCR999'",
        ),
        (
            "[rules.options.DGN002]\nmax-choice = 3\n",
            r"rules\.options\.DGN002\.max-choice: rule DGN002 has no option 'max-choice' \(options: max_choices\)",
        ),
        (
            "[rules.options.DGN002]\nmax-choices = 'three'\n",
            r"rules\.options\.DGN002\.max-choices: expected int",
        ),
        ('policy = ["no-such-folder"]\n', r"policy: 'no-such-folder': no such file or folder"),
        ('payer = "acme"\n', r"payer: unknown payer pack 'acme'"),
        (
            '[rules]\nper-payer-ignores = { "acme*" = ["PAU"] }\n',
            r'per-payer-ignores\."acme\*": matches no payer policy pack',
        ),
        ("[rules\nselect = 1\n", r"not valid TOML"),
        (
            '[tool.claimscrub]\npayer = "medicaid"\n',
            r"in claimscrub\.toml the settings are at the top level",
        ),
    ],
)
def test_bad_configuration_exits_2_naming_file_and_key(project, text, expected):
    config = project / "claimscrub.toml"
    config.write_text(text)
    code, out, err = _check([_batch(project)])
    assert code == 2, err
    assert out == ""
    assert str(config) in err
    assert re.search(expected, err), err
    assert "Traceback" not in err


def test_every_problem_of_a_file_is_reported_at_once(project):
    (project / "claimscrub.toml").write_text('colour = "red"\n[rules]\nfail-on = 3\n')
    code, _, err = _check([_batch(project)])
    assert code == 2
    assert "unknown key 'colour'" in err and "rules.fail-on: expected a string" in err


def test_a_bad_flag_is_named_as_the_flag(project):
    code, _, err = _check([_batch(project), "--select", "XYZ9"])
    assert code == 2 and "--select: selector 'XYZ9' matches no rule" in err


def test_pyproject_errors_name_the_table(project):
    (project / "pyproject.toml").write_text('[tool.claimscrub]\ninput-format = "xml"\n')
    code, _, err = _check([_batch(project)])
    assert code == 2
    assert (
        f"{project / 'pyproject.toml'} [tool.claimscrub]: input-format: 'xml' is not one of" in err
    )


def test_missing_config_file_is_an_error(project):
    code, _, err = _check([_batch(project), "--config", str(project / "nope.toml")])
    assert code == 2 and "no such configuration file" in err


# --- claimscrub config ---------------------------------------------------------------------------


def _config(args: list[str]) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["config", *args])
    return result.exit_code, result.stdout, result.stderr


def test_config_lists_every_setting_with_type_default_and_description(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, _ = _config([])
    assert code == 0
    for s in SETTINGS:
        row = next(line for line in out.splitlines() if line.startswith(s.key + " "))
        assert s.type_name in row and s.summary in row
    assert "No configuration file applies here" in out


def test_config_key_explains_one_setting_and_its_current_value(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text('[tool.claimscrub.rules]\nfail-on = "warning"\n')
    monkeypatch.chdir(tmp_path)
    code, out, _ = _config(["rules.fail-on"])
    assert code == 0
    assert "Type: string (one of error, warning, info)" in out
    assert 'Default: "error"' in out and "Command line: --fail-on" in out
    assert "[tool.claimscrub.rules]" in out
    assert f'Current value: "warning" (from {tmp_path / "pyproject.toml"} [tool.claimscrub])' in out


def test_config_json_and_tables(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    doc = json.loads(_config(["--format", "json"])[1])
    assert [s["key"] for s in doc["settings"]] == [s.key for s in SETTINGS]
    one = json.loads(_config(["output-format", "--format", "json"])[1])
    assert one["key"] == "output-format" and "html" in one["choices"] and one["default"] == "full"
    section = json.loads(_config(["streaming", "--format", "json"])[1])
    assert [s["key"] for s in section["settings"]] == [
        s.key for s in SETTINGS if s.key.startswith("streaming.")
    ]
    assert len(section["settings"]) == 3
    code, out, _ = _config(["rules.options"])
    assert "DGN002 diagnosis-not-billable: max-choices = 12" in out
    code, out, _ = _config(["rules.options.DGN002"])
    assert code == 0 and "max-choices = 12" in out


def test_config_unknown_key_exits_2_with_a_suggestion():
    code, _, err = _config(["rules.failon"])
    assert code == 2 and "did you mean 'rules.fail-on'" in err


# --- the JSON Schema and the docs ---------------------------------------------------------------


def test_settings_table_matches_the_settings_dataclass():
    assert_table_matches_dataclass()
    assert {s.attr for s in SETTINGS} <= set(Settings.__dataclass_fields__)


def test_shipped_schema_is_current():
    assert SCHEMA_FILE.read_text() == schema_text(settings_table()), (
        "regenerate: claimscrub config --schema > src/claimscrub/config/claimscrub.schema.json"
    )
    assert _config(["--schema"])[1] == SCHEMA_FILE.read_text()


def test_schema_accepts_a_full_configuration_and_rejects_mistakes():
    schema = json.loads(SCHEMA_FILE.read_text())
    good = tomllib.loads(
        'payer = "medicare-dme"\npolicy = ["packs"]\ninput-format = "x12"\n'
        'output-format = "concise"\nshow-progress = false\n'
        '[rules]\nselect = ["ALL"]\nignore = ["MCR016"]\nextend-select = []\nfail-on = "warning"\n'
        'severity = { PAU005 = "info" }\nper-payer-ignores = { "medicaid" = ["NDC007"] }\n'
        'confidence = { PAU001 = "high" }\nmin-confidence = "medium"\n'
        "[rules.options.DGN002]\nmax-choices = 3\n"
        "[streaming]\nmin-size-mb = 64\nchunk-claims = 2000\n"
    )
    jsonschema.validate(good, schema)
    for bad in (
        '[rules]\nselcet = ["A"]\n',
        '[rules]\nfail-on = "loud"\n',
        "show-progress = 1\n",
        '[rules]\nconfidence = { PAU001 = "sure" }\n',
        '[rules]\nmin-confidence = "sure"\n',
    ):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(tomllib.loads(bad), schema)


def test_docs_reference_is_current_and_documents_every_setting():
    text = DOCS.read_text()
    begin, end = "<!-- settings:begin -->\n", "<!-- settings:end -->"
    generated = text[text.index(begin) + len(begin) : text.index(end)]
    assert generated == markdown_table(settings_table()), (
        "regenerate the settings reference: claimscrub config --format markdown"
    )
    for s in SETTINGS:
        assert f"### `{s.key}`" in text
