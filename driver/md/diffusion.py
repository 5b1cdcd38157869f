"""Li diffusion statistics through kinisi: tracer D* and collective (jump) D_sigma with
their posterior uncertainty, the Haven ratio, and the Li hops behind them.

kinisi (A. R. McCluskey et al., J. Chem. Theory Comput. 21, 79 (2025),
doi:10.1021/acs.jctc.4c01249; MIT licence, pinned in requirements.lock) fits the MSD over
every time interval of the diffusive regime with the covariance between intervals
(approximated from the MSD model itself) and samples the posterior of D by MCMC. Its
uncertainty is honest where a plain fit to correlated MSD points is not: consecutive MSD
points share most of their data, so ordinary least squares understates the error and block
averages over short blocks overstate the slope. This module is a thin adapter from the
arrays the MD stage already holds (unwrapped Li positions in the system's centre-of-mass
frame, the NVT cell) to kinisi's ``Parser``; the statistics are kinisi's own.

Collective diffusion: kinisi's JumpDiffusionAnalyzer fits the mean-squared displacement of
the Li centre of mass, D_J = <|sum_i dr_i|^2> / (2 d N t); D_sigma = D_J enters
Nernst-Einstein as sigma = n q^2 D_J / (k_B T), and H_R = D*/D_J. Its statistics come from
one collective coordinate per trajectory, so its interval is ~sqrt(N_Li) wider than D*'s:
at screening lengths it is reported, not used as the objective.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

#: MCMC settings: kinisi's defaults (32 walkers, 500 burn-in, 1000 samples kept, thinning 10)
MCMC = {"n_samples": 1000, "n_walkers": 32, "n_burn": 500, "n_thin": 10}
#: At most this many time intervals enter the MSD (evenly spaced): the MSD at each interval
#: uses every time origin, so more intervals add little information and O(n^2) cost.
MAX_INTERVALS = 200


@dataclass
class Posterior:
    """A posterior summary in cm^2/s: median, standard deviation and central intervals."""

    median: float
    std: float
    ci68: tuple[float, float]
    ci95: tuple[float, float]
    n_samples: int

    @classmethod
    def of(cls, samples: np.ndarray) -> "Posterior":
        s = np.asarray(samples, float).ravel()
        q = np.quantile(s, [0.025, 0.16, 0.5, 0.84, 0.975])
        return cls(float(q[2]), float(np.std(s, ddof=1)), (float(q[1]), float(q[3])),
                   (float(q[0]), float(q[4])), int(s.size))


@dataclass
class KinisiDiffusion:
    tracer: Posterior                 # D*
    collective: Posterior | None      # D_J (D_sigma); None when not computable
    start_dt_ps: float
    n_intervals: int
    n_hops: int                       # hop events over all Li (hop_count)
    kinisi_version: str

    @property
    def haven_ratio(self) -> float | None:
        """H_R = D*/D_sigma from the posterior medians (None without a positive D_sigma)."""
        if self.collective is None or not self.collective.median > 0:
            return None
        return self.tracer.median / self.collective.median

    def as_dict(self) -> dict:
        d = asdict(self)
        d["haven_ratio"] = self.haven_ratio
        return d


def _parser(positions: np.ndarray, cell: np.ndarray, dt_ps: float):
    """kinisi's base Parser over our unwrapped positions (frames, atoms, 3) in a fixed cell."""
    import scipp as sc
    from kinisi.parser import Parser

    pos = np.asarray(positions, float)
    n_frames, n_atoms, _ = pos.shape
    inv = np.linalg.inv(cell)
    frac = pos @ inv                           # fractional, unwrapped; kinisi unwraps steps
    latt = np.broadcast_to(cell, (n_frames, 3, 3)).copy()
    n_dt = n_frames - 1
    idx = np.unique(np.linspace(1, n_dt, min(MAX_INTERVALS, n_dt)).round().astype(int))
    coords = sc.array(dims=["time", "particle", "dimension"], values=frac % 1.0)
    lattice = sc.array(dims=["time", "dimension1", "dimension2"], values=latt, unit="angstrom")
    # kinisi turns intervals into frame counts with astype(int) (truncation): 3 * 0.1 / 0.1
    # is 2.9999... and would be counted as 2 frames, shortening the time axis and biasing D
    # low (7 % measured on a synthetic walk); a 1e-9 frame offset makes the count exact.
    return Parser(coords, lattice, time_step=sc.scalar(dt_ps, unit="ps"),
                  step_skip=sc.scalar(1.0),
                  dt=sc.array(dims=["time interval"], values=(idx + 1e-9) * dt_ps, unit="ps"),
                  specie_indices=sc.array(dims=["particle"], values=np.arange(n_atoms)),
                  drift_indices=sc.array(dims=["particle"], values=np.array([], dtype=np.int64)))


def hop_count(positions: np.ndarray, hop_length_A: float = 1.6) -> int:
    """Hop events: a Li hops when it moves more than ``hop_length_A`` from where it last
    settled, which then becomes its new anchor. 1.6 A is below the shortest Li-Li site
    distance of the garnet (24d-96h ~1.6-1.7 A) and NASICON (M1-M2 ~3 A) Li sublattices and
    well above thermal vibration amplitudes (~0.3-0.5 A rms at 1000 K)."""
    pos = np.asarray(positions, float)
    anchor = pos[0].copy()
    hops = 0
    for frame in pos[1:]:
        moved = np.linalg.norm(frame - anchor, axis=1) > hop_length_A
        hops += int(moved.sum())
        anchor[moved] = frame[moved]
    return hops


def kinisi_diffusion(positions: np.ndarray, cell: np.ndarray, dt_ps: float, start_dt_ps: float,
                     seed: int = 1, collective: bool = True) -> KinisiDiffusion:
    """D* (and D_J) posteriors from unwrapped Li ``positions`` (frames, atoms, 3, A) sampled
    every ``dt_ps`` in the NVT ``cell`` (3x3 rows, A); the diffusive regime starts at
    ``start_dt_ps`` (the MD stage's own diffusive-window start)."""
    import kinisi
    import scipp as sc
    from kinisi.diffusion_analyzer import DiffusionAnalyzer
    from kinisi.displacement import calculate_msd, calculate_mstd
    from kinisi.jump_diffusion_analyzer import JumpDiffusionAnalyzer

    p = _parser(positions, np.asarray(cell, float), dt_ps)
    last = float(p.dt.values[-1])
    if not start_dt_ps < last:
        # kinisi would index an empty diffusive regime (IndexError); a run this short has
        # no interval inside the window: say so, and the caller keeps the block estimate
        raise ValueError(f"the diffusive window starts at {start_dt_ps:.3g} ps, after the "
                         f"longest interval of the trajectory ({last:.3g} ps)")
    start = sc.scalar(float(start_dt_ps), unit="ps")
    rng = np.random.RandomState(seed)
    da = DiffusionAnalyzer(p)
    da._dg = calculate_msd(p, progress=False)
    da.diffusion(start, progress=False, random_state=rng, **MCMC)
    tracer = Posterior.of(sc.to_unit(da.D, "cm^2/s").values)
    coll = None
    if collective:
        ja = JumpDiffusionAnalyzer(p)
        ja._dg = calculate_mstd(p, progress=False)
        try:
            ja.jump_diffusion(start, progress=False, random_state=rng, **MCMC)
            coll = Posterior.of(sc.to_unit(ja.D_J, "cm^2/s").values)
        except (ValueError, np.linalg.LinAlgError):
            coll = None   # too few collective samples for a covariance: not computable
    return KinisiDiffusion(tracer, coll, float(start_dt_ps), int(p.dt.sizes["time interval"]),
                           hop_count(positions), kinisi.__version__)
