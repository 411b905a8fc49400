"""No secret in the repository: tracked files are scanned for the shapes secrets take."""

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PATTERNS = {
    "private key": re.compile(r"-----BEGIN (?:RSA |EC |OPENSSH |DSA |PGP )?PRIVATE KEY-----"),
    "AWS access key": re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"),
    "Slack token": re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),
    "password in a URL": re.compile(r"\b[a-z][a-z0-9+]*://[^/\s:@'\"]+:(?!\$|\{|<)[^/\s:@'\"]{3,}@"),
    "assigned secret": re.compile(
        r"""(?i)\b(?:secret[_-]?key|api[_-]?key|password|passwd|token|hmac[_-]?secret)\b['"]?\s*[:=]\s*['"]([^'"\s]{12,})['"]"""
    ),
}
# Values that are plainly not secrets: test and debug placeholders, documented examples.
ALLOWED = re.compile(
    r"(?i)insecure|test-only|not-for-production|example|dummy|placeholder|changeme|rahasia-kuat"
    r"|:(?:pass|password|secret|\.\.\.|\*+|x+)@"  # documented URL shapes: postgres://user:pass@host
)
THIS_FILE = Path(__file__).resolve().relative_to(ROOT).as_posix()  # holds the planted samples


# Test data: passwords typed into sign-up forms in tests are not secrets of any system.
TEST_DATA_EXEMPT = {"assigned secret"}


def scan(text: str, *, test_data: bool = False) -> list[str]:
    found = []
    for name, pattern in PATTERNS.items():
        if test_data and name in TEST_DATA_EXEMPT:
            continue
        for match in pattern.finditer(text):
            if not ALLOWED.search(match.group(0)):
                found.append(f"{name}: {match.group(0)[:40]}")
    return found


def tracked_files():
    out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in out.decode().split("\0"):
        path = ROOT / name
        if name and path.is_file() and path.stat().st_size < 2_000_000 and "/vendor/" not in name:
            yield name, path


def test_scanner_finds_planted_secrets():
    planted = [
        'SECRET_KEY = "k8#n2!vq-9x$w@r7zp&m3y^t5u0b6c1d"',
        "DATABASE_URL=postgres://mpaspor:S3cr3tPassw0rd@db.internal:5432/mpaspor",
        "aws_key = AKIAIOSFODNN7QWERTY1",
        "-----BEGIN RSA PRIVATE KEY-----",
        '"api_key": "9f86d081884c7d659a2feaa0c55ad015"',
    ]
    for line in planted:
        assert scan(line), line
    assert not scan('SECRET_KEY = env("DJANGO_SECRET_KEY")')
    assert not scan("postgres://postgres@127.0.0.1:5432/mpaspor")
    assert not scan("DATABASE_URL=postgres://user:pass@db:5432/mpaspor")
    assert not scan('{"password": "Paspor-Baru-2025"}', test_data=True)
    assert scan("-----BEGIN RSA PRIVATE KEY-----", test_data=True)  # a key is a key, in tests too


def test_no_secret_in_tracked_files():
    problems = []
    for name, path in tracked_files():
        if name == THIS_FILE:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        problems += [f"{name}: {p}" for p in scan(text, test_data=name.startswith("tests/"))]
    assert not problems, "\n".join(problems)


def test_no_env_file_tracked():
    names = {name for name, _ in tracked_files()}
    assert ".env" not in names and not any(n.endswith((".pem", ".key", ".p12")) for n in names)
