"""Generated code is committed: scripts/generate, run into a copy of the tree, must reproduce it exactly."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support import require_tools, unavailable

ROOT = Path(__file__).parents[1]

OUTPUTS = {
    "python": ["server/credvault/v1", "clients/python/src/credvault_client/v1"],
    "node": ["clients/node/proto", "clients/node/types/generated"],
    "go": ["clients/go/credvault/v1"],
}
TOOLS = {
    "python": ((), ""),
    "node": (("node",), "nodejs; npm ci in clients/node"),
    "go": (
        ("protoc", "protoc-gen-go", "protoc-gen-go-grpc"),
        "apt-get install protobuf-compiler protoc-gen-go protoc-gen-go-grpc",
    ),
}


@pytest.mark.parametrize("target", OUTPUTS)
def test_generated_code_is_up_to_date(target: str, tmp_path: Path) -> None:
    tools, hint = TOOLS[target]
    require_tools(*tools, hint=hint)
    copy = tmp_path / "tree"
    shutil.copytree(ROOT / "protos", copy / "protos")
    shutil.copytree(ROOT / "scripts", copy / "scripts")
    if target == "node":
        modules = ROOT / "clients/node/node_modules"
        if not modules.is_dir():
            unavailable("clients/node/node_modules missing: run npm ci in clients/node")
        (copy / "clients/node").mkdir(parents=True)
        (copy / "clients/node/node_modules").symlink_to(modules)
    subprocess.run(
        [str(copy / "scripts/generate"), target],
        check=True,
        timeout=120,
        env={**os.environ, "PYTHON": sys.executable},
    )
    for output in OUTPUTS[target]:
        diff = subprocess.run(
            [
                "diff",
                "-r",
                "-u",
                "-x",
                "__pycache__",
                "-x",
                "node_modules",
                str(ROOT / output),
                str(copy / output),
            ],
            capture_output=True,
            text=True,
        )
        assert diff.returncode == 0, (
            f"{output} is stale: run scripts/generate and commit\n{diff.stdout[-4000:]}"
        )
