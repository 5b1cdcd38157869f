"""Replicas: one composition run several times with different decoration and velocity seeds,
combined into one result with an uncertainty that includes the spread between them.

Why: the uncertainty of D from one trajectory (kinisi's posterior) is the statistical error
of that trajectory only. Replicas of a composition differ in where the dopants and Li sit
and in their velocities, and measured here (Li6.5La3Zr1.5Ta0.5O12, softBV, one cell,
1400 K, 30 ps, 8 seeds, 2026-11-29) their D scatter with an sd 2.0x the single-trajectory
sd: one trajectory's 68 % interval held the mean of the other seven in only 2 of 8.

Combination per temperature (pure function :func:`combine`): D = mean over R replicas, its
standard error the between-replica sd / sqrt(R), and 68 % / 95 % intervals from Student's t
with R - 1 degrees of freedom (the sd is itself estimated from R values): the textbook
estimator of a mean from independent runs, which holds both the trajectories' statistical
noise and the configurational spread. The single-trajectory errors propagated to the mean
(sqrt(sum err_i^2) / R) are kept as a diagnostic (``D_err_within_cm2_s``). A first version
took the larger of the two; on eight independent 3-replica estimates (1400 K, 20 ps) its
68 % intervals held the mean of the other seven in 7 of 8 (over-covering), the textbook
estimator in 6 of 8 (2026-11-29; 6 of 8 again at 12 ps, the test's setting). sigma follows by Nernst-Einstein on the mean volume, then
the Arrhenius fit runs on the combined values exactly as for one replica.
"""

from __future__ import annotations

import copy

import numpy as np

from . import analysis as A

#: offset between replica seeds (a prime, so replica seeds never collide with the
#: per-temperature velocity offsets of 1000 x i in workflow.run_md)
SEED_STRIDE = 104729


def replica_seed(seed: int, k: int) -> int:
    """Seed of replica ``k`` (0-based); replica 0 keeps the configured seed."""
    return int(seed + SEED_STRIDE * k)


def _t(q: float, dof: int) -> float:
    from scipy.stats import t

    return float(t.ppf(q, dof))


def mean_and_se(values: list[float]) -> tuple[float, float]:
    """Mean of R >= 2 replica values and its standard error, sd(ddof=1) / sqrt(R)."""
    v = np.asarray(values, float)
    return float(v.mean()), float(np.std(v, ddof=1) / np.sqrt(len(v)))


def propagated_se(errors: list[float]) -> float:
    """The replicas' own errors propagated to their mean: sqrt(sum err_i^2) / R."""
    e = np.asarray(errors, float)
    return float(np.sqrt(np.sum(e ** 2)) / len(e))


def _combine_T(rows: list[dict], n_li: int, haven: float) -> dict:
    r = len(rows)
    out = copy.deepcopy(rows[0])
    D, se = mean_and_se([x["D_cm2_s"] for x in rows])
    t68, t95 = _t(0.84, r - 1), _t(0.975, r - 1)
    vol = float(np.mean([x["volume_A3"] for x in rows]))
    T = out["temperature_K"]
    sigma, sigma_err = A.nernst_einstein(D, se, n_li, vol, T, haven_ratio=haven)
    out.update({
        "D_cm2_s": D, "D_err_cm2_s": se,
        "D_err_within_cm2_s": propagated_se([x["D_err_cm2_s"] for x in rows]),
        "D_ci68_cm2_s": [D - t68 * se, D + t68 * se], "D_ci95_cm2_s": [D - t95 * se, D + t95 * se],
        "D_estimator": (f"mean of {r} replicas (decoration and velocity seeds), each by "
                        f"{rows[0].get('D_estimator')}; SE = between-replica sd / sqrt({r}); "
                        f"intervals Student t with {r - 1} dof"),
        "sigma_S_cm": sigma, "sigma_err_S_cm": sigma_err, "volume_A3": vol,
        "lattice_A": list(np.mean([x["lattice_A"] for x in rows], axis=0)),
        "diffusive": all(x["diffusive"] for x in rows),
        "diffusive_reason": "; ".join(sorted({x["diffusive_reason"] for x in rows})),
        "n_hops": (sum(x["n_hops"] for x in rows) if all(x.get("n_hops") is not None for x in rows)
                   else None),
        "hops_estimate": float(sum(x["hops_estimate"] for x in rows)),
        "replicas": [{k: x.get(k) for k in ("D_cm2_s", "D_err_cm2_s", "diffusive", "n_hops",
                                            "run_dir")} for x in rows],
        "run_dir": rows[0]["run_dir"],
    })
    coll = [x.get("D_collective_cm2_s") for x in rows]
    if all(c is not None for c in coll):
        Dc, sec = mean_and_se(coll)
        out.update({"D_collective_cm2_s": Dc, "D_collective_err_cm2_s": sec,
                    "D_collective_ci95_cm2_s": [Dc - t95 * sec, Dc + t95 * sec],
                    "haven_ratio_measured": D / Dc if Dc > 0 else None})
        sc_, sce = A.nernst_einstein(Dc, sec, n_li, vol, T)
        out.update({"sigma_collective_S_cm": sc_, "sigma_collective_err_S_cm": sce})
    else:
        out.update({"D_collective_cm2_s": None, "D_collective_err_cm2_s": None,
                    "D_collective_ci95_cm2_s": None, "haven_ratio_measured": None,
                    "sigma_collective_S_cm": None, "sigma_collective_err_S_cm": None})
    return out


def _combine_elastic(results: list[dict]) -> dict:
    r = len(results)
    C = np.mean([x["elastic"]["C_GPa"] for x in results], axis=0)
    el = copy.deepcopy(results[0]["elastic"])
    el["C_GPa"] = C.tolist()
    for k, v in A.moduli(C).items():
        el[f"{k}_GPa" if not k.startswith(("born", "min_")) else k] = v
    # a modulus error is a finite-difference (systematic) bound, not noise that averages out:
    # the larger of the between-replica SE and the replicas' own bounds propagated
    for k in [k for k in el if k.endswith("_err_GPa")]:
        base = k.replace("_err_GPa", "_GPa")
        el[k] = max(mean_and_se([x["elastic"][base] for x in results])[1],
                    propagated_se([x["elastic"][k] for x in results]))
    el["replicas"] = r
    return el


def combine(results: list[dict]) -> dict:
    """One MD result from replica results of the same composition and settings."""
    from .analysis import arrhenius_summary

    if len(results) == 1:
        return results[0]
    first = results[0]
    n_li = first["n_li"]
    per_T = [_combine_T([r["temperatures"][i] for r in results], n_li, first["haven_ratio"])
             for i in range(len(first["temperatures"]))]
    used, arr, note = arrhenius_summary(per_T)
    out = copy.deepcopy(first)
    out.update({
        "temperatures": per_T, "arrhenius": arr, "arrhenius_note": note,
        "arrhenius_collective": arrhenius_summary(per_T, "sigma_collective")[1],
        "elastic": _combine_elastic(results),
        "replicas": [{"seed": r["settings"]["seed"], "run_dir": r["provenance"].get("run_dir"),
                      "formula": r["formula"],
                      "sigma_300K_S_cm": (r["arrhenius"] or {}).get("sigma_300K_S_cm")}
                     for r in results],
    })
    out["settings"] = {**first["settings"], "replicas": len(results)}
    out["checks"] = {**first["checks"],
                     "all_diffusive": all(p["diffusive"] for p in per_T),
                     "every_T_has_error_bar": all(np.isfinite(p["D_err_cm2_s"]) for p in per_T),
                     "arrhenius_fitted": arr is not None,
                     "born_stable": out["elastic"]["born_stable"]}
    out["provenance"] = {**first["provenance"],
                         "seconds": float(sum(r["provenance"]["seconds"] for r in results))}
    return out
