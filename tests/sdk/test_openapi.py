"""The OpenAPI document is honest: it is a valid OpenAPI document (openapi-spec-validator), and
schemathesis, driving every operation of the running server from it with `--checks all`, finds
no failure of any check (status codes, content types, response schemas and headers, negative and
positive data, authentication, unsupported methods). The number of examples is bounded so the
run takes a few minutes; SCHEMATHESIS_MAX_EXAMPLES raises it for a longer local run."""

import os
import subprocess
import sys

import requests
from openapi_spec_validator import validate

from conftest import ROOT, Server

CONFIG = os.path.join(ROOT, "tests", "api", "schemathesis.toml")


def test_openapi_document_is_valid():
    s = Server()
    try:
        doc = requests.get(s.base + "/openapi.json", timeout=10).json()
    finally:
        s.stop()
    validate(doc)
    ids = [op["operationId"] for item in doc["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids)), "operationIds are unique"
    assert set(doc["components"]["securitySchemes"]) == {"bearer", "oauth2"}


def test_schemathesis_finds_no_failure():
    scratch = os.path.join(ROOT, "target")
    os.makedirs(scratch, exist_ok=True)
    s = Server({"SWITCHYARD_AUTH__RATE_LIMIT__REQUESTS": "1000000"})
    try:
        token = s.token(scopes="admin metrics:read")
        cli = os.path.join(os.path.dirname(sys.executable), "schemathesis")
        examples = os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "25")
        run = subprocess.run(
            [cli, "--no-color", "--config-file", CONFIG, "run", s.base + "/openapi.json",
             "--checks", "all", "--max-examples", examples, "--seed", os.environ.get("SCHEMATHESIS_SEED", "1"),
             "--request-timeout", "30", "-H", f"Authorization: Bearer {token}"],
            # Its crash cache goes under target/, not into the source tree.
            cwd=scratch, capture_output=True, text=True, timeout=1200)
    finally:
        s.stop()
    out = run.stdout + run.stderr
    # Keep the report where CI and developers can read it after the run.
    report = os.path.join(scratch, "schemathesis-report.txt")
    with open(report, "w") as f:
        f.write(out)
    print("\n".join(out.splitlines()[-12:]))
    assert run.returncode == 0, out[-20000:]
