#!/usr/bin/env python3
"""Writes bench/RESULTS.md from the JSON lines of bench/run.sh --compare.

Each line is one p11bench run tagged with "module" (wsop, softhsm, p11kit),
"case" and "run". Every figure is the median over the runs of one module
and case, taken figure by figure (the median ops/s and the median p99 may
come from different runs). The table puts our figure beside each peer's,
the speed ratio to each (above 1: we are faster or cheaper), and the
target of the performance work with met / not met.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
from datetime import datetime, timezone

MODULES = ("wsop", "softhsm", "p11kit")
MIB = 1024 * 1024


def load(path):
    runs = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            r = json.loads(line)
            if "module" in r and "case" in r:
                runs.setdefault((r["module"], r["case"]), []).append(r)
    return runs


class Figures:
    """The median of each figure over the runs of one module and case."""

    def __init__(self, rows):
        self.rows = rows

    def med(self, key):
        vals = [r[key] for r in self.rows if r.get(key) is not None]
        return statistics.median(vals) if vals else None

    def spread(self, key):
        vals = [r[key] for r in self.rows if r.get(key) is not None]
        return (min(vals), max(vals)) if vals else (None, None)

    @property
    def ops(self):
        return self.med("ops_per_sec")

    @property
    def mib(self):
        vals = [r["ops_per_sec"] * r["size"] / MIB for r in self.rows]
        return statistics.median(vals) if vals else None

    @property
    def errors(self):
        return sum(r.get("errors", 0) for r in self.rows)

    @property
    def mechanism(self):
        return self.rows[0].get("mechanism") if self.rows else None


def get(runs, module, case):
    rows = runs.get((module, case))
    return Figures(rows) if rows else None


def num(v, digits=0):
    return "—" if v is None else f"{v:,.{digits}f}"


def us_or_ms(us):
    if us is None:
        return "—"
    return f"{us / 1000:,.1f} ms" if us >= 1000 else f"{us:,.0f} µs"


def ecb_mark(f):
    return " (ECB)" if f is not None and f.mechanism == "ecb" else ""


def ratio(ours, peer, higher_better):
    """Our speed relative to the peer: rates ours/theirs, times theirs/ours."""
    if ours is None or peer is None or ours <= 0 or peer <= 0:
        return "—"
    r = ours / peer if higher_better else peer / ours
    return f"{r:.2f}×" if r >= 0.1 else f"{r:.2g}×"


def met(ok):
    if ok is None:
        return "not measured"
    return "**met**" if ok else "not met"


def row_16(runs, case, target_ops, target_lat, lat_key, target_text):
    cells = []
    for m in MODULES:
        f = get(runs, m, case)
        if f is None:
            cells.append("—")
            continue
        lat = f"p50 {us_or_ms(f.med('p50_us'))}, p99 {us_or_ms(f.med('p99_us'))}"
        cells.append(f"{num(f.ops)} ops/s, {lat}{ecb_mark(f)}")
    ours = get(runs, "wsop", case)
    ratios = [ratio(ours and ours.ops, get(runs, m, case) and get(runs, m, case).ops, True)
              for m in MODULES[1:]]
    ok = None if ours is None else (ours.ops >= target_ops and ours.med(lat_key) <= target_lat)
    return cells + ratios + [target_text, met(ok)]


def row_64k(runs, case, target_mib, target_p99_us, target_text):
    cells = []
    for m in MODULES:
        f = get(runs, m, case)
        cells.append("—" if f is None else
                     f"{num(f.mib, 1)} MiB/s, p99 {us_or_ms(f.med('p99_us'))}{ecb_mark(f)}")
    ours = get(runs, "wsop", case)
    ratios = [ratio(ours and ours.mib, get(runs, m, case) and get(runs, m, case).mib, True)
              for m in MODULES[1:]]
    ok = None
    if ours is not None:
        ok = ours.mib >= target_mib and (target_p99_us is None or
                                         ours.med("p99_us") <= target_p99_us)
    return cells + ratios + [target_text, met(ok)]


def row_p50(runs, case, target_us, target_text, ours_case=None):
    cells = []
    for m in MODULES:
        f = get(runs, m, ours_case if (m == "wsop" and ours_case) else case)
        cells.append("—" if f is None else f"p50 {us_or_ms(f.med('p50_us'))}")
    ours = get(runs, "wsop", ours_case or case)
    p50 = ours and ours.med("p50_us")
    ratios = [ratio(p50, get(runs, m, case) and get(runs, m, case).med("p50_us"), False)
              for m in MODULES[1:]]
    if target_us is None:
        return cells + ratios + [target_text, ""]
    ok = None if p50 is None else p50 <= target_us
    return cells + ratios + [target_text, met(ok)]


def row_keygen(runs):
    cells = []
    for m in MODULES:
        figs = [get(runs, m, c) for c in ("gen1", "gen2", "gen8")]
        if all(f is None for f in figs):
            cells.append("—")
            continue
        cells.append(" / ".join(num(f and f.ops) for f in figs) + " keys/s")
    ours = get(runs, "wsop", "gen8")
    ratios = [ratio(ours and ours.ops, get(runs, m, "gen8") and get(runs, m, "gen8").ops, True)
              for m in MODULES[1:]]
    ok = None if ours is None else (ours.ops >= 1500 and ours.errors == 0)
    return cells + ratios + ["≥ 1,500/s with 8 threads, every CKR_OK key durable", met(ok)]


def row_bulk(runs):
    cells, ratios = [], []
    for m in MODULES:
        e, d = get(runs, m, "bulkenc"), get(runs, m, "bulkdec")
        cells.append("—" if e is None or d is None else
                     f"enc {num(e.mib, 1)}, dec {num(d.mib, 1)} MiB/s{ecb_mark(e)}")
    oe, od = get(runs, "wsop", "bulkenc"), get(runs, "wsop", "bulkdec")
    for m in MODULES[1:]:
        pe, pd = get(runs, m, "bulkenc"), get(runs, m, "bulkdec")
        ratios.append(f"{ratio(oe and oe.mib, pe and pe.mib, True)} / "
                      f"{ratio(od and od.mib, pd and pd.mib, True)}")
    ok = None if oe is None or od is None else (oe.mib >= 150 and od.mib >= 150)
    return cells + ratios + ["≥ 150 MiB/s (1 thread)", met(ok)]


def median_run(f, key):
    """The run whose figure is the median (the lower middle one for an even
    count), so that its parts add up to the figure shown."""
    rows = sorted((r for r in f.rows if r.get(key) is not None), key=lambda r: r[key])
    return rows[(len(rows) - 1) // 2] if rows else None


def cpu_cell(f, module):
    r = f and median_run(f, "cpu_us_per_op")
    if r is None or not r.get("ops"):
        return "—"
    parts = {"wsop": ("app", "helper", "wsopd"), "softhsm": ("app", None, None),
             "p11kit": ("app", None, "server")}[module]
    detail = [f"{name} {r[key] * 1e6 / r['ops']:,.0f}"
              for name, key in zip(parts, ("cpu_self_s", "cpu_children_s", "cpu_others_s"))
              if name is not None]
    return f"{r['cpu_us_per_op']:,.1f} µs ({', '.join(detail)}){ecb_mark(f)}"


def row_cpu(runs, case):
    cells = [cpu_cell(get(runs, m, case), m) for m in MODULES]
    ours = get(runs, "wsop", case)
    per = ours and ours.med("cpu_us_per_op")
    ratios = [ratio(per, get(runs, m, case) and get(runs, m, case).med("cpu_us_per_op"), False)
              for m in MODULES[1:]]
    ok = None if per is None else per <= 60
    return cells + ratios + ["≤ 60 µs", met(ok)]


def row_rss(runs):
    ours = get(runs, "wsop", "enc64kx8")
    kib = ours and ours.med("child_hwm_kib")
    cell = "—" if not kib else f"{kib / 1024:.1f} MiB"
    ok = None if not kib else kib <= 8 * 1024
    return [cell, "— (no helper)", "— (no helper)", "—", "—", "≤ 8 MiB (keep)", met(ok)]


def table(runs):
    rows = [
        ("CBC_PAD 16 B, 1 thread",
         row_16(runs, "enc16x1", 12000, 80, "p50_us", "≥ 12,000 ops/s, p50 ≤ 80 µs")),
        ("CBC_PAD 16 B, 8 threads",
         row_16(runs, "enc16x8", 30000, 600, "p99_us", "≥ 30,000 ops/s, p99 ≤ 600 µs")),
        ("CBC_PAD 64 KiB, 1 thread", row_64k(runs, "enc64kx1", 150, None, "≥ 150 MiB/s")),
        ("CBC_PAD 64 KiB, 8 threads",
         row_64k(runs, "enc64kx8", 300, 10000, "≥ 300 MiB/s, p99 ≤ 10 ms")),
        ("C_Initialize + C_Finalize", row_p50(runs, "initfin", 5000, "p50 ≤ 5 ms")),
        ("Initialize → SlotList → OpenSession → Login → Logout → Close → Finalize, "
         "softcard already active (ours)",
         row_p50(runs, "login", 10000, "p50 ≤ 10 ms when the softcard is already active",
                 ours_case="login_active")),
        ("the same, softcard not active before (ours: every login activates)",
         row_p50(runs, "login", None, "— (a first activation may pay the KDF)")),
        ("C_GenerateKey AES-256 token key, 1 / 2 / 8 threads", row_keygen(runs)),
        ("bulk: 1 MiB through Update in 4 KiB pieces, 1 thread", row_bulk(runs)),
        ("CPU per 16 B op, all processes, 8 threads", row_cpu(runs, "enc16x8")),
        ("helper peak RSS (VmHWM), 8 threads × 64 KiB", row_rss(runs)),
    ]
    head = ("| figure | pkcs11wsop | SoftHSMv2 in-process | p11-kit remote → SoftHSMv2 | "
            "× SoftHSMv2 | × p11-kit | target | |")
    out = [head, "|---|---|---|---|---|---|---|---|"]
    for name, cells in rows:
        out.append("| " + " | ".join([name] + cells) + " |")
    return "\n".join(out)


CASE_TEXT = {
    "enc16x1": "encrypt 16 B, 1 thread",
    "enc16x8": "encrypt 16 B, 8 threads",
    "enc64kx1": "encrypt 64 KiB, 1 thread",
    "enc64kx8": "encrypt 64 KiB, 8 threads",
    "initfin": "init-finalize",
    "login": "login-cycle",
    "login_active": "login-cycle, softcard held active",
    "gen1": "generate, 1 thread",
    "gen2": "generate, 2 threads",
    "gen8": "generate, 8 threads",
    "bulkenc": "encrypt-multipart 1 MiB / 4 KiB",
    "bulkdec": "decrypt-multipart 1 MiB / 4 KiB",
}


def details(runs):
    out = ["| case | module | mech | runs | ops/s (min–max) | p50 µs | p99 µs | "
           "CPU µs/op | helper HWM KiB | errors |",
           "|---|---|---|---:|---|---:|---:|---:|---:|---:|"]
    for case, text in CASE_TEXT.items():
        for m in MODULES:
            f = get(runs, case=case, module=m)
            if f is None:
                continue
            lo, hi = f.spread("ops_per_sec")
            hwm = f.med("child_hwm_kib")
            out.append(f"| {text} | {m} | {f.mechanism or '—'} | {len(f.rows)} | "
                       f"{num(f.ops)} ({num(lo)}–{num(hi)}) | {num(f.med('p50_us'), 1)} | "
                       f"{num(f.med('p99_us'), 1)} | {num(f.med('cpu_us_per_op'), 1)} | "
                       f"{num(hwm) if hwm else '—'} | {f.errors} |")
    return "\n".join(out)


def sh(*cmd, cwd=None):
    try:
        return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def machine(args):
    model = "unknown"
    for line in sh("lscpu").splitlines():
        if line.startswith("Model name:"):
            model = line.split(":", 1)[1].strip()
    try:
        with open("/etc/debian_version", encoding="utf-8") as f:
            debian = f.read().strip()
    except OSError:
        debian = "unknown"
    buildtype = "unknown"
    try:
        with open(os.path.join(args.build, "meson-info", "intro-buildoptions.json"),
                  encoding="utf-8") as f:
            for opt in json.load(f):
                if opt.get("name") == "buildtype":
                    buildtype = opt.get("value")
    except (OSError, ValueError):
        pass
    versions = ", ".join(
        f"{p} {sh('dpkg-query', '-W', '-f=${Version}', p)}"
        for p in ("softhsm2", "p11-kit", "p11-kit-modules"))
    return {
        "cpu": model, "cores": os.cpu_count(), "kernel": os.uname().release,
        "debian": debian, "commit": sh("git", "describe", "--always", "--dirty", cwd=args.root),
        "buildtype": buildtype, "peers": versions,
    }


def write(args, runs):
    m = machine(args)
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    how = (f"smoke: each case once for a few operations (a functional check; "
           f"these numbers mean nothing)" if args.smoke
           else f"{args.seconds} s per run, {args.runs} runs per figure, the median shown")
    mech_note = ("p11-kit forwards AES-CBC-PAD here: all three use it." if
                 args.p11kit_mechanism == "cbc-pad" else
                 "p11-kit cannot forward the CBC parameter (C_EncryptInit through "
                 "p11-kit-client.so answers CKR_MECHANISM_INVALID, checked at the start of "
                 "every run): its data figures, marked (ECB), use AES-ECB on the same key "
                 "and sizes, a stand-in for its transport cost.")
    errors = sum(Figures(r).errors for r in runs.values())
    loads = [float(x) for x in (args.load_start.split()[:1] + args.load_end.split()[:1])]
    saturated = ""
    if loads and max(loads) > (m["cores"] or 1) * 2:
        saturated = ("\n* **Other work saturated the machine** (load average above twice the "
                     "cores): rates and latencies here are far below what a quiet machine "
                     "gives, and the ratios move with the load. CPU per operation counts only "
                     "the measured processes' own time and is the figure the load disturbs "
                     "least.")
    text = f"""# Benchmark results: pkcs11wsop beside SoftHSMv2 and p11-kit

Written by `bench/run.sh --compare` (bench/README.md says what every column
means and how each figure is measured). Re-run it on a quiet machine for
figures to quote.

* Date: {now}; commit `{m['commit']}`, build type `{m['buildtype']}` (gcc).
* Machine: {m['cpu']}, {m['cores']} cores, kernel {m['kernel']}, Debian {m['debian']}.
* Peers: {m['peers']}.
* Run: {how}; {args.elapsed} s in all. wsopd with its default options,
  module at `LOGLEVEL 2`, a softcard made by softcardtool; one session per
  thread; warm-up operations excluded; AES-256 everywhere.
* Load: load average {args.load_start} before, {args.load_end} after; all CPUs
  of the machine were {args.busy_pct} % busy during the runs (the benchmark's own
  processes included).{saturated}
* {mech_note}
* Errors over all runs: {errors}.

× = our speed relative to the peer: for rates ours ÷ theirs, for times and
CPU theirs ÷ ours; above 1 means pkcs11wsop is faster or cheaper. The
target column is the goal of the performance work, judged on our figure.

{table(runs)}

## Every case

Medians over the runs; ops/s with the lowest and highest run. CPU µs/op is
the CPU time of every process counted (p11bench with the module, its
children, and wsopd or the p11-kit server) over the timed operations.

{details(runs)}
"""
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(text)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    for name in ("results", "out", "root", "build", "p11kit-mechanism", "load-start",
                 "load-end"):
        p.add_argument("--" + name, required=True)
    for name in ("seconds", "runs", "smoke", "busy-pct", "elapsed"):
        p.add_argument("--" + name, type=int, required=True)
    args = p.parse_args()
    runs = load(args.results)
    if not runs:
        print("compare_report.py: no results", file=sys.stderr)
        return 1
    write(args, runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
