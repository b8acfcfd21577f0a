"""Benchmark the built-in CRM: caller identification p50/p99 and CSV import rate.

    python bench/crm_lookup.py [--sizes 10000,100000,1000000] [--lookups 3000]
                               [--import-rows 20000] [--keep DIR]

Prints a table; asserts nothing (timings belong here, never in tests). Contacts are
generated straight into the store's schema with executemany (one transaction), so a
million takes about a minute; lookups then go through LocalStore.identify exactly as the
app calls it, with numbers written the way agents and phone systems write them.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.crm.local.csv_io import import_csv
from app.crm.local.store import LocalStore, now_iso

FIRST = ["Matti", "Maija", "Ville", "Anna", "Juha", "Liisa", "Pekka", "Sari", "Timo", "Aino"]
LAST = ["Virtanen", "Korhonen", "Mäkinen", "Nieminen", "Mäkelä", "Hämäläinen", "Laine",
        "Heikkinen", "Koskinen", "Järvinen"]


def subscriber(i: int) -> str:
    """A distinct Finnish mobile number (E.164) for contact i; 045/050 spread the keys."""
    prefix = ("40", "41", "44", "45", "50")[i % 5]
    return f"+358{prefix}{(i * 7919) % 10_000_000:07d}"


def national(e164: str) -> str:
    rest = e164[4:]
    return f"0{rest[:2]} {rest[2:5]} {rest[5:]}"


def generate(path: Path, n: int) -> float:
    """Fill a fresh store with n contacts (every tenth has a second number); seconds taken."""
    with LocalStore(path) as store:
        store.counts()  # creates the schema
    started = time.perf_counter()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous = OFF")
    ts = now_iso()

    def contacts() -> Iterator[tuple]:
        for i in range(1, n + 1):
            first, last = FIRST[i % 10], LAST[(i // 10) % 10]
            yield (i, first, f"{last}{i}", f"{first.lower()}.{i}@example.fi", ts, ts)

    def phones() -> Iterator[tuple]:
        for i in range(1, n + 1):
            number = subscriber(i)
            yield (number, "contact", i, number)
            if i % 10 == 0:
                extra = f"+3589{i:08d}"
                yield (extra, "contact", i, extra)

    conn.execute("BEGIN")
    conn.executemany("INSERT INTO contacts (id, first_name, last_name, email, created_at, "
                     "modified_at) VALUES (?,?,?,?,?,?)", contacts())
    conn.executemany("INSERT OR IGNORE INTO phones (key, kind, record_id, number) "
                     "VALUES (?,?,?,?)", phones())
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.close()
    return time.perf_counter() - started


def lookups(store: LocalStore, n: int, count: int) -> tuple[list[float], int]:
    """Time identify() for `count` numbers: 80 % known (national format), 20 % unknown."""
    rng = random.Random(n)
    asked = [national(subscriber(rng.randint(1, n))) if rng.random() < 0.8
             else f"+35850{rng.randint(0, 9_999_999):07d}9" for _ in range(count)]
    store.identify(asked[0])  # open the connection outside the timing
    times, hits = [], 0
    for number in asked:
        t = time.perf_counter()
        result = store.identify(number)
        times.append((time.perf_counter() - t) * 1000)
        hits += result.count > 0
    return times, hits


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def import_rate(tmp: Path, rows: int) -> tuple[float, int]:
    csv_path = tmp / "import.csv"
    with csv_path.open("w", encoding="utf-8") as f:
        f.write("first_name,last_name,company,email,phone,mobile\n")
        for i in range(rows):
            company = f"Company {i // 20}" if i % 3 == 0 else ""
            f.write(f"{FIRST[i % 10]},{LAST[i % 10]}{i},{company},p{i}@example.fi,"
                    f"{national(subscriber(i + 1))},{'+358 9 ' + str(1000000 + i)}\n")
    with LocalStore(tmp / "import.sqlite3") as store:
        started = time.perf_counter()
        report = import_csv(store, csv_path)
        elapsed = time.perf_counter() - started
    return report.contacts / elapsed, len(report.skipped)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--lookups", type=int, default=3000)
    parser.add_argument("--import-rows", type=int, default=20000)
    parser.add_argument("--keep", type=Path, help="build the databases here and keep them")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]

    with tempfile.TemporaryDirectory(prefix="crm-bench-") as tmpdir:
        tmp = args.keep or Path(tmpdir)
        tmp.mkdir(parents=True, exist_ok=True)
        print(f"{'contacts':>10} | {'generate s':>10} | {'db MB':>7} | {'lookups':>7} | "
              f"{'hit %':>5} | {'p50 ms':>7} | {'p99 ms':>7} | {'max ms':>7}")
        print("-" * 82)
        for n in sizes:
            path = tmp / f"crm-{n}.sqlite3"
            path.unlink(missing_ok=True)
            generated = generate(path, n)
            with LocalStore(path) as store:
                times, hits = lookups(store, n, args.lookups)
            size_mb = sum(p.stat().st_size for p in tmp.glob(f"crm-{n}.sqlite3*")) / 1e6
            print(f"{n:>10,} | {generated:>10.1f} | {size_mb:>7.0f} | {len(times):>7} | "
                  f"{100 * hits / len(times):>5.0f} | {statistics.median(times):>7.3f} | "
                  f"{pct(times, 99):>7.3f} | {max(times):>7.3f}", flush=True)
        rate, skipped = import_rate(tmp, args.import_rows)
        print()
        print(f"CSV import: {args.import_rows:,} rows (2 numbers each, a third with a "
              f"company) at {rate:,.0f} rows/s; {skipped} rows skipped")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
