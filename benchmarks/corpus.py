"""Synthetic Pith corpus: N realistic records (and bundles) signed by a generated key.

    python benchmarks/corpus.py SITE_DIR --records 10000 [--bundles 100] [--seed 1]

Deterministic from ``--seed``: the same arguments give the same bytes. Titles
draw from a scientific vocabulary with TeX accents and inline math, authors
from name lists (some with affiliations), categories from real arXiv ones,
submission years 1993–2026 with old-style ids (``hep-lat/0305021``) before
2007. Writes ``SITE_DIR/content/records/*.json``, ``content/bundles/*.json``
and the key document ``content/keys/bench-2026.json`` (the only trusted key).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from pithfactory import key_document, make_bundle, make_record, signing_key

KEY_ID = "bench-2026"
KEY = signing_key("sitegen benchmark key")

WORDS = """adaptive algebraic asymptotic bayesian bounded causal coherent convex critical deep distributed
dynamical efficient entropic exact fast finite gauge geometric global graphical hierarchical holographic
inverse invariant kinetic large-scale lattice linear local low-rank manifold minimal modular neural
nonlinear optimal parallel perturbative probabilistic quantum random robust scalable sparse spectral
stochastic structured symmetric thermal topological uniform variational""".split()
NOUNS = """algorithm approximation attention bound boson channel classifier code condensate conjecture
correlation decoder dynamics embedding entanglement equation estimator field flow fluid gradient graph
inference instability learning limit manifold model network operator optimization oscillator phase
polynomial process regression representation sampling scattering solver spectrum state structure
superconductor symmetry system tensor theorem theory transformer transition turbulence""".split()
TEX = ["$\\pi=3+1/8$", "$d\\geq 3$", "$O(n\\log n)$", "$\\mathbb{Z}_2$", "$SU(N)$", "$\\ell_1$",
       "Schr\\\"odinger", "Erd\\H{o}s", "Poincar\\'e", "$\\alpha$-stable", "$k$-means", "$\\sqrt{T}$"]
FIRST = """Ada Alan Alice Amir Ana Bo Carlos Chen Dara Elena Emil Fatima Grace Hans Hiro Ines Ivan Jia Jonas
Kai Lena Li Maria Mei Nadia Noor Omar Pavel Priya Ravi Sara Sofia Tao Uma Wei Yara Yusuf Zoe""".split()
LAST = """Abe Bauer Chen Costa Dubois Ekström Fischer Garcia Gupta Haddad Ito Jensen Kim Kowalski Li Lopez
Müller Nakamura Novak Okafor Petrov Quinn Rossi Sato Schmidt Silva Singh Tanaka Ueda Volkov Wang Weber
Yilmaz Zhang""".split()
AFFILIATIONS = ["Department of Physics, University of Vienna", "Institute for Advanced Study",
                "CERN", "Max Planck Institute for Mathematics", "Google Research"]
CATEGORIES = """cs.LG cs.CV cs.CL cs.DC cs.AI stat.ML math.CO math.PR math.AP math-ph hep-th hep-lat hep-ph
quant-ph cond-mat.str-el cond-mat.stat-mech astro-ph.CO astro-ph.GA gr-qc q-bio.NC econ.EM""".split()
OLD_ARCHIVES = ["hep-th", "hep-lat", "hep-ph", "astro-ph", "cond-mat", "math", "quant-ph", "gr-qc"]


def _title(rng: random.Random) -> str:
    words = [rng.choice(WORDS).capitalize(), rng.choice(NOUNS), "for", rng.choice(WORDS), rng.choice(NOUNS)]
    if rng.random() < 0.35:
        words.insert(rng.randrange(1, len(words)), rng.choice(TEX))
    if rng.random() < 0.3:
        words += ["via", rng.choice(WORDS), rng.choice(NOUNS) + "s"]
    return " ".join(words)


def _authors(rng: random.Random) -> str:
    names = []
    for _ in range(rng.choice([1, 2, 2, 3, 3, 4, 5, 8])):
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        if rng.random() < 0.08:
            name += f" ({rng.choice(AFFILIATIONS)})"
        names.append(name)
    return ", ".join(names)


def document(i: int, rng: random.Random, *, bundle: bool) -> dict:
    year = rng.randint(1993, 2026)
    month = rng.randint(1, 12)
    if year < 2007:
        arxiv_id = f"{rng.choice(OLD_ARCHIVES)}/{year % 100:02d}{month:02d}{i % 1000:03d}"
    else:
        arxiv_id = f"{year % 100:02d}{month:02d}.{i % 100000:05d}"
    primary = rng.choice(CATEGORIES)
    cross = tuple(sorted(set(rng.sample(CATEGORIES, rng.choice([0, 0, 1, 1, 2, 3]))) - {primary}))
    title = _title(rng)
    kw = dict(sk=KEY, key_id=KEY_ID, arxiv_id=arxiv_id, version=rng.choice([1, 1, 1, 2, 3]), title=title,
              submitted_at=f"{year}-{month:02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:00:00Z",
              primary_cat=primary, cross_cats=cross,
              license=rng.choice(["", "http://arxiv.org/licenses/nonexclusive-distrib/1.0/",
                                  "http://creativecommons.org/licenses/by/4.0/"]) if year >= 2008 else "",
              authors=_authors(rng),
              abstract=f"We study {title.lower()} and show that {rng.choice(WORDS)} {rng.choice(NOUNS)}s "
                       f"admit a {rng.choice(WORDS)} {rng.choice(NOUNS)}.")
    return make_bundle(**kw) if bundle else make_record(**kw)


def generate(site: Path, *, records: int, bundles: int = 0, seed: int = 1, start: int = 0) -> int:
    """Write documents ``start`` … ``start + records + bundles - 1`` under
    ``site/content`` (the last ``bundles`` of them as bundles); returns how many."""
    content = site / "content"
    for sub in ("records", "bundles", "keys"):
        (content / sub).mkdir(parents=True, exist_ok=True)
    (content / "keys" / f"{KEY_ID}.json").write_text(json.dumps(key_document(KEY, KEY_ID), indent=2) + "\n")
    for i in range(start, start + records + bundles):
        rng = random.Random(f"{seed}:{i}")
        is_bundle = i - start >= records
        doc = document(i, rng, bundle=is_bundle)
        folder = "bundles" if is_bundle else "records"
        (content / folder / f"{i:08d}.json").write_bytes(json.dumps(doc, ensure_ascii=False).encode())
    return records + bundles


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("site", type=Path)
    p.add_argument("--records", type=int, default=1000)
    p.add_argument("--bundles", type=int, default=0)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    n = generate(args.site, records=args.records, bundles=args.bundles, seed=args.seed)
    print(f"wrote {n} documents to {args.site / 'content'}")


if __name__ == "__main__":
    main()
