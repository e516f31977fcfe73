"""Generates the Python code of proto/ reproducibly: same protoc (pinned grpcio-tools), same flags, sorted inputs."""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
PROTO_ROOT = REPO / "proto"
OUTPUT_ROOT = REPO / "kernel" / "src"


def proto_files() -> list[Path]:
    return sorted(PROTO_ROOT.rglob("*.proto"))


def generate(output_root: Path = OUTPUT_ROOT) -> list[Path]:
    """Run protoc over every file in proto/; returns the generated files."""
    from grpc_tools import protoc  # a development tool, absent from service images

    files = [str(p.relative_to(PROTO_ROOT)) for p in proto_files()]
    args = ["protoc", f"-I{PROTO_ROOT}", f"--python_out={output_root}", f"--pyi_out={output_root}", *files]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed; see the messages above")
    return sorted(output_root.rglob("*_pb2.py*"))


def main() -> None:
    for path in generate():
        print(path.relative_to(REPO))


if __name__ == "__main__":
    sys.exit(main())
