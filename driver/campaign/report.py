"""``sse-driver status`` and ``sse-driver report``: read the ledger (read-only) and show
where a campaign stands; the report is one self-contained HTML page plus a CSV table."""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import time
from pathlib import Path

import numpy as np

from ..fileio import atomic_write_text
from ..md.result import read as read_result
from ..optimize.multiobjective import pareto_mask
from ..objectives import find as find_objective
from ..optimize.optimizer import Optimizer
from .ledger import Ledger

COLUMNS = ["proposal_id", "batch", "status", "attempts", "formula", "cell_formula", "x",
           "realized", "T_hot_K",
           "sigma_hot", "sigma_hot_err", "diffusive_hot", "sigma_300K", "sigma_300K_err", "Ea",
           "Ea_err", "shear_modulus", "shear_modulus_err", "bulk_modulus", "stability",
           "degraded_fraction", "critical_current", "critical_current_err",
           "critical_current_interval_95", "critical_current_note", "stability_note", "current_amplification",
           "fracture_toughness", "phasefield_D_source", "expert_rating", "n_ratings", "seconds",
           "errors", "run_dir"]


def with_ratings(evals: list[dict], ratings: dict[int, tuple[dict, list[float]]]) -> list[dict]:
    """Evaluations with the reviewers' ratings (Ledger.ratings) merged into their outputs
    (mean and count), so a rating is reported, fused and attributed like any objective."""
    out = []
    for e in evals:
        vals = ratings.get(e["proposal_id"], (None, None))[1]
        if vals and e["outputs"] is not None:
            e = {**e, "outputs": {**e["outputs"], "expert_rating": float(np.mean(vals)),
                                  "n_ratings": len(vals)}}
        out.append(e)
    return out


def _ledger(out: Path) -> Ledger:
    return Ledger.open(out, readonly=True)


def standardized(opt: Optimizer, evals: list[dict]) -> list[np.ndarray | None]:
    """Each evaluation's objectives on their fitted scales (log10 where ``log``), standardized
    over the measured candidates; None where an objective could not be measured."""
    raw = []
    for e in evals:
        o = e["outputs"] if e["status"] == "done" else None
        vals = [o.get(ob.name) if o else None for ob in opt.objectives]
        ok = all(ob.measurable(v) for ob, v in zip(opt.objectives, vals))
        raw.append(np.array([ob.scaled(v) for ob, v in zip(opt.objectives, vals)]) if ok else None)
    M = np.array([z for z in raw if z is not None])
    if len(M) == 0:
        return raw
    mu, sd = M.mean(axis=0), M.std(axis=0)
    sd[sd == 0] = 1.0
    return [None if z is None else (z - mu) / sd for z in raw]


def fused_values(opt: Optimizer, evals: list[dict]) -> list[float | None]:
    """The fused score the optimizer pursues: sum_i w_i s_i z_i, with z_i each objective
    standardized over the measured candidates (s_i = +1 max, -1 min). Unitless, so GPa and
    log10 S/cm are weighed by their weights, not by their magnitudes."""
    w = np.array([ob.signed_weight for ob in opt.objectives])
    return [None if z is None else float(w @ z) for z in standardized(opt, evals)]


def recommendation(opt: Optimizer, evals: list[dict]) -> str | None:
    """The evaluated candidate the model believes best (``Optimizer.recommend``: highest
    fused posterior mean), with the model's value of each objective. Unlike the best
    observed value, a lucky draw of a noisy MD estimate does not make it."""
    try:
        rec, pred = opt.recommend_with_prediction()
        if rec is None:
            return None
        pred = pred or opt.predict([rec.x])     # the fallback to best() fitted nothing
    except (ValueError, np.linalg.LinAlgError):
        return None
    e = next((e for e in evals if e["x"] == rec.x), None)
    who = (f"candidate {e['proposal_id']} {(e['outputs'] or {}).get('formula')} " if e else "") + f"x={rec.x}"
    vals = ", ".join(f"{name} {'log10 ' if ob.log else ''}{float(m[0]):.3g} +- {float(sd[0]):.2g}"
                     for ob in opt.objectives for name, (m, sd) in pred.items() if name == ob.name)
    return f"{who}: model {vals}"


def status(out: str | Path) -> str:
    led = _ledger(Path(out))
    c = led.counts()
    evals = with_ratings(led.evaluations(), led.ratings())
    opt = Optimizer.from_json(led.started_state())
    f = fused_values(opt, evals)
    lines = [f"campaign {led.meta().get('name')} in {out}",
             f"  done {c['done']}, failed {c['failed']}, running or owed {c['pending']}"]
    from .tasks import stage_of
    for pid, _ in led.pending():            # where each one in flight is (issue 32)
        lines.append(f"  candidate {pid}: {stage_of(Path(out) / 'runs', pid)}")
    ok = [(v, e) for v, e in zip(f, evals) if v is not None]
    if ok:
        v, e = max(ok, key=lambda t: t[0])
        o = e["outputs"] or {}
        vals = ", ".join(f"{ob.name} = {_fmt(o.get(ob.name)) or 'n/a'}"
                         + (f" +- {_fmt(o[ob.name + '_err'], '.2g')}"
                            if o.get(ob.name + "_err") is not None else "")
                         for ob in opt.objectives)
        lines.append(f"  best so far: candidate {e['proposal_id']} {o.get('formula')} "
                     f"x={e['x']}: {vals}; fused score {v:.3f}")
        rec = recommendation(opt, evals)
        if rec:
            lines.append(f"  recommended (best posterior mean): {rec}")
    for (fam, pot, _), (_, found) in skill_by_protocol(evals).items():
        lines.append(f"  skill on record ({fam}, {pot}): {found[0]}")
    for ev in led.db.execute("SELECT kind, message FROM events ORDER BY id DESC LIMIT 3"):
        lines.append(f"  event: {ev['kind']}: {ev['message']}")
    led.close()
    return "\n".join(lines)


def shapley_table(opt: Optimizer, evals: list[dict], fused: list) -> str:
    """Shapley attribution of the best candidates' fused scores to the objectives, against
    the mean of all measured candidates (on each objective's own scale: log10 where log)."""
    from ..optimize.multiobjective import shapley

    ok = [(v, e, z) for v, e, z in zip(fused, evals, standardized(opt, evals)) if v is not None]
    if len(ok) < 2:
        return ""
    w = np.array([ob.signed_weight for ob in opt.objectives])
    rows = []
    for v, e, z in sorted(ok, key=lambda t: -t[0])[:3]:
        phi = shapley(lambda c: float(w @ c), z, np.zeros_like(z))
        rows.append("<tr><td>" + html.escape(f"#{e['proposal_id']} {e['outputs']['formula']}") + "</td>"
                    + f"<td>{v:.3f}</td>" + "".join(f"<td>{p:+.3f}</td>" for p in phi) + "</tr>")
    head = "".join(f"<th>{html.escape(ob.name)}</th>" for ob in opt.objectives)
    return ("<h2>Why the best are best: Shapley attribution of the fused score</h2><p>Contribution of "
            "each objective relative to the mean candidate (weighted, on the fitted scales); the "
            "contributions add up to the score minus the mean score.</p><table><tr><th>candidate</th>"
            f"<th>fused</th>{head}</tr>{''.join(rows)}</table>")


def experiment_section(out: Path, evals: list[dict]) -> tuple[tuple | None, str]:
    """Predictions beside experiment: each evaluated composition's MD sigma(300 K) (95 %
    interval) and its OBELiX measurements (same composition); and, for a campaign over one
    composition variable, a plot of both over that variable with every measured member of the
    family in the space (campaign.prior's data). Experiment is shown, never fitted."""
    import matplotlib.pyplot as plt

    from ..kb.experiment import measured

    rows, pts = [], []
    for e in evals:
        o = e["outputs"] if e["status"] == "done" else None
        if not o:
            continue
        meas = measured(o["formula"])
        s3, iv = o.get("sigma_300K"), o.get("sigma_300K_interval_95")
        rows.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in (
            e["proposal_id"], o["formula"], _fmt(s3, ".2e") or "not measurable",
            f"{iv[0]:.1e} .. {iv[1]:.1e}" if iv else "",
            (f"{np.median([m for m, _ in meas]):.2e} ({len(meas)}: "
             f"{min(m for m, _ in meas):.1e} .. {max(m for m, _ in meas):.1e})") if meas else "none in OBELiX",
            " ".join(sorted({d for _, d in meas}))[:200])) + "</tr>")
        var = [k for k in (e["x"] or {}) if isinstance((e["x"] or {}).get(k), float)]
        if s3 and iv and len(var) == 1:
            xv = (o.get("realized") or e["x"]).get(var[0], e["x"][var[0]])
            pts.append((var[0], xv, s3, iv))
    table = ("<h2>Predictions beside experiment</h2><p>MD sigma(300 K) (Nernst-Einstein from "
             "tracer D, Arrhenius-extrapolated) and the measured room-temperature conductivities "
             "of the same composition in the shipped OBELiX table (CC BY 4.0): median, count and "
             "range. Experiment is shown for comparison, never fitted.</p><table><tr><th>id</th>"
             "<th>formula</th><th>MD sigma(300 K) S/cm</th><th>95 % interval</th><th>experiment "
             "S/cm</th><th>DOIs</th></tr>" + "".join(rows) + "</table>") if rows else ""
    fig_entry = None
    try:
        from .. import config
        from ..schema import Settings
        from ..kb.prior import experimental_prior

        s = config.load(Settings, out / "config.yaml")
        names = list(s.campaign.variables)
        exp = experimental_prior(s.campaign) if s.campaign.candidates is None and len(names) == 1 else []
    except Exception:      # a report never fails on its comparison section
        exp, names = [], []
    if pts or exp:
        fig, ax = plt.subplots(figsize=(5, 3.6))
        if exp:
            ax.plot([x[names[0]] for x, _, _ in exp], [sg for _, sg, _ in exp], "ks", ms=5,
                    mfc="none", label=f"experiment, OBELiX ({len(exp)})")
        if pts:
            xs = np.array([p[1] for p in pts])
            ys = np.array([p[2] for p in pts])
            lo = np.array([p[3][0] for p in pts])
            hi = np.array([p[3][1] for p in pts])
            ax.errorbar(xs, ys, yerr=[ys - lo, hi - ys], fmt="o", color="C0", capsize=3,
                        label="MD sigma(300 K), 95 %")
        ax.set_yscale("log")
        ax.set_xlabel((pts[0][0] if pts else names[0]))
        ax.set_ylabel("sigma at 300 K (S/cm)")
        ax.legend(fontsize=7)
        fig.tight_layout()
        fig_entry = ("Predicted sigma(300 K) beside experiment (same family, OBELiX)", _png(fig))
    return fig_entry, table


def skill_by_protocol(evals: list[dict]) -> dict[tuple, tuple[dict, list[str]]]:
    """How far these numbers can be trusted: for each (family, potential, MD protocol) the
    campaign ran (kept in each finished evaluation's outputs, or read from its MD result),
    the protocol and the validation scores on record for exactly it (kb/skill_records.py),
    the nearest ones with what differs, or a plain statement that nobody has measured it."""
    from ..kb.skill_records import load_records, skill_lines
    from .tasks import md_protocol

    seen: dict[tuple, tuple[dict, list[str]]] = {}
    records = None
    for e in evals:
        if e["status"] != "done" or not e.get("run_dir"):
            continue
        mp = (e.get("outputs") or {}).get("md_protocol")
        try:
            if not mp:         # recorded before the ledger kept it: read the result
                mp = md_protocol(read_result(Path(e["run_dir"]) / "md" / "result.json"))
            proto = mp["protocol"]
            key = (mp["family"], mp["potential"], json.dumps(proto, sort_keys=True))
        except Exception:      # a report never fails on this section; the run stays listed
            continue
        if key not in seen:
            records = load_records() if records is None else records
            seen[key] = (proto, skill_lines(key[0], key[1], proto, records))
    return seen


def skill_section(evals: list[dict]) -> str:
    """The report's section of ``skill_by_protocol``."""
    seen = skill_by_protocol(evals)
    if not seen:
        return ""

    def protocol(p: dict) -> str:
        return (f"{'x'.join(map(str, p['supercell']))} cell, "
                f"{', '.join(f'{t:g}' for t in p['temperatures_k'])} K, {p['equil_ps']:g} + "
                f"{p['prod_ps']:g} ps, {p['replicas']} replica(s), Haven ratio {p['haven_ratio']:g}")

    items = "".join(
        f"<li><b>{html.escape(f)}, {html.escape(p)}</b> ({html.escape(protocol(proto))})<ul>"
        + "".join(f"<li>{html.escape(line)}</li>" for line in lines) + "</ul></li>"
        for (f, p, _), (proto, lines) in seen.items())
    return ("<h2>Skill of these settings against experiment</h2><p>What <code>sse-driver "
            "validate</code> measured for the same family, potential and MD protocol (cell, "
            "temperatures, run lengths, replicas, Haven ratio) on known electrolytes of the "
            "shipped OBELiX table: rank correlation, log10 error and the coverage of the "
            "predicted 95 % intervals (docs/validation.md). The objective sigma_300K is the "
            "tracer estimate.</p><ul>" + items + "</ul>")


def stability_cell(o: dict) -> str:
    """The interface-stability result of one evaluation as table text, with its interval."""
    if o.get("critical_current") is not None:
        lo, hi = o["critical_current_interval_95"]
        return f"i_crit {o['critical_current']:.3g} mA/cm2 (95 %: {lo:.3g}-{hi:.3g})"
    if o.get("critical_current_note"):
        return f"i_crit not measurable: {o['critical_current_note']}"
    if o.get("stability_note"):
        return f"S not measurable: {o['stability_note']}"
    return _fmt(o.get("stability")) if o.get("stability") is not None else ""


def stability_figure(done: list[dict]) -> tuple[str, str, str] | None:
    """Critical current density per candidate with its 95 % interval (the li_penetration
    model), and whether the candidates differ by more than their intervals."""
    import matplotlib.pyplot as plt

    pts = [e for e in done if e["outputs"].get("critical_current") is not None]
    if not pts:
        return None
    fig, ax = plt.subplots(figsize=(5, 3.4))
    v = np.array([e["outputs"]["critical_current"] for e in pts])
    lo = np.array([e["outputs"]["critical_current_interval_95"][0] for e in pts])
    hi = np.array([e["outputs"]["critical_current_interval_95"][1] for e in pts])
    ids = [e["proposal_id"] for e in pts]
    ax.errorbar(range(len(pts)), v, yerr=[v - lo, hi - v], fmt="o", capsize=3)
    ax.set_xticks(range(len(pts)), [f"#{i}" for i in ids], fontsize=7)
    ax.set_yscale("log")
    ax.set_ylabel("critical current density (mA/cm$^2$)")
    ax.set_xlabel("evaluation")
    fig.tight_layout()
    gone = [f"#{e['proposal_id']}" + (f" ({e['outputs']['critical_current_note']})"
                                      if e["outputs"].get("critical_current_note") else "")
            for e in done if e["outputs"].get("critical_current") is None]
    return (f"Interface stability: critical current density for Li penetration with 95 % "
            f"intervals ({distinct_note(lo, hi)})", _png(fig),
            "Left out (critical current not measurable): " + "; ".join(gone) + "." if gone
            else "Every finished evaluation is shown.")


def distinct_note(lo: np.ndarray, hi: np.ndarray) -> str:
    """Do the candidates' 95 % intervals separate? Counted over pairs."""
    n = len(lo)
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    if not pairs:
        return "one candidate"
    apart = sum(1 for i, j in pairs if lo[i] > hi[j] or lo[j] > hi[i])
    return (f"{apart} of {len(pairs)} pairs of candidates differ by more than their intervals"
            if apart else "no two candidates differ by more than their intervals")


def _fmt(v, spec: str = ".3g") -> str:
    return "" if v is None else format(v, spec)


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    import matplotlib.pyplot as plt
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def write_report(out: str | Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out)
    led = _ledger(out)
    reviews = led.reviews()
    evals = with_ratings(led.evaluations(), led.ratings())
    meta = led.meta()
    opt = Optimizer.from_json(led.started_state())
    counts = led.counts()
    events = [dict(r) for r in led.db.execute("SELECT * FROM events ORDER BY id")]
    led.close()
    fused = fused_values(opt, evals)

    # CSV of everything
    buf = io.StringIO()
    w = csv.writer(buf)
    # an objective of the registry that the built-in columns lack (a new or plug-in one):
    # its value, error and own columns after the others
    extra = [c for ob in opt.objectives
             for c in (ob.name, f"{ob.name}_err",
                       *getattr(find_objective(ob.name), "columns", ()))
             if c not in COLUMNS]
    columns = COLUMNS[:-2] + extra + COLUMNS[-2:]
    w.writerow(columns)
    for e in evals:
        o = e["outputs"] or {}
        row = {"proposal_id": e["proposal_id"], "batch": e["batch"], "status": e["status"],
               "attempts": e["attempts"], "x": json.dumps(e["x"]), "seconds": f"{e['seconds']:.1f}",
               "errors": json.dumps(e["errors"]), "run_dir": e["run_dir"],
               **{k: (json.dumps(v) if isinstance(v, (dict, list)) else v) for k, v in o.items()}}
        w.writerow([row.get(c, "") for c in columns])
    atomic_write_text(out / "results.csv", buf.getvalue())

    figs = []
    # best so far: the first objective a reader cares about (with its interval) beside the
    # fused score; every candidate a panel leaves out is named with the reason (issue 32)
    first = opt.objectives[0]
    fig, (ax0, ax) = plt.subplots(1, 2, figsize=(9, 3.4))
    n_ev = range(1, len(evals) + 1)
    y0 = [(e["outputs"] or {}).get(first.name) if e["status"] == "done" else None for e in evals]
    lo_hi = [(e["outputs"] or {}).get(f"{first.name}_interval_95") for e in evals]
    pts = [(i, y, iv) for i, y, iv in zip(n_ev, y0, lo_hi) if y is not None and np.isfinite(y)]
    if pts:
        xs = np.array([i for i, _, _ in pts])
        ys = np.array([y for _, y, _ in pts], float)
        err = np.array([[y - iv[0], iv[1] - y] if iv else [0.0, 0.0] for _, y, iv in pts]).T
        ax0.errorbar(xs, ys, yerr=np.clip(err, 0, None), fmt="o", ms=4, capsize=2,
                     label="evaluation (95 % interval)")
        acc = np.fmax.accumulate if first.direction == "max" else np.fmin.accumulate
        ax0.step(xs, acc(ys), where="post", label="best so far")
        if first.log:
            ax0.set_yscale("log")
        ax0.legend(fontsize=7)
    ax0.set_xlabel("evaluations")
    ax0.set_ylabel(first.name)
    vals = [v if v is not None else np.nan for v in fused]
    best = np.fmax.accumulate(np.array(vals, float)) if vals else []
    ax.plot(n_ev, vals, "o", ms=4, label="evaluation")
    ax.step(n_ev, best, where="post", label="best so far")
    ax.set_xlabel("evaluations")
    ax.set_ylabel("fused score (weighted z-scores)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    left_out = []
    for i, (e, y, v) in enumerate(zip(evals, y0, fused), start=1):
        if e["status"] != "done":
            left_out.append(f"#{e['proposal_id']} ({e['status']}): both panels")
        else:
            o = e["outputs"] or {}
            missing = [ob.name for ob in opt.objectives if o.get(ob.name) is None]
            if y is None or v is None:
                left_out.append(f"#{e['proposal_id']}: {'left panel and ' if y is None else ''}"
                                f"fused score (not measurable: {', '.join(missing)})")
    note = ("Left out: " + "; ".join(left_out) + "." if left_out else
            "Every evaluation is in both panels.")
    figs.append((f"Best so far versus evaluations: {first.name} and the fused score",
                 _png(fig), note))

    done = [e for e in evals if e["status"] == "done" and e["outputs"]]
    names = [o.name for o in opt.objectives]
    if len(names) >= 2 and done:
        Y = []
        for e in done:
            o = e["outputs"]
            Y.append([o.get(n) if o.get(n) is not None else np.nan for n in names[:2]])
        Y = np.array(Y, float)
        keep = np.all(np.isfinite(Y), axis=1)
        if keep.any():
            sgn = np.array([1 if ob.direction == "max" else -1 for ob in opt.objectives[:2]])
            mask = pareto_mask(Y[keep] * sgn)
            fig, ax = plt.subplots(figsize=(5, 3.6))
            ax.scatter(Y[keep][:, 0], Y[keep][:, 1], c="C0", label="evaluated")
            ax.scatter(Y[keep][mask][:, 0], Y[keep][mask][:, 1], c="C3", label="Pareto front")
            if opt.objectives[0].log:
                ax.set_xscale("log")
            ax.set_xlabel(names[0])
            ax.set_ylabel(names[1])
            ax.legend(fontsize=8)
            fig.tight_layout()
            gone = [f"#{e['proposal_id']}" for e, k in zip(done, keep) if not k]
            figs.append(("Pareto front of the first two objectives", _png(fig),
                         f"Left out (one of {names[0]}, {names[1]} not measurable): "
                         f"{', '.join(gone)}." if gone else "Every finished evaluation is shown."))

    # Arrhenius plots of the best three
    ranked = sorted([(v, e) for v, e in zip(fused, evals) if v is not None], key=lambda t: -t[0])[:3]
    if ranked:
        fig, ax = plt.subplots(figsize=(5, 3.6))
        for v, e in ranked:
            rf = Path(e["run_dir"]) / "md" / "result.json"
            if not rf.exists():
                continue
            r = read_result(rf)
            T = np.array([t.temperature_K for t in r.temperatures])
            s = np.array([t.sigma_S_cm for t in r.temperatures], float)
            err = np.array([t.sigma_err_S_cm for t in r.temperatures], float)
            ax.errorbar(1000 / T, s * T, yerr=err * T, fmt="o-", label=f"{r.formula} (#{e['proposal_id']})")
        ax.set_yscale("log")
        ax.set_xlabel("1000 / T (1/K)")
        ax.set_ylabel(r"$\sigma T$ (S K/cm)")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
        fig.tight_layout()
        figs.append(("Arrhenius plots of the best candidates (MD, Nernst-Einstein)", _png(fig)))

    # surrogate over the space (first free variable; others at their midpoints)
    try:
        sp = opt.space
        v0 = sp.free[0]
        grid = np.linspace(v0.low, v0.high, 101)
        pts = [{**{v.name: 0.5 * (v.low + v.high) for v in sp.variables}, v0.name: float(g)} for g in grid]
        pred = opt.predict(pts)
        if pred:
            fig, axs = plt.subplots(1, len(pred), figsize=(4.4 * len(pred), 3.4))
            axs = np.atleast_1d(axs)
            for ax, (name, (m, sd)) in zip(axs, pred.items()):
                ax.plot(grid, m, "C0")
                ax.fill_between(grid, m - 2 * sd, m + 2 * sd, color="C0", alpha=0.2)
                obj = next(o for o in opt.objectives if o.name == name)
                have = [o for o in opt.observations if o.feasible and o.y and name in o.y]
                xs = [o.x[v0.name] for o in have]
                ys = [np.log10(o.y[name]) if obj.log else o.y[name] for o in have]
                ax.plot(xs, ys, "k.", ms=8)
                ax.set_xlabel(v0.name)
                ax.set_ylabel(("log10 " if obj.log else "") + name)
            fig.tight_layout()
            figs.append(("Surrogate mean +- 2 sd over the space, with the evaluations", _png(fig)))
    except Exception as exc:  # too few results for a model: say so instead of failing the report
        figs.append((f"Surrogate: not available yet ({html.escape(str(exc))[:120]})", None))

    stab = stability_figure(done)
    if stab:
        figs.append(stab)

    exp_fig, exp_table = experiment_section(out, evals)
    skill_html = skill_section(evals)
    if exp_fig:
        figs.append(exp_fig)

    shap = shapley_table(opt, evals, fused)
    rec = recommendation(opt, evals)
    rec_html = (f"<p><b>Recommended</b> (the evaluated candidate of best posterior mean, "
                f"<code>Optimizer.recommend()</code>; not fooled by one lucky noisy estimate): "
                f"{html.escape(rec)}</p>" if rec else "")
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in (
            e["proposal_id"], e["status"], (e["outputs"] or {}).get("formula", ""),
            json.dumps(e["x"]), _fmt((e["outputs"] or {}).get("sigma_hot")),
            stability_cell(e["outputs"] or {}), e["attempts"],
            "; ".join(f"{x['stage']}: {x['class']}" for x in (e["errors"] or [])))) + "</tr>"
        for e in evals)
    body = "".join(f"<h2>{t}</h2>" + (f'<img src="data:image/png;base64,{b}">' if b else "")
                   + (f"<p>{html.escape(f[0])}</p>" if f else "") for t, b, *f in figs)
    rv = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in (
        r["proposal_id"], r["action"], "" if r["rating"] is None else f"{r['rating']:g}",
        r["x_json"] or "", r["note"] or "",
        time.strftime("%Y-%m-%d %H:%M", time.localtime(r["t"])))) + "</tr>" for r in reviews)
    reviews_html = ("<h2>Expert reviews</h2><table><tr><th>candidate</th><th>action</th><th>value"
                    "</th><th>x</th><th>note</th><th>when</th></tr>" + rv + "</table>"
                    "<p>A veto's value is its exclusion radius (unit-scaled space); a rating is 0-5.</p>"
                    if reviews else "<h2>Expert reviews</h2><p>none yet (sse-driver review DIR)</p>")
    ev = "".join(f"<li>{html.escape(e['kind'])}: {html.escape(e['message'])}</li>" for e in events)
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>sse-driver campaign {html.escape(str(meta.get('name')))}</title>
<style>body{{font-family:sans-serif;max-width:1000px;margin:2em auto}}table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:2px 6px;font-size:13px}}</style></head><body>
<h1>Campaign {html.escape(str(meta.get('name')))}</h1>
<p>done {counts['done']}, failed {counts['failed']}, owed {counts['pending']}; objectives: {html.escape(', '.join(f"{o.name} ({o.direction}{', log' if o.log else ''}, w={o.weight:.2f})" for o in opt.objectives))};
potential {html.escape(str(meta.get('potential')))} (sha256 {str(meta.get('potential_sha256'))[:12]}); sse-driver {meta.get('sse_driver')}, git {str(meta.get('git_commit'))[:10]}; seed {meta.get('seed')}.
Table: <a href="results.csv">results.csv</a>.</p>
{rec_html}
{body}
{exp_table}
{skill_html}
{shap}
<h2>Evaluations</h2><table><tr><th>id</th><th>status</th><th>formula</th><th>x</th><th>sigma_hot (S/cm)</th><th>interface stability</th><th>attempts</th><th>errors</th></tr>{rows}</table>
{reviews_html}
<h2>Events</h2><ul>{ev}</ul></body></html>"""
    path = out / "report.html"
    atomic_write_text(path, page)
    return path
