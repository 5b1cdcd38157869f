"""The peers of bench/optimizer.py, run in the peers' own environment (bench/.peers, made by
bench/optimizer.py --install-peers: scikit-optimize, BoTorch with CPU torch), never in the
project's. Prints JSON: regret (noiseless f at the method's recommended point minus f*)
after each mark, one list per seed.

- skopt: skopt.Optimizer, GP + EI (its defaults: Matern-5/2 ARD, White noise), batches by
  its constant liar (cl_min); recommends the best observed point (what its result gives).
- botorch: SingleTaskGP (BoTorch's defaults since 0.12: dimension-scaled LogNormal
  priors), known noise variance passed as train_Yvar where the problem says it, qLogNEI
  (qLogNoisyExpectedImprovement, S. Ament et al., NeurIPS 2023) optimized by
  optimize_acqf (10 restarts, 512 raw samples); recommends the observed point of best
  posterior mean.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from problems import PROBLEMS  # noqa: E402


def _evaluate(p, x, k, draws):
    return p.f(x) + p.noise_sd(x) * draws[k]


def run_skopt(p, seed, q, marks):
    from skopt import Optimizer as SkOpt

    draws = p.noise_draws(seed, p.budget)
    opt = SkOpt(p.bounds, base_estimator="GP", acq_func="EI", n_initial_points=0, random_state=seed)
    xs, ys, out = [], [], []

    def tell(pts):
        vals = [_evaluate(p, x, len(ys) + i, draws) for i, x in enumerate(pts)]
        opt.tell([list(map(float, x)) for x in pts], vals)
        for x, y in zip(pts, vals):
            xs.append(list(map(float, x)))
            ys.append(y)
            if len(ys) in marks:
                out.append(p.regret(xs[int(np.argmin(ys))]))

    tell([list(x) for x in p.initial(seed)])
    while len(ys) < p.budget:
        k = min(q, p.budget - len(ys))
        tell(opt.ask(n_points=k, strategy="cl_min") if k > 1 else [opt.ask()])
    return out


def run_botorch(p, seed, q, marks):
    import torch
    from botorch.acquisition.logei import qLogNoisyExpectedImprovement
    from botorch.fit import fit_gpytorch_mll
    from botorch.models import SingleTaskGP
    from botorch.models.transforms import Normalize, Standardize
    from botorch.optim import optimize_acqf
    from gpytorch.mlls import ExactMarginalLogLikelihood

    torch.manual_seed(seed)
    dt = torch.double
    draws = p.noise_draws(seed, p.budget)
    bounds = torch.tensor(np.array(p.bounds, float).T, dtype=dt)
    noisy = callable(p.noise) or p.noise > 0
    X, Y, V, out = [], [], [], []

    def model():
        tx = torch.tensor(np.array(X), dtype=dt)
        ty = torch.tensor(np.array(Y)[:, None], dtype=dt)
        kw = {"train_Yvar": torch.tensor(np.array(V)[:, None], dtype=dt)} if noisy else {}
        gp = SingleTaskGP(tx, ty, input_transform=Normalize(len(p.bounds), bounds=bounds),
                          outcome_transform=Standardize(1), **kw)
        fit_gpytorch_mll(ExactMarginalLogLikelihood(gp.likelihood, gp))
        return gp, tx

    def tell(pts):
        for x in pts:
            x = list(map(float, x))
            if p.steps:
                from problems import snap
                x = snap(x)
            X.append(x)
            Y.append(-_evaluate(p, x, len(Y), draws))        # BoTorch maximizes
            V.append(max(p.noise_sd(x) ** 2, 1e-6))
            if len(Y) in marks:
                if noisy:
                    gp, tx = model()
                    with torch.no_grad():
                        mu = gp.posterior(tx).mean.squeeze(-1).numpy()
                    out.append(p.regret(X[int(np.argmax(mu))]))
                else:
                    out.append(p.regret(X[int(np.argmax(Y))]))

    tell(p.initial(seed))
    while len(Y) < p.budget:
        k = min(q, p.budget - len(Y))
        gp, tx = model()
        acq = qLogNoisyExpectedImprovement(gp, X_baseline=tx, prune_baseline=True)
        cand, _ = optimize_acqf(acq, bounds=bounds, q=k, num_restarts=10, raw_samples=512)
        tell(cand.detach().numpy())
    return out


def main():
    a = argparse.ArgumentParser()
    a.add_argument("--method", choices=["skopt", "botorch"], required=True)
    a.add_argument("--problem", choices=list(PROBLEMS), required=True)
    a.add_argument("--q", type=int, default=1)
    a.add_argument("--seeds", type=int, default=10)
    a.add_argument("--marks", type=int, nargs="+", required=True)
    args = a.parse_args()
    warnings.simplefilter("ignore")
    p = PROBLEMS[args.problem]
    fn = run_skopt if args.method == "skopt" else run_botorch
    print(json.dumps([fn(p, s, args.q, set(args.marks)) for s in range(args.seeds)]))


if __name__ == "__main__":
    main()
