"""Writes examples/tabular/penguins.csv, the numeric copy of the Palmer penguins data that
examples/tabular/tabular.cpp reads (nx::io::load_csv reads numbers only).

Source: the Palmer penguins data set (Horst, Hill and Gorman, 2020; data collected by
Dr. Kristen Gorman and the Palmer Station LTER), released under CC0 1.0. This copy is
data/penguins.csv of the PyPI package palmerpenguins 0.1.6 (the package's code is MIT):

    pip install palmerpenguins==0.1.6
    python examples/tabular/make_penguins_csv.py

The 344 rows, their order and the measurements are unchanged. The text columns become
integer codes:

    species  0 Adelie, 1 Chinstrap, 2 Gentoo
    island   0 Biscoe, 1 Dream, 2 Torgersen
    sex      0 female, 1 male

and every missing value stays NA (2 rows lack all measurements, 11 lack sex): the
example imputes them.
"""
import csv
import pathlib
from importlib import resources

SPECIES = {"Adelie": 0, "Chinstrap": 1, "Gentoo": 2}
ISLAND = {"Biscoe": 0, "Dream": 1, "Torgersen": 2}
SEX = {"female": 0, "male": 1}
CODES = {"species": SPECIES, "island": ISLAND, "sex": SEX}


def main():
    source = resources.files("palmerpenguins") / "data" / "penguins.csv"
    target = pathlib.Path(__file__).resolve().parent / "penguins.csv"
    with source.open(newline="") as f:
        rows = list(csv.DictReader(f))
    columns = list(rows[0].keys())
    with target.open("w", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(columns)
        for row in rows:
            values = []
            for name in columns:
                value = row[name]
                if value == "NA":
                    values.append("NA")
                elif name in CODES:
                    values.append(CODES[name][value])  # KeyError on a value not listed above
                else:
                    values.append(value)
            out.writerow(values)
    print(f"wrote {len(rows)} rows to {target}")


if __name__ == "__main__":
    main()
