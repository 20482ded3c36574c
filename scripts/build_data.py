"""Assemble the course benchmarks (BEIR layout) from the per-topic source files in data/sources/.

    python scripts/build_data.py          # writes data/ko_news/ and data/en_news/
    python scripts/build_data.py --check  # exits 1 if the built files differ from what the sources give

Each source file holds one category's documents, queries and graded judgments (see data/README.md). Queries are
split into dev/test deterministically: within each (category, type) group, sorted by id, alternately dev and
test, starting with dev in every other category, so each type and category is in both splits about equally
and no query is in both.
"""
from __future__ import annotations

import argparse
import io
import json
import sys
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "data" / "sources"


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip()


def build(name: str) -> dict[str, str]:
    docs, queries = [], []
    for path in sorted((SOURCES / name).glob("*.json")):
        src = json.loads(path.read_text(encoding="utf-8"))
        for d in src["documents"]:
            docs.append({"_id": d["id"], "title": _nfc(d["title"]), "text": _nfc(d["text"]),
                         "category": src["category"], "date": d["date"]})
        for q in src["queries"]:
            queries.append({"_id": q["id"], "text": _nfc(q["text"]), "type": q["type"], "category": src["category"],
                            "judgments": q["judgments"]})
    categories = sorted({q["category"] for q in queries})
    split = {}
    for cat_index, cat in enumerate(categories):
        for qtype in sorted({q["type"] for q in queries}):
            group = sorted(q["_id"] for q in queries if q["category"] == cat and q["type"] == qtype)
            for pos, qid in enumerate(group):  # alternate, and alternate the starting split per category
                split[qid] = "dev" if (cat_index + pos) % 2 == 0 else "test"
    out = {"corpus.jsonl": "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs),
           "queries.jsonl": "".join(json.dumps({k: q[k] for k in ("_id", "text", "type", "category")},
                                               ensure_ascii=False) + "\n" for q in queries)}
    for part in ("dev", "test"):
        buf = io.StringIO()
        buf.write("query-id\tcorpus-id\tscore\n")
        for q in queries:
            if split[q["_id"]] == part:
                for did, grade in sorted(q["judgments"].items(), key=lambda kv: (-kv[1], kv[0])):
                    buf.write(f"{q['_id']}\t{did}\t{grade}\n")
        out[f"qrels/{part}.tsv"] = buf.getvalue()
    return out


STATS_START, STATS_END = "<!-- stats:start -->", "<!-- stats:end -->"


def stats(name: str, files: dict[str, str]) -> str:
    """Markdown statistics of one built dataset (written into data/README.md between the stats markers)."""
    import re
    from collections import Counter

    docs = [json.loads(line) for line in files["corpus.jsonl"].splitlines()]
    queries = [json.loads(line) for line in files["queries.jsonl"].splitlines()]
    qsplit, grades = {}, Counter()
    for part in ("dev", "test"):
        for row in files[f"qrels/{part}.tsv"].splitlines()[1:]:
            qid, _, g = row.split("\t")
            qsplit[qid] = part
            grades[int(g)] += 1
    lengths = sorted(len(d["title"]) + len(d["text"]) for d in docs)
    sentences = [len(re.findall(r"[.!?](\s|$)", d["text"])) for d in docs]
    latin = sum(bool(re.search(r"[A-Za-z]", d["title"] + d["text"])) for d in docs)
    digits = sum(bool(re.search(r"\d", d["title"] + d["text"])) for d in docs)
    dates = sorted(d["date"] for d in docs)
    lines = [f"#### `{name}`", "",
             f"- 문서 {len(docs)}개, 질의 {len(queries)}개 (dev {sum(v == 'dev' for v in qsplit.values())}, "
             f"test {sum(v == 'test' for v in qsplit.values())}), 판정 {sum(grades.values())}개 "
             f"(2점 {grades[2]}, 1점 {grades[1]}, 0점 하드 네거티브 {grades[0]})",
             f"- 문서 길이(제목+본문, 글자): 중앙값 {lengths[len(lengths) // 2]}, 최소 {lengths[0]}, 최대 {lengths[-1]}; "
             f"본문 문장 수 {min(sentences)}-{max(sentences)}",
             f"- 라틴 문자가 섞인 문서 {latin}개 ({latin / len(docs):.0%}), 숫자가 있는 문서 {digits}개 "
             f"({digits / len(docs):.0%}); 날짜 {dates[0]} ~ {dates[-1]}", "",
             "| 분야 | 문서 | 질의 |", "|---|---:|---:|"]
    dc, qc = Counter(d["category"] for d in docs), Counter(q["category"] for q in queries)
    lines += [f"| {c} | {dc[c]} | {qc[c]} |" for c in sorted(dc)]
    types = sorted({q["type"] for q in queries})
    lines += ["", "| 질의 유형 | dev | test |", "|---|---:|---:|"]
    for t in types:
        ids = [q["_id"] for q in queries if q["type"] == t]
        lines.append(f"| {t} | {sum(qsplit[i] == 'dev' for i in ids)} | {sum(qsplit[i] == 'test' for i in ids)} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    stale = []
    blocks = []
    for name in sorted(p.name for p in SOURCES.iterdir() if p.is_dir()):
        built = build(name)
        blocks.append(stats(name, built))
        for rel, text in built.items():
            target = ROOT / "data" / name / rel
            if args.check:
                if not target.exists() or target.read_text(encoding="utf-8") != text:
                    stale.append(str(target.relative_to(ROOT)))
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text, encoding="utf-8")
                print(f"wrote {target.relative_to(ROOT)}")
    card = ROOT / "data" / "README.md"
    text = card.read_text(encoding="utf-8")
    head, rest = text.split(STATS_START, 1)
    _, tail = rest.split(STATS_END, 1)
    new = head + STATS_START + "\n" + "\n".join(blocks) + STATS_END + tail
    if args.check:
        if new != text:
            stale.append("data/README.md (statistics block)")
    elif new != text:
        card.write_text(new, encoding="utf-8")
        print("wrote data/README.md statistics")
    if stale:
        print("out of date (run python scripts/build_data.py):", *stale, sep="\n  ")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
