"""A real PostgreSQL server for the tests: the one .ci/run started (CLINICSIM_TEST_POSTGRES),
else a throwaway cluster started here by tools/postgres.sh. Skipped only when no server
binary is installed; a server that is installed but cannot start fails the tests."""

import glob
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def postgres_url():
    url = os.environ.get("CLINICSIM_TEST_POSTGRES")
    if url:
        yield url
        return
    if not (shutil.which("pg_config") or glob.glob("/usr/lib/postgresql/*/bin/initdb")):
        pytest.skip("no PostgreSQL server binary (initdb) installed: apt-get install postgresql")
    script = ROOT / "tools" / "postgres.sh"
    started = subprocess.run(["bash", str(script), "start"], capture_output=True, text=True,
                             timeout=120)
    assert started.returncode == 0, f"PostgreSQL is installed but did not start:\n" \
                                    f"{started.stderr}"
    env = dict(line.removeprefix("export ").split("=", 1)
               for line in started.stdout.splitlines())
    try:
        yield env["CLINICSIM_TEST_POSTGRES"]
    finally:
        subprocess.run(["bash", str(script), "stop"], env={**os.environ, **env},
                       capture_output=True, timeout=120)
