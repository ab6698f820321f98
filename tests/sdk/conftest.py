"""Fixtures for SDK compatibility tests: a real `switchyard serve` process on a free port with a
fresh data directory, stopped with SIGTERM after the test module."""

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

import pytest
import requests

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("SWITCHYARD_BIN", os.path.join(ROOT, "target", "debug", "switchyard"))


class Server:
    def __init__(self, extra_env=None):
        self.data_dir = tempfile.mkdtemp(prefix="switchyard-sdk-")
        env = dict(os.environ)
        env.update({"SWITCHYARD_LISTEN": "127.0.0.1:0", "SWITCHYARD_DATA_DIR": self.data_dir,
                    "RUST_LOG": "info", "SWITCHYARD_ALLOW_NETWORKS": "127.0.0.0/8,::1"})
        env.update(extra_env or {})
        self.log_path = os.path.join(self.data_dir, "server.log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([BIN, "serve"], env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.base = self._wait_for_address()

    def _wait_for_address(self):
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("server exited early:\n" + open(self.log_path).read())
            m = re.search(r"listening on (http://[0-9.:]+)", open(self.log_path).read())
            if m:
                base = m.group(1)
                if requests.get(base + "/readyz", timeout=5).status_code == 200:
                    return base
            time.sleep(0.05)
        raise RuntimeError("server did not start:\n" + open(self.log_path).read())

    def cli(self, *args):
        """Runs a `switchyard` admin command against this server's data dir; returns the last stdout line."""
        out = subprocess.run([BIN, *args, "--data-dir", self.data_dir], check=True, capture_output=True, text=True)
        return out.stdout.strip().splitlines()[-1]

    def token(self, scopes="admin", instance="default", ttl="1h"):
        """A bearer token minted with the server's JWT secret (`switchyard token`)."""
        return self.cli("token", "--instance", instance, "--scopes", scopes, "--ttl", ttl)

    def create_client(self, scopes="admin", instance="default", rate_limit=None, producer_rate_limit=None):
        """Registers an OAuth2 client (`switchyard clients create`); returns (client_id, client_secret)
        for the client-credentials flow at `{base}/oauth/token`."""
        args = ["clients", "create", "--instance", instance, "--scopes", scopes]
        if rate_limit:
            args += ["--rate-limit", rate_limit]
        if producer_rate_limit:
            args += ["--producer-rate-limit", producer_rate_limit]
        created = json.loads(self.cli(*args))
        return created["clientId"], created["clientSecret"]

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()
        shutil.rmtree(self.data_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def server():
    s = Server()
    yield s
    s.stop()
