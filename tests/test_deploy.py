"""Running it for real (issue 21): the systemd units in deploy/systemd/ pass systemd's own
check (``systemd-analyze verify``, with the install prefix /opt/newsmon templated to this
checkout so every ExecStart binary exists), each command line is one newsmon takes, and
the ``./newsmon`` wrapper runs a fresh checkout's newsmon from any folder, no venv activated."""
from __future__ import annotations

import configparser
import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from conftest import REPO

UNITS = sorted((REPO / "deploy" / "systemd").glob("*.service"))
PREFIX = "/opt/newsmon"                       # where the units expect the checkout
DATA = "/var/lib/newsmon"
SYSTEMD_ANALYZE = os.environ.get("NEWSMON_SYSTEMD_ANALYZE", "/usr/bin/systemd-analyze")


def unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    parser.optionxform = str                  # systemd keys are case-sensitive
    parser.read_string(path.read_text(encoding="utf-8"))
    return parser


def test_there_is_a_unit_for_each_long_running_part():
    assert [u.name for u in UNITS] == ["newsmon-scheduler.service", "newsmon-web.service", "newsmon-worker.service"]


@pytest.mark.parametrize("path", UNITS, ids=lambda p: p.stem)
def test_a_unit_restarts_on_failure_as_its_own_user_with_only_the_data_folder_writable(path):
    service = unit(path)["Service"]
    assert service["Restart"] == "on-failure" and service["User"] == "newsmon"
    assert service["EnvironmentFile"] == "/etc/newsmon/newsmon.env"
    assert service["WorkingDirectory"] == DATA and service["ReadWritePaths"] == DATA
    assert service["NoNewPrivileges"] == "yes" and service["ProtectSystem"] == "strict"
    assert service["PrivateTmp"] == "yes"
    assert service["ExecStart"].startswith(f"{PREFIX}/.venv/bin/newsmon ")
    assert unit(path)["Install"]["WantedBy"] == "multi-user.target"


@pytest.mark.parametrize("path", UNITS, ids=lambda p: p.stem)
def test_systemd_analyze_verify_accepts_the_unit(path, tmp_path):
    if not Path(SYSTEMD_ANALYZE).exists():
        pytest.fail(f"no {SYSTEMD_ANALYZE}: `make test` installs Debian's systemd package "
                    "(apt-get install systemd), or set NEWSMON_SYSTEMD_ANALYZE", pytrace=False)
    installed = tmp_path / path.name          # as installed from this checkout: ExecStart must exist
    installed.write_text(path.read_text(encoding="utf-8").replace(PREFIX, str(REPO)), encoding="utf-8")
    checked = subprocess.run([SYSTEMD_ANALYZE, "verify", "--man=no", str(installed)],
                             capture_output=True, text=True, timeout=60)
    # Unknown keys or sections are only warnings (exit 0): any output at all is a finding.
    assert checked.returncode == 0 and checked.stdout + checked.stderr == "", checked.stdout + checked.stderr


@pytest.mark.parametrize("path", UNITS, ids=lambda p: p.stem)
def test_the_command_line_is_one_newsmon_takes(path):
    command = shlex.split(unit(path)["Service"]["ExecStart"])
    command[0] = command[0].replace(PREFIX, str(REPO))
    checked = subprocess.run([*command, "--help"], capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0 and checked.stdout.lower().startswith("usage: newsmon "), checked.stderr
    # The scheduler's argparse prints its help before it would refuse a misspelt option.
    options = [word for word in command if word.startswith("--")]
    assert options and all(f"{option} " in checked.stdout for option in options), (options, checked.stdout)


# -- ./newsmon right after make demo -----------------------------------------------------------

@pytest.fixture
def fresh_checkout(tmp_path) -> Path:
    """A clone of this repository in a folder whose path has Chinese in it, with
    this working tree's wrapper. Its .venv is a real venv with newsmon's entry point (the
    one pip wrote here) whose dependencies come from this checkout's venv (no download)."""
    checkout = tmp_path / "我的工作" / "newsmon"
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(checkout)], check=True)
    shutil.copy2(REPO / "newsmon", checkout / "newsmon")
    return checkout


def _venv_from_this_one(checkout: Path) -> None:
    venv = checkout / ".venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    purelib = Path(subprocess.check_output([venv / "bin" / "python", "-c",
                                            "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                           text=True).strip())
    # The clone's own code first, then the dependencies already installed here.
    (purelib / "newsmon-checkout.pth").write_text(f"{checkout}\n{sysconfig.get_paths()['purelib']}\n", encoding="utf-8")
    entry = (REPO / ".venv" / "bin" / "newsmon").read_text(encoding="utf-8").split("\n", 1)[1]
    script = venv / "bin" / "newsmon"
    script.write_text(f"#!{venv}/bin/python\n{entry}", encoding="utf-8")
    script.chmod(0o755)


def test_the_wrapper_runs_a_fresh_checkouts_newsmon_from_any_folder(fresh_checkout, tmp_path):
    before = subprocess.run(["./newsmon", "--help"], cwd=fresh_checkout, capture_output=True, text=True)
    assert before.returncode == 1 and "make install" in before.stderr and str(fresh_checkout) in before.stderr

    _venv_from_this_one(fresh_checkout)
    env = {**os.environ, "PATH": "/usr/bin:/bin"}          # no venv activated, nothing on PATH
    env.pop("VIRTUAL_ENV", None)
    here = subprocess.run(["./newsmon", "--help"], cwd=fresh_checkout, env=env, capture_output=True, text=True)
    assert here.returncode == 0 and here.stdout.startswith("Usage: newsmon "), here.stderr
    assert "search" in here.stdout and "serve" in here.stdout
    link = tmp_path / "bin" / "newsmon"                     # ln -s …/newsmon ~/bin/newsmon
    link.parent.mkdir()
    link.symlink_to(fresh_checkout / "newsmon")
    elsewhere = subprocess.run([str(link), "search", "--help"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert elsewhere.returncode == 0 and elsewhere.stdout.startswith("Usage: newsmon search"), elsewhere.stderr
    code = subprocess.run([fresh_checkout / ".venv" / "bin" / "python", "-c", "import crawler; print(crawler.__file__)"],
                          cwd=tmp_path, env=env, capture_output=True, text=True)
    assert code.stdout.startswith(str(fresh_checkout)), code       # the clone's code, not this checkout's
