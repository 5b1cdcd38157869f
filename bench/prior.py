"""Does an experimental prior reduce the evaluations a campaign needs?

    .venv/bin/python bench/prior.py [--seeds 20] [--budget 10]

The 'simulation' is a stand-in with a known optimum: log10 sigma(x) = a quadratic fitted to
the 14 OBELiX LAGP measurements (x in [0, 0.8]) plus Gaussian noise of 0.1 decade per
evaluation. The optimizer (sigma maximized, log scale) runs with no prior, with the
experimental points as a prior (+-1 decade, as campaign.prior does), and with the same
prior shifted by -1 decade (a systematic MD-vs-experiment offset). Figure: regret in
log10 sigma of the best evaluated x, median [quartiles] over seeds, and the median number
of evaluations to get within 0.05 decade of the optimum.
"""

from __future__ import annotations

import argparse
import datetime
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from driver.kb.prior import experimental_prior  # noqa: E402
from driver.optimize.optimizer import Objective, Optimizer  # noqa: E402
from driver.optimize.space import Space  # noqa: E402
from driver.schema import Settings  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--seeds", type=int, default=20)
    p.add_argument("--budget", type=int, default=10)
    a = p.parse_args()
    warnings.simplefilter("ignore")
    s = Settings.model_validate({"campaign": {"objectives": [{"name": "sigma_300K", "log": True}],
                                              "prior": {"enabled": True}}})
    pts = experimental_prior(s.campaign)
    X = np.array([x["x"] for x, _, _ in pts])
    Y = np.log10([sig for _, sig, _ in pts])
    coef = np.polyfit(X, Y, 2)
    truth = np.poly1d(coef)
    grid = np.linspace(0, 0.8, 8001)
    best_true = truth(grid).max()
    space = Space.from_dict({"variables": {"x": [0.0, 0.8]}})

    def run(seed, shift):
        rng = np.random.default_rng(100 + seed)
        opt = Optimizer(space, [Objective("sigma_300K", log=True)], seed=seed, n_initial=3)
        if shift is not None:
            for x, sig, _ in pts:
                opt.tell_prior(x, {"sigma_300K": sig * 10 ** shift}, {"sigma_300K": sig * 10 ** shift * np.log(10)})
        regret = []
        while len(regret) < a.budget:
            x = opt.ask(1)[0]
            y = 10 ** (truth(x["x"]) + rng.normal(0, 0.1))
            opt.tell(x, {"sigma_300K": y}, {"sigma_300K": y * np.log(10) * 0.1})
            evals = [o for o in opt.observations if o.source != "prior"]
            xb = max(evals, key=lambda o: o.y["sigma_300K"]).x["x"]
            regret.append(best_true - truth(xb))
        return np.array(regret)

    print(f"# bench/prior {datetime.date.today()}: {len(pts)} OBELiX LAGP points; truth = quadratic "
          f"fit {np.round(coef, 3).tolist()} (optimum x = {grid[np.argmax(truth(grid))]:.3f}); "
          f"{a.seeds} seeds; regret in decades")
    print("| prior | after 3 | after 5 | after 10 | evaluations to < 0.05 (median) |")
    print("|---|---|---|---|---|")
    for label, shift in (("none", None), ("experimental, +-1 decade", 0.0), ("shifted -1 decade", -1.0)):
        R = np.array([run(k, shift) for k in range(a.seeds)])
        cells = []
        for m in (3, 5, a.budget):
            q1, med, q3 = np.percentile(R[:, m - 1], [25, 50, 75])
            cells.append(f"{med:.3f} [{q1:.3f}, {q3:.3f}]")
        hit = [int(np.argmax(r < 0.05)) + 1 if np.any(r < 0.05) else a.budget + 1 for r in R]
        print(f"| {label} | " + " | ".join(cells) + f" | {np.median(hit):.0f} |")


if __name__ == "__main__":
    main()
