"""Generate the Python gRPC code for protos/ into tensorkart_core.proto (`make proto`).

`--check` regenerates into a temporary folder and fails when the committed code differs,
so CI catches stale generated code.
"""

from __future__ import annotations

import argparse
import filecmp
import re
import shutil
import sys
import tempfile
from pathlib import Path

from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTO_ROOT = ROOT / "protos"
OUT_PACKAGE = ROOT / "core" / "tensorkart_core" / "proto"
# protoc writes imports as the proto path (`from tensorkart.v1 import x_pb2`); the code
# lives inside our shared package instead.
IMPORT_FIX = (re.compile(r"^from tensorkart\.v1 import", re.M), "from tensorkart_core.proto.v1 import")


def generate(out_dir: Path) -> None:
    protos = sorted(str(p.relative_to(PROTO_ROOT)) for p in PROTO_ROOT.rglob("*.proto"))
    args = [
        "protoc",
        f"-I{PROTO_ROOT}",
        f"-I{Path(protoc.__file__).parent / '_proto'}",
        f"--python_out={out_dir}",
        f"--pyi_out={out_dir}",
        f"--grpc_python_out={out_dir}",
        *protos,
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    generated = out_dir / "tensorkart" / "v1"
    target = out_dir / "v1"
    generated.rename(target)
    shutil.rmtree(out_dir / "tensorkart")
    for path in target.iterdir():
        path.write_text(IMPORT_FIX[0].sub(IMPORT_FIX[1], path.read_text()))
    (target / "__init__.py").write_text('"""Generated protobuf and gRPC code for tensorkart.v1 (do not edit)."""\n')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if the committed code is stale")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        generate(Path(tmp))
        fresh = Path(tmp) / "v1"
        current = OUT_PACKAGE / "v1"
        if args.check:
            names = sorted(p.name for p in fresh.iterdir())
            have = sorted(p.name for p in current.iterdir() if p.is_file()) if current.exists() else []
            _match, mismatch, errors = filecmp.cmpfiles(fresh, current, names, shallow=False)
            if mismatch or errors or names != have:
                print(f"generated code is stale: {mismatch + errors or 'file list differs'}; run `make proto`")
                return 1
            print("generated code is up to date")
            return 0
        if current.exists():
            shutil.rmtree(current)
        shutil.copytree(fresh, current)
    print(f"generated {current.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
