#!/usr/bin/env python3
"""Markdown report of one bench/build.sh result folder (stdout).

usage: report.py RESULT_DIR
RESULT_DIR holds machine.txt, status.tsv and json/*.json (hyperfine --export-json).
Ratios are tsbuild / peer on the medians: below 1 means tsbuild is faster.
"""
import csv
import json
import os
import sys

BUILDERS = ["docker-buildkit", "buildah", "tsbuild"]
PEERS = ["docker-buildkit", "buildah"]
SCENARIOS = ["cold", "warm", "change"]
CASE_DESC = {
    "small": "3 stages, ENV/WORKDIR/COPY/RUN, COPY --from; change: config/app.conf (last stage)",
    "many-files": "COPY of 20,000 files (~103 MB) + RUN; change: one of the files",
    "big-file": "COPY of one 500 MiB file; change: its first 4 KiB",
    "run-heavy": "20 RUN steps; change: the 11th RUN (steps 11-20 rerun)",
    "parallel-stages": "4 independent stages (sleep 2 each) + COPY --from all; change: stage 4's RUN",
    "change-one-file": "as small; change: src/main.sh (stage 2 of 3: stages 2-3 rerun)",
}


def fmt_s(x):
    return f"{x:.3f}" if x < 1 else f"{x:.2f}"


def main():
    d = sys.argv[1]
    machine = {}
    with open(os.path.join(d, "machine.txt")) as fh:
        for line in fh:
            if ":" in line:
                k, v = line.split(":", 1)
                machine[k.strip()] = v.strip()
    with open(os.path.join(d, "status.tsv")) as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))

    def result(row):
        if row["status"] != "ok" or not row["json"]:
            return None
        with open(os.path.join(d, row["json"])) as fh:
            return json.load(fh)["results"][0]

    builds = [r for r in rows if r["kind"] == "build"]
    verify = [r for r in rows if r["kind"] == "verify"]
    present = {r["builder"] for r in builds}
    builders = [b for b in BUILDERS if b in present]
    peers = [p for p in PEERS if p in present] if "tsbuild" in present else []
    cases = []
    for r in builds:
        if r["case"] not in cases:
            cases.append(r["case"])

    out = []
    p = out.append
    p(f"# Build speed: tsbuild vs BuildKit vs buildah ({machine.get('date_utc', '?')[:16]} UTC)")
    p("")
    p(f"Run `{machine.get('run_id', '?')}` by `bench/build.sh`, {machine.get('total_seconds', '?')} s in all; "
      f"raw hyperfine JSON and logs in `bench/results/build-{machine.get('run_id', '?')}/`.")
    p("")
    p(f"- machine: {machine.get('cpus', '?')} cpus ({machine.get('cpu_model', '?')}), {machine.get('memory', '?')}, "
      f"kernel {machine.get('kernel', '?')}, {machine.get('filesystem', '?')}")
    for k in ("docker", "buildah", "tsbuild", "hyperfine"):
        if k in machine:
            p(f"- {k}: {machine[k]}")
    p(f"- load average (1/5/15 min) at start: {machine.get('load_at_start', '?')}, at end: {machine.get('load_at_end', '?')}")
    p("")
    p("Seconds, min / median of n runs (wall clock of the client command). Ratio columns: tsbuild median / "
      "peer median, **below 1 = tsbuild faster**.")
    p("")
    head = ["case", "scenario", "n"] + builders + [f"tsbuild/{x}" for x in peers]
    p("| " + " | ".join(head) + " |")
    p("|" + "---|" * len(head))
    notes = []
    note_ids = {}
    wins = {x: [0, 0] for x in peers}
    for c in cases:
        scen = [s for s in SCENARIOS if any(r["case"] == c and r["scenario"] == s for r in builds)]
        for s in scen:
            cells, ns, med = [], set(), {}
            for b in builders:
                rr = [r for r in builds if r["case"] == c and r["scenario"] == s and r["builder"] == b]
                if not rr:
                    cells.append("–")
                    continue
                r = rr[-1]
                res = result(r)
                if res:
                    ns.add(len(res["times"]))
                    med[b] = res["median"]
                    cells.append(f"{fmt_s(res['min'])} / {fmt_s(res['median'])}")
                else:
                    key = f"{b}: {r['note']}"
                    if key not in note_ids:
                        notes.append(key)
                        note_ids[key] = len(notes)
                    cells.append(f"{r['status']} [{note_ids[key]}]")
            for x in peers:
                if "tsbuild" in med and x in med and med[x] > 0:
                    ratio = med["tsbuild"] / med[x]
                    wins[x][1] += 1
                    if ratio < 1:
                        wins[x][0] += 1
                    cells.append(f"**{ratio:.2f}**" if ratio < 1 else f"{ratio:.2f}")
                else:
                    cells.append("–")
            n = "/".join(str(v) for v in sorted(ns)) or "–"
            p(f"| {c} | {s} | {n} | " + " | ".join(cells) + " |")
    p("")
    for i, nte in enumerate(notes, 1):
        p(f"[{i}] {nte}")
    if notes:
        p("")
    summary = [f"tsbuild faster than {x} in {wins[x][0]} of {wins[x][1]} rows with both figures." for x in peers if wins[x][1]]
    for line in summary:
        p(line)
    if summary:
        p("")
    spread = []
    for r in builds:
        res = result(r)
        if res and len(res["times"]) > 1 and res["max"] > 1.3 * res["min"]:
            spread.append(f"{r['builder']} {r['case']} {r['scenario']}: " + ", ".join(fmt_s(t) for t in res["times"]) + " s")
    if spread:
        p("Wide spread (slowest run more than 1.3x the fastest), all runs in order:")
        for x in spread:
            p(f"- {x}")
        p("")
    if verify:
        bad = [v for v in verify if v["status"] != "ok"]
        if bad:
            p("**Output check failed** (image content differs from `bench/build/cases/<case>/expect`):")
            for v in bad:
                p(f"- {v['builder']} {v['case']}: {v['note']}")
        ok = [f"{v['builder']} {v['case']}" for v in verify if v["status"] == "ok"]
        if ok:
            p(f"Output checked (each primed image run once, its output matched `expect`): {len(ok)} of {len(verify)}.")
        p("")
    p("## Cases and method")
    p("")
    for c in cases:
        p(f"- **{c}**: {CASE_DESC.get(c, '')}")
    p("""- **cold**: `--no-cache` build of a fresh copy of the context (new mtimes, so BuildKit's incremental
  context sync sends everything again); before each run (untimed) the previous image is removed and
  `sync` flushes dirty pages. Nothing is pruned globally (dockerd and containers/storage are shared).
- **warm**: identical rebuild after one untimed priming build. **change**: `mutate.sh` (untimed) changes
  one input, then the timed rebuild.
- docker-buildkit = `DOCKER_BUILDKIT=1 /usr/bin/docker build`, buildah = `buildah build --layers` (default
  `--jobs=1`: stages one at a time), tsbuild = `tsbuild --root <per-case root> build` from this checkout
  (package.json bin). All build `FROM bbase` (busybox, `bench/build/make-base.sh`); tsbuild gets the same image through
  `docker save` + `tsbuild load` into a fresh store root per case, removed after the case.
- 2 shared cores: other sessions' load moves absolute figures; the ratios (same run, same load) matter more.""")
    print("\n".join(out))


if __name__ == "__main__":
    main()
