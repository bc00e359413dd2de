"""The model letters through our pipeline against bare weasyprint, in one run.

- one letter: `render_letter` (mentions checked, jinja2 template, offline URL fetcher, the
  shipped fonts) against `weasyprint.HTML(string=…).write_pdf()` of the same HTML, with the
  same stylesheet and fonts and weasyprint's default fetcher; median of N runs, interleaved;
- a batch of 100 rejection letters: the mail-merge (analysis CSV read, one letter per
  non-retained bidder) and their rendering, against bare weasyprint on the same 100 HTMLs.
Prints the medians and the ratios (target ≤ 1.2× bare weasyprint per document). Not a test.

    python bench/letters.py [--runs 21] [--batch 100] [--batch-runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # runnable from anywhere

from weasyprint import HTML

from messagerie.letters.pdf.documents import (
    RejectionLetter,
    letter_html,
    rejection_letters,
    render_letter,
)
from messagerie.letters.pdf.render import TEMPLATES_DIR
from messagerie.models.messages.merge import read_analysis, rejected_bids
from tests.helpers.letters import CONSULTATION  # the letters' tests' consultation

SENT = date(2026, 3, 2)
LOT = ("Lot n°1 - Chocolat au lait",)


def analysis_csv(bidders: int) -> bytes:
    """One lot: the retained offer, then `bidders` rejected ones, each with its own reasons."""
    rows = ["entreprise;lot;note;rang;motifs", "Chocolaterie Müller SAS;1;18,5;1;Meilleure offre."]
    rows += [
        f"Entreprise n°{n} SARL;1;{18 - n * 0.1:.1f}".replace(".", ",")
        + f";{n + 1};Prix supérieur de {n} % à l'offre retenue ; délais plus longs."
        for n in range(1, bidders + 1)
    ]
    return "\n".join(rows).encode()


def merged_letters(bidders: int) -> tuple[RejectionLetter, ...]:
    rows = read_analysis(analysis_csv(bidders))
    bids = rejected_bids(rows, "Chocolaterie Müller SAS")
    return rejection_letters(bids, consultation=CONSULTATION, dated=SENT, lots=LOT)


def bare(html: str) -> bytes:
    pdf = HTML(string=html, base_url=TEMPLATES_DIR.as_uri() + "/").write_pdf()
    assert pdf is not None
    return pdf


def timed(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--batch-runs", type=int, default=3)
    options = parser.parse_args()

    (letter,) = merged_letters(1)
    html = letter_html(letter)
    # Warm up: the first document of a process pays for loading fonts and caches.
    render_letter(letter)
    bare(html)

    ours, theirs = [], []
    for _ in range(options.runs):  # interleaved, so both see the same machine load
        ours.append(timed(lambda: render_letter(letter)))
        theirs.append(timed(lambda: bare(html)))
    one_ours, one_bare = statistics.median(ours), statistics.median(theirs)
    print(f"One rejection letter, median of {options.runs} runs:")
    print(f"  pipeline (render_letter)   {one_ours * 1000:7.1f} ms")
    print(f"  bare weasyprint            {one_bare * 1000:7.1f} ms")
    print(f"  ratio                      {one_ours / one_bare:7.2f}× (target ≤ 1.2×)")

    htmls = [letter_html(each) for each in merged_letters(options.batch)]
    batch_ours, batch_bare = [], []
    for _ in range(options.batch_runs):
        batch_ours.append(
            timed(lambda: [render_letter(each) for each in merged_letters(options.batch)])
        )
        batch_bare.append(timed(lambda: [bare(each) for each in htmls]))
    total_ours, total_bare = statistics.median(batch_ours), statistics.median(batch_bare)
    print(f"Mail-merge of {options.batch} rejection letters, median of {options.batch_runs} runs:")
    print(
        f"  pipeline (CSV → letters → PDFs) {total_ours:6.2f} s "
        f"({total_ours / options.batch * 1000:.1f} ms per letter)"
    )
    print(
        f"  bare weasyprint (same HTML)     {total_bare:6.2f} s "
        f"({total_bare / options.batch * 1000:.1f} ms per letter)"
    )
    print(f"  ratio                           {total_ours / total_bare:6.2f}× (target ≤ 1.2×)")


if __name__ == "__main__":
    main()
