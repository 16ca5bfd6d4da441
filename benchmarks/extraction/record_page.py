"""Record a stored page case: tests/pages/<site>/<case>/{body.html,info.json,expected.json}.

Example:
    python benchmarks/extraction/record_page.py shanxi 1 page.html --url https://www.shanxi.gov.cn/...

The raw bytes are copied as they are; expected.json is pre-filled from the
current extraction (title, published, first/last paragraph as ``with``) and
must be reviewed by hand before it is committed: it is gold, not a snapshot.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from pipelines.extract import extract_article  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("site")
    ap.add_argument("case")
    ap.add_argument("file", type=Path)
    ap.add_argument("--url", required=True)
    ap.add_argument("--content-type", default="text/html")
    args = ap.parse_args()
    out = ROOT / "tests" / "pages" / args.site / args.case
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(args.file, out / "body.html")
    info = {"url": args.url, "headers": {"Content-Type": args.content_type}}
    (out / "info.json").write_text(json.dumps(info, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    expected_path = out / "expected.json"
    if not expected_path.exists():
        art = extract_article(args.file.read_bytes(), args.url, info["headers"])
        lines = art.text.split("\n")
        expected = {"title": art.title, "published": (art.published or "")[:10] or None,
                    "spam": art.spam, "with": [lines[0][:30], lines[-1][:30]], "without": []}
        expected_path.write_text(json.dumps(expected, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(out)


if __name__ == "__main__":
    main()
