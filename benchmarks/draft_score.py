"""Score the figure drafter (`make draft`) on articles whose figures are known.

    python -m benchmarks.draft_score [ARTICLE.txt ...] [--no-seed] [-v]

The scoring itself is orchestration/figures/scoring.py (the tests hold the drafter to its
targets with it); this prints it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from orchestration.figures.scoring import (
    ARTICLES_DIR,
    report,
    score_article,
    seed_article,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("articles", nargs="*", type=Path, help="article texts (<name>.txt)")
    parser.add_argument("--no-seed", action="store_true", help="leave the seed article out")
    parser.add_argument("-v", "--verbose", action="store_true", help="list misses and strays")
    args = parser.parse_args(argv)
    paths = args.articles or sorted(ARTICLES_DIR.glob("*.txt"))
    scores = [score_article(p) for p in paths]
    if not args.articles and not args.no_seed:
        seed = seed_article()
        if seed is None:
            print("the seed article is not on this machine: not scored", file=sys.stderr)
        else:
            seed_score = score_article(*seed)
            seed_score.name = "seed (hedgehog-2025-03-27)"
            scores.append(seed_score)
    print(report(scores, args.verbose))
    return 0


if __name__ == "__main__":
    sys.exit(main())
