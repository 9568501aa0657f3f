"""The baseline for ``ods-charter check --file``: the same library calls behind a
bare ``argparse`` parser, so the difference is what the CLI framework costs.

python benchmarks/bare_check.py --file PAGE [--config config/portal.toml]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(prog="bare-check")
    parser.add_argument("--file", "-f", type=Path, required=True)
    parser.add_argument("--config", "-c", type=Path, default=Path("config/portal.toml"))
    args = parser.parse_args()

    from ods_charter.charter import run_check
    from ods_charter.config import load_config
    from ods_charter.output import check_report
    from ods_charter.registry import load_registry
    from ods_charter.secrets import load_dotenv_file

    load_dotenv_file()
    config = load_config(args.config)
    registry = load_registry(config.registry_path)
    result = run_check(config, registry, languages=[registry.default_language], file=args.file)
    print(check_report(result, "text", registry))
    sys.exit(result.exit_code)


if __name__ == "__main__":
    main()
