"""The architecture's import rules and the code style, checked with the rest of the suite."""

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from django.apps import apps

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
RUFF_COMMANDS = [["check"], ["format", "--check"]]


def run(*argv: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(arg) for arg in argv], cwd=ROOT, capture_output=True, text=True)


def test_import_contracts_hold():
    result = run(BIN / "lint-imports")
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_app_is_under_the_import_contracts():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    contracts = {contract["id"]: contract for contract in config["contracts"]}
    ours = {app.name for app in apps.get_app_configs() if Path(app.path).parent == ROOT}
    assert ours <= set(config["root_packages"])
    assert ours <= {layer.strip("()") for layer in contracts["layers"]["layers"]}
    assert ours <= set(contracts["helpers"]["forbidden_modules"])
    assert ours <= set(contracts["bench"]["source_modules"])


@pytest.mark.parametrize("command", RUFF_COMMANDS, ids=" ".join)
def test_ruff_finds_nothing(command):
    result = run(BIN / "ruff", *command, ".")
    assert result.returncode == 0, result.stdout + result.stderr
