"""Installs tests/fake_dns.py's resolver in a test's child process (see that module)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import fake_dns  # noqa: E402

fake_dns.install_from_env()
sys.path.pop(0)
