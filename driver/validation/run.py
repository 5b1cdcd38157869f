"""``sse-driver validate``: run a validation set through the screening campaign and score
the predicted sigma(300 K) against experiment.

The set's compositions become a screening campaign (``campaign.candidates``) in
``OUT/campaign`` with the chosen MD preset, MD only, objective sigma_300K; so it runs on any
backend the campaign supports and resumes after a kill exactly like a campaign (run the same
command again). Then the scores (validation/skill.py) go to ``OUT/validation.json``, a
parity plot to ``OUT/parity.png`` and both into ``OUT/validation.html``.
"""

from __future__ import annotations

import dataclasses
import html
import io
import math
import time
from pathlib import Path

from ..errors import UserError
from ..fileio import json_text, write_together
from ..kb.skill_records import dump_records, records_from_result
from .sets import ValidationSet, load_set
from .skill import Pair, score_by_family

CAMPAIGN = "campaign"


def select_entries(vs: ValidationSet, only: list[str] | None, limit: int | None) -> ValidationSet:
    """The entries named by ``only`` (labels or formulas), then the first ``limit``."""
    entries = vs.entries
    if only:
        known = {e.label for e in entries} | {e.formula for e in entries}
        bad = [o for o in only if o not in known]
        if bad:
            raise UserError(f"--only {bad[0]}: not in the set {vs.name}; its labels are "
                            + ", ".join(e.label for e in entries[:8]) + ", ...")
        entries = [e for e in entries if e.label in only or e.formula in only]
    if limit is not None:
        if limit < 1:
            raise UserError("--limit must be >= 1")
        entries = entries[:limit]
    return ValidationSet(vs.name, vs.rule, vs.source, list(entries))


def with_potential(vs: ValidationSet, potential: str | None) -> tuple[ValidationSet, list[str]]:
    """The set run with one force field instead of each entry's own (to score force fields
    side by side): the entries it covers, and the labels of those it does not. The
    experimental values are unchanged; a potential that covers none is a one-line error."""
    if potential is None:
        return vs, []
    from ..families.compositions import PHYSICAL_BOUNDS, parse
    from ..potentials import load as load_potential

    pot = load_potential(potential)             # unknown name: one line naming the known
    keep, skipped = [], []
    for e in vs.entries:
        gaps = pot.missing(set(parse(e.formula, PHYSICAL_BOUNDS).amounts))
        if gaps:
            skipped.append(f"{e.label} ({', '.join(gaps[:3])})")
        else:
            keep.append(dataclasses.replace(e, potential=potential))
    if not keep:
        raise UserError(f"--potential {potential} covers none of the {len(vs.entries)} "
                        f"compositions of {vs.name} (e.g. {skipped[0]} missing); choose "
                        "another potential or set")
    return ValidationSet(vs.name, vs.rule, vs.source, keep), skipped


def build_settings(vs: ValidationSet, preset: str, config_path: str | None):
    """The screening campaign of a validation run: the user's config (dask, ranks, ...) with
    the set as candidates, the preset, MD only and sigma_300K as the objective."""
    from .. import config
    from ..schema import MD_PRESETS, Settings

    base = config.load(Settings, config_path).model_dump(mode="json", exclude_none=True)
    base["md"]["preset"] = preset
    given = config.read_yaml(config_path) if config_path else {}
    for k in MD_PRESETS[preset]:           # the preset's keys, unless the config sets them
        if k not in (given.get("md") or {}):
            base["md"].pop(k, None)
    camp = base["campaign"]
    camp.pop("ahp_matrix", None)
    camp.update(name=f"validate-{vs.name}-{preset}", phasefield=False,
                objectives=[{"name": "sigma_300K", "direction": "max", "log": True}],
                candidates=[{"formula": e.formula, "potential": e.potential, "label": e.label}
                            for e in vs.entries])
    # the preset's run length as declared, for every composition alike: no meta-loop
    # extension (a temperature that is not diffusive is flagged and left out of the
    # Arrhenius fit; a composition with < 2 diffusive temperatures has no prediction)
    camp["meta"] = {**camp.get("meta", {}), "extend_md": False}
    return config.validate(Settings, base, source=config_path or "validate")


#: the two conductivity estimators validate scores: tracer D* with md.haven_ratio (what the
#: campaign's sigma_300K objective uses) and the collective (charge) diffusivity D_J, i.e.
#: with the Haven ratio the MD measured (issue: report both sigma estimates)
ESTIMATORS = ("tracer", "collective")


def _collective_300K(ev: dict | None) -> tuple[float, list[float]] | None:
    """sigma(300 K) and its 95 % interval from the collective diffusivity of an evaluation's
    MD result (its ``arrhenius_collective``, or the same fit made from its temperatures for
    results written before that key existed)."""
    from ..md.result import read

    if not ev or ev.get("status") != "done":
        return None
    p = Path(ev["run_dir"]) / "md" / "result.json"
    if not p.is_file():
        return None
    arr = read(p).collective_arrhenius()
    return (arr.sigma_300K_S_cm, arr.sigma_300K_interval_95) if arr else None


def pairs_from_evals(evals: list[dict], vs: ValidationSet,
                     estimator: str = "tracer") -> list[Pair]:
    """Experiment vs prediction for every set entry, from a campaign ledger's evaluations."""
    if estimator not in ESTIMATORS:
        raise ValueError(f"estimator {estimator!r} is not one of {', '.join(ESTIMATORS)}")
    by_label = {e["x"].get("label"): e for e in evals if isinstance(e["x"], dict)}
    pairs = []
    for en in vs.entries:
        ev = by_label.get(en.label)
        if estimator == "collective":
            got = _collective_300K(ev)
            s300, iv = got if got else (None, None)
        else:
            o = (ev or {}).get("outputs") or {}
            s300, iv = o.get("sigma_300K"), o.get("sigma_300K_interval_95")
        ok = s300 is not None and s300 > 0 and iv and iv[0] > 0
        pairs.append(Pair(en.label, en.family, en.log10_sigma_median,
                          math.log10(s300) if ok else None,
                          math.log10(iv[0]) if ok else None, math.log10(iv[1]) if ok else None))
    return pairs


def _parity_png(vs: ValidationSet, pairs: list[Pair], title: str) -> bytes:
    """The parity plot as PNG bytes (written with the other outputs, together)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    spread = {e.label: (e.log10_sigma_min, e.log10_sigma_max) for e in vs.entries}
    fig, ax = plt.subplots(figsize=(5.8, 5.6))
    have = [p for p in pairs if p.pred is not None]
    exp = [p.exp for p in pairs]
    # the window: the experimental range +- 4 decades; a prediction beyond it is drawn on
    # the edge as a triangle pointing out, with its value in the legend (never dropped)
    lo, hi = (min(exp) - 4.0, max(exp) + 4.0) if exp else (-12.0, 0.0)
    outside = [p for p in have if not lo <= p.pred <= hi]
    have = [p for p in have if lo <= p.pred <= hi]
    ax.plot([lo, hi], [lo, hi], "k-", lw=0.8, label="1:1")
    ax.fill_between([lo, hi], [lo - 1, hi - 1], [lo + 1, hi + 1], color="0.9", label="+- 1 decade")
    for i, fam in enumerate(sorted({p.family for p in pairs})):
        fp = [p for p in have if p.family == fam]
        if not fp:
            continue
        xs = [p.exp for p in fp]
        ys = [p.pred for p in fp]
        xerr = [[p.exp - spread[p.label][0] for p in fp], [spread[p.label][1] - p.exp for p in fp]]
        yerr = [[p.pred - p.pred_lo95 for p in fp], [p.pred_hi95 - p.pred for p in fp]]
        ax.errorbar(xs, ys, xerr=xerr, yerr=yerr, fmt="os^vD"[i % 5], color=f"C{i}", ms=5,
                    capsize=2, lw=0.8, label=f"{fam} ({len(fp)})")
    for p in outside:
        ax.plot([p.exp], [lo + 0.3 if p.pred < lo else hi - 0.3], "v" if p.pred < lo else "^",
                color="C3", ms=7, label=f"{p.label}: {p.pred:.1f} (off scale)")
    missing = [p for p in pairs if p.pred is None]
    if missing:
        ax.plot([p.exp for p in missing], [lo + 0.15] * len(missing), "x", color="C3",
                label=f"no prediction ({len(missing)})")
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_xlabel("experiment: log10 sigma(RT) (S/cm), median and range")
    ax.set_ylabel("MD: log10 sigma(300 K) (S/cm), 95 % interval")
    ax.set_title(title, fontsize=8, wrap=True)
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    buf = io.BytesIO()
    try:
        fig.savefig(buf, dpi=110, format="png")
    finally:
        plt.close(fig)
    return buf.getvalue()


def _fmt_ci(v: float, ci) -> str:
    return "n/a" if not math.isfinite(v) else f"{v:.2f} [{ci[0]:.2f}, {ci[1]:.2f}]"


def scores_table(scores: dict) -> list[str]:
    """Plain-text rows of the score table (printed and written)."""
    rows = [f"{'group':<10} {'n':>3} {'pred':>4} {'Spearman [95 %]':>24} {'Kendall [95 %]':>24} "
            f"{'MAE':>6} {'MedAE':>6} {'bias':>6} {'cov95':>6}"]
    def num(v: float, spec: str) -> str:
        return format(v, spec) if math.isfinite(v) else "n/a"

    for g, s in scores.items():
        rows.append(f"{g:<10} {s.n:>3} {s.n_predicted:>4} {_fmt_ci(s.spearman, s.spearman_ci95):>24} "
                    f"{_fmt_ci(s.kendall, s.kendall_ci95):>24} {num(s.mae_log10, '.2f'):>6} "
                    f"{num(s.medae_log10, '.2f'):>6} {num(s.bias_log10, '+.2f'):>6} "
                    f"{num(s.coverage95, '.2f'):>6}")
    return rows


def family_potentials(vs: ValidationSet) -> dict[str, str]:
    """The potential each family of the set ran with ('a+b' where a family used several, so
    that its record matches no single-potential campaign)."""
    fams: dict[str, set] = {}
    for e in vs.entries:
        fams.setdefault(e.family, set()).add(e.potential)
    return {f: "+".join(sorted(p)) for f, p in fams.items()}


def write_outputs(out: Path, vs: ValidationSet, preset: str, settings, pairs: list[Pair],
                  evals: list[dict], pairs_collective: list[Pair] | None = None,
                  commit: str | None = None, pending: list[str] | None = None
                  ) -> tuple[dict, dict]:
    """validation.json, skill_records.yaml, parity.png and validation.html from the scored
    pairs; returns the written record and the scores by group. ``pairs_collective``: the
    same compositions with sigma from the collective diffusivity, scored beside (not
    plotted). ``commit``: the git commit the campaign started at, for the records.
    ``pending``: labels of the set not evaluated yet (``--score-only`` while a run goes on):
    left out of ``pairs`` and the scores, named in the outputs, and a family with any of them
    gets no record (its score would change when they finish)."""
    scores = score_by_family(pairs)
    scores_c = score_by_family(pairs_collective) if pairs_collective else None
    ranks = settings.md.ranks
    core_h = sum((e["seconds"] or 0.0) for e in evals) * ranks / 3600.0
    potentials = sorted({e.potential for e in vs.entries})
    result = {
        "schema": "sse-driver/validation/1", "date": time.strftime("%Y-%m-%d"),
        "set": vs.name, "rule": vs.rule, "source": vs.source, "preset": preset,
        "md_settings": settings.md.model_dump(mode="json"), "potentials": potentials,
        "family_potentials": family_potentials(vs), "git_commit": commit,
        "scores": {k: v.as_dict() for k, v in scores.items()},
        "scores_collective": ({k: v.as_dict() for k, v in scores_c.items()} if scores_c
                              else None),
        "pairs_collective": [p.__dict__ for p in pairs_collective] if pairs_collective else None,
        "cost_core_hours": core_h, "evaluations": len(evals),
        "failed": [e["x"].get("label") for e in evals if e["status"] != "done"],
        "pairs": [p.__dict__ for p in pairs],
        "partial": ({"evaluated": len(pairs), "of": len(pairs) + len(pending),
                     "pending": list(pending)} if pending else None),
        "notes": ("experimental value: median log10 sigma of the composition's OBELiX rows; "
                  "prediction: Nernst-Einstein sigma from tracer D (Haven ratio "
                  f"{settings.md.haven_ratio:g}), Arrhenius-extrapolated to 300 K; coverage "
                  "counts a missing prediction as not covered"),
    }
    # every output is rendered first and written together at the end: a scoring that fails
    # (a plot of odd data) leaves the previous outputs as they were, never half replaced
    # (issue 33, class 5)
    json_out = json_text(result)
    # the same scores as records a campaign report can look up (kb/skill_records.py);
    # shipping one = appending it to driver/kb/skill_records.yaml
    unfinished = {e.family for e in vs.entries if e.label in set(pending or ())}
    records_out = dump_records(
        [r for r in records_from_result(result, result["family_potentials"], commit=commit)
         if r.family not in unfinished])
    part = (f" (partial: {len(pairs)} of {len(pairs) + len(pending)} evaluated)"
            if pending else "")
    title = (f"{vs.name}, preset {preset}{part}, {', '.join(potentials)}\nSpearman "
             f"{scores['all'].spearman:.2f}, MAE {scores['all'].mae_log10:.2f} decades, "
             f"95 % coverage {scores['all'].coverage95:.2f}")
    png_bytes = _parity_png(vs, pairs, title)
    import base64

    png = base64.b64encode(png_bytes).decode()
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in (
            p.label, p.family, next(e.potential for e in vs.entries if e.label == p.label),
            f"{p.exp:.2f}", "" if p.pred is None else f"{p.pred:.2f}",
            "" if p.pred is None else f"[{p.pred_lo95:.2f}, {p.pred_hi95:.2f}]",
            "" if p.pred is None else f"{p.pred - p.exp:+.2f}")) + "</tr>" for p in pairs)
    collective_html = ("<p>The same compositions with sigma from the collective (charge) "
                       "diffusivity, i.e. the Haven ratio the MD measured (noisier):</p><pre>"
                       + html.escape(chr(10).join(scores_table(scores_c))) + "</pre>"
                       if scores_c else "")
    pending_html = ("<p><b>Not finished</b>: scored from what the run has evaluated so far; "
                    f"pending: {html.escape(', '.join(pending))}.</p>" if pending else "")
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>sse-driver validation</title>
<style>body{{font-family:sans-serif;max-width:1000px;margin:2em auto}}table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:2px 6px;font-size:13px}}pre{{font-size:12px}}</style></head><body>
<h1>Validation against experiment: {html.escape(vs.name)}, preset {html.escape(preset)}{html.escape(part)}</h1>
{pending_html}
<p>{html.escape(result['date'])}; potentials {html.escape(', '.join(potentials))}; {len(evals)} evaluations,
{core_h:.2f} core-hours. Selection rule: {html.escape(vs.rule)}. Source: {html.escape(vs.source)}.</p>
<pre>{html.escape(chr(10).join(scores_table(scores)))}</pre>
{collective_html}
<p>{html.escape(result['notes'])}. Campaign report: <a href="campaign/report.html">campaign/report.html</a>.</p>
<img src="data:image/png;base64,{png}">
<h2>Compositions (log10 S/cm)</h2><table><tr><th>label</th><th>family</th><th>potential</th>
<th>experiment (median)</th><th>predicted</th><th>95 % interval</th><th>error</th></tr>{rows}</table>
</body></html>"""
    write_together({out / "validation.json": json_out, out / "skill_records.yaml": records_out,
                    out / "parity.png": png_bytes, out / "validation.html": page})
    return result, scores


def _prepare(out: Path, set_path: str | None, preset: str, config_path: str | None,
             only: list[str] | None, limit: int | None, potential: str | None,
             scheduler: str | None):
    """The set, settings and campaign folder of a validation run, and whether one exists
    there with the same settings (a folder holding other settings or other files is refused)."""
    from ..campaign.ledger import Ledger
    from ..campaign.loop import config_hash, load_checked, resume_settings

    vs, skipped = with_potential(select_entries(load_set(set_path), only, limit), potential)
    s = build_settings(vs, preset, config_path)
    load_checked(None, s, scheduler)   # every candidate checked before anything is written
    camp = out / CAMPAIGN
    resume = Ledger.exists_in(camp)
    if resume:
        led = Ledger.open(camp, readonly=True)
        meta = led.meta()
        led.close()
        saved = resume_settings(camp / "config.yaml", meta)
        if config_hash(saved) != config_hash(s):
            raise UserError(f"{out} holds a validation run with other settings (set, preset, "
                            "--only/--limit or config); use another --out")
    elif out.exists() and any(out.iterdir()):
        raise UserError(f"--out {out} is not empty and holds no validation run; use a new folder")
    return vs, s, skipped, camp, resume


def _score(out: Path, vs: ValidationSet, preset: str, s, echo, finished_only: bool) -> dict:
    """Score what the ledger of OUT/campaign holds, write the outputs, print the tables.
    ``finished_only``: entries not evaluated yet are pending (left out), not failures."""
    from ..campaign.ledger import Ledger

    led = Ledger.open(out / CAMPAIGN, readonly=True)
    evals, commit = led.evaluations(), led.meta().get("git_commit")
    led.close()
    pairs = pairs_from_evals(evals, vs)
    pairs_c = pairs_from_evals(evals, vs, "collective")
    pending: list[str] = []
    if finished_only:
        done = {e["x"].get("label") for e in evals if isinstance(e["x"], dict)}
        pending = [e.label for e in vs.entries if e.label not in done]
        pairs = [p for p in pairs if p.label in done]
        pairs_c = [p for p in pairs_c if p.label in done]
        if not pairs:
            raise UserError(f"{out}: no composition of the run is evaluated yet; nothing to "
                            "score (run validate without --score-only, or wait)")
    result, scores = write_outputs(out, vs, preset, s, pairs, evals, pairs_c,
                                   commit=commit if isinstance(commit, str) else None,
                                   pending=pending)
    if pending:
        echo(f"partial: {len(pairs)} of {len(vs.entries)} evaluated; pending: "
             + ", ".join(pending))
    for line in scores_table(scores):
        echo(line)
    echo("sigma from the collective diffusivity (measured Haven ratio):")
    for line in scores_table(score_by_family(pairs_c)):
        echo(line)
    echo(f"cost {result['cost_core_hours']:.3f} core-hours; wrote {out / 'validation.html'}, "
         f"{out / 'validation.json'}, {out / 'parity.png'}, {out / 'skill_records.yaml'} "
         "(campaign reports quote the records in driver/kb/skill_records.yaml)")
    return result


def run_validation(out: str | Path, set_path: str | None = None, preset: str = "screening",
                   config_path: str | None = None, only: list[str] | None = None,
                   limit: int | None = None, scheduler: str | None = None,
                   n_workers: int | None = None, echo=print,
                   potential: str | None = None, score_only: bool = False) -> dict:
    """Run (or resume) the validation campaign in OUT/campaign and score it. ``potential``:
    one force field for every composition it covers, instead of each entry's own.
    ``score_only``: run nothing; score what the run in OUT has evaluated so far (it may be
    running: the ledger is read only), naming the compositions still pending."""
    from ..campaign.loop import run_campaign

    out = Path(out).resolve()
    vs, s, skipped, camp, resume = _prepare(out, set_path, preset, config_path, only, limit,
                                            potential, scheduler)
    if score_only:
        if not resume:
            raise UserError(f"--score-only: {out} holds no validation run yet; start one "
                            "without --score-only")
        return _score(out, vs, preset, s, echo, finished_only=True)
    if skipped:
        echo(f"--potential {potential} does not cover {len(skipped)} of the set: "
             + "; ".join(skipped))
    md = s.md
    echo(f"validate: {len(vs.entries)} compositions of {vs.name}, preset {preset} ("
         f"{'x'.join(str(k) for k in md.supercell)} cells, {len(md.temperatures_k)} temperatures "
         f"x ({md.equil_ps:g} + {md.prod_ps:g}) ps, {md.replicas} replica"
         f"{'s' if md.replicas > 1 else ''}; measured costs per preset: docs/validation.md)"
         f"{' (resuming)' if resume else ''}; results in {out}")
    run_campaign(None, camp, resume=resume, scheduler=scheduler, n_workers=n_workers,
                 echo=echo, settings=None if resume else s)
    return _score(out, vs, preset, s, echo, finished_only=False)
