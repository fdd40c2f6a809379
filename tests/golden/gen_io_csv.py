#!/usr/bin/env python3
"""Golden data for tests/csv_test.cpp: CSV files written by numpy.savetxt, each with the
same table saved as .npy (which nx reads with load_npy) to compare against.

  table.csv   header "id,x,y,big", ',' delimited: an integer column (%d) and float columns
              written with %.17g (exact round trip) and %.6e (the .npy holds the rounded
              values), including huge, tiny, negative and negative-zero values.
  table.npy   the same values as f64, shape (rows, 4).
  noheader.tsv  the float columns only, tab delimited, no header (%.17g); noheader.npy.

Run:  python3 -m venv .venv && .venv/bin/pip install numpy && .venv/bin/python tests/golden/gen_io_csv.py
"""
import os

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "io_csv")


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.RandomState(7)
    rows = 24
    ids = np.arange(rows, dtype=np.int64) * 37 - 400
    x = rng.standard_normal(rows) * 10.0 ** rng.randint(-5, 6, rows)
    y = np.array([float("%.6e" % v) for v in rng.uniform(-1e4, 1e4, rows)])
    big = rng.standard_normal(rows)
    big[:4] = [1.7976931348623157e308, -2.2250738585072014e-308, 5e-324, -0.0]
    table = np.stack([ids.astype(np.float64), x, y, big], axis=1)
    np.savetxt(os.path.join(OUT, "table.csv"), table, fmt=["%d", "%.17g", "%.6e", "%.17g"],
               delimiter=",", header="id,x,y,big", comments="")
    np.save(os.path.join(OUT, "table.npy"), table)
    floats = table[:, 1:]
    np.savetxt(os.path.join(OUT, "noheader.tsv"), floats, fmt="%.17g", delimiter="\t")
    np.save(os.path.join(OUT, "noheader.npy"), floats)


if __name__ == "__main__":
    main()
