"""Analysis functions on synthetic data with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from driver.md import analysis as A


def _walk(D, dt, frames, atoms, seed):
    rng = np.random.default_rng(seed)
    return np.cumsum(rng.normal(0, np.sqrt(2 * D * dt), (frames, atoms, 3)), axis=0)


def test_fft_msd_equals_direct_average_over_origins():
    pos = _walk(0.1, 0.1, 150, 7, 1)
    direct = [np.mean(((pos[k:] - pos[:len(pos) - k]) ** 2).sum(-1)) for k in range(len(pos))]
    assert A.msd_fft(pos) == pytest.approx(direct, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_random_walk_D_recovered_within_error_bar(seed):
    D_true = 0.05  # A^2/ps
    res, lag, msd = A.diffusivity(_walk(D_true, 0.1, 2000, 32, seed), 0.1)
    assert res.window.diffusive and abs(res.window.slope - 1) < 0.1
    assert np.isfinite(res.D_err_A2_ps) and res.D_err_A2_ps > 0
    assert abs(res.D_A2_ps - D_true) < 3 * res.D_err_A2_ps   # within 3 sigma
    assert res.D_err_A2_ps / D_true < 0.2                    # and the bar is informative


def test_error_bar_shrinks_with_more_atoms():
    small, _, _ = A.diffusivity(_walk(0.05, 0.1, 2000, 4, 7), 0.1)
    large, _, _ = A.diffusivity(_walk(0.05, 0.1, 2000, 256, 7), 0.1)
    assert large.D_err_A2_ps < small.D_err_A2_ps / 3          # ~ 1/sqrt(N): 8x expected


def test_caged_motion_is_not_called_diffusive():
    rng = np.random.default_rng(5)
    site = rng.uniform(0, 10, (1, 20, 3))
    pos = site + rng.normal(0, 0.3, (1000, 20, 3))             # vibration, no hops
    res, _, _ = A.diffusivity(pos, 0.1)
    assert not res.window.diffusive
    assert "slope" in res.window.reason


def test_window_skips_ballistic_start():
    # ballistic (MSD ~ t^2) below 2 ps then diffusive: the window starts after it
    t = np.arange(0, 200, 0.1)
    msd = np.where(t < 2, 3 * t ** 2, 12 * t - 12)
    w = A.diffusive_window(t, msd, min_start_ps=0.5)
    assert w.diffusive and w.start_ps >= 1.0 and w.end_ps <= 100.0


def test_nernst_einstein_by_hand():
    # 1e22 Li/cm^3 with D = 1e-6 cm^2/s at 300 K: n e^2 D / kT
    n_ions, vol = 10, 1e-21 * 1e24  # 10 ions in 1e-21 cm^3 = 1000 A^3
    s, e = A.nernst_einstein(1e-6, 1e-7, n_ions, vol, 300.0)
    expected = 1e22 * (1.602176634e-19) ** 2 * 1e-6 / (1.380649e-23 * 300)
    assert s == pytest.approx(expected, rel=1e-12) and e == pytest.approx(expected / 10)
    assert A.nernst_einstein(1e-6, 0, n_ions, vol, 300.0, haven_ratio=0.5)[0] == pytest.approx(2 * expected)


def test_arrhenius_recovers_activation_energy_and_300K_value():
    Ea, lnA = 0.35, 8.0
    T = np.array([700.0, 900.0, 1100.0, 1300.0])
    rng = np.random.default_rng(3)
    sig = np.exp(lnA - Ea / (A.K_B_EV * T)) / T
    noisy = sig * np.exp(rng.normal(0, 0.05, len(T)))
    fit = A.arrhenius_fit(T, noisy, 0.05 * noisy, 300.0)
    assert abs(fit.Ea_eV - Ea) < 3 * fit.Ea_err_eV and fit.Ea_err_eV < 0.05
    true300 = np.exp(lnA - Ea / (A.K_B_EV * 300)) / 300
    lo, hi = fit.interval_95
    assert lo < true300 < hi
    assert fit.extrapolation_factor == pytest.approx(700 / 300)


def test_arrhenius_error_grows_when_extrapolating_farther():
    T = np.array([900.0, 1100.0, 1300.0])
    sig = np.exp(5 - 0.4 / (A.K_B_EV * T)) / T
    near = A.arrhenius_fit(T, sig, 0.1 * sig, 800.0)
    far = A.arrhenius_fit(T, sig, 0.1 * sig, 300.0)
    assert far.value_target_err_log > 2 * near.value_target_err_log


def test_elastic_constants_from_linear_stress():
    C_true = np.array([[250, 110, 90, 0, 0, 0], [110, 250, 90, 0, 0, 0], [90, 90, 200, 0, 0, 0],
                       [0, 0, 0, 60, 0, 0], [0, 0, 0, 0, 60, 0], [0, 0, 0, 0, 0, 70.0]])
    eps = 0.005
    stress = {}
    for j in range(6):
        for sign, tag in ((1, "p"), (-1, "m")):
            e = np.zeros(6)
            e[j] = sign * eps
            sigma_gpa = C_true @ e + 1.5           # residual stress cancels in differences
            stress[f"e{j + 1}{tag}"] = -sigma_gpa / A.BAR_TO_GPA   # LAMMPS pressure, bar
    C = A.elastic_constants(stress, eps)
    assert C == pytest.approx(C_true, abs=1e-9)


def test_moduli_of_an_isotropic_solid():
    K, G = 100.0, 60.0
    C11, C12 = K + 4 * G / 3, K - 2 * G / 3
    C = np.diag([C11] * 3 + [G] * 3)
    C[:3, :3] += C12 * (1 - np.eye(3))
    m = A.moduli(C)
    assert m["bulk_vrh"] == pytest.approx(K) and m["shear_vrh"] == pytest.approx(G)
    assert m["youngs_vrh"] == pytest.approx(9 * K * G / (3 * K + G))
    assert m["born_stable"]
    C[3, 3] = -5
    assert not A.moduli(C)["born_stable"]


def test_first_peak_ignores_noise_beyond_first_shell():
    r = np.linspace(0, 10, 201)
    g = np.where((r > 1.8) & (r < 2.4), 5.0 - 20 * (r - 2.1) ** 2, 0.2)
    g[180] = 9.0  # a spike at 9 A from sparse statistics
    assert A.first_peak(r, g) == pytest.approx(2.1, abs=0.05)
    assert A.first_peak(r, np.zeros_like(r)) is None


def test_elastic_uncertainty_zero_for_linear_and_positive_for_noisy_stress():
    C_true = np.diag([200.0, 200.0, 200.0, 50.0, 50.0, 50.0])
    C_true[:3, :3] += 80.0 * (1 - np.eye(3))
    eps = 0.01
    rng = np.random.default_rng(1)

    def stresses(noise_gpa):
        out = {"ref": -(np.zeros(6) + rng.normal(0, noise_gpa, 6)) / A.BAR_TO_GPA}
        for j in range(6):
            for sign, tag in ((1, "p"), (-1, "m")):
                e = np.zeros(6)
                e[j] = sign * eps
                out[f"e{j + 1}{tag}"] = -(C_true @ e + rng.normal(0, noise_gpa, 6)) / A.BAR_TO_GPA
        return out

    exact = A.elastic_uncertainty(stresses(0.0), eps)
    assert all(v == pytest.approx(0, abs=1e-9) for v in exact.values())
    noisy = A.elastic_uncertainty(stresses(0.05), eps)   # 500 bar of noise
    assert noisy["bulk_vrh_err"] > 0.1


def test_kinisi_on_a_run_shorter_than_its_diffusive_window_is_a_named_value_error():
    """A 0.3 ps production whose diffusive window would start at 1 ps: kinisi itself would
    fail with an IndexError deep inside (seen on a short ML run); the adapter says why in a
    ValueError, which the MD stage records as its note (the block estimate stands)."""
    from driver.md.diffusion import kinisi_diffusion
    rng = np.random.default_rng(0)
    pos = np.cumsum(rng.normal(0, 0.1, (31, 8, 3)), axis=0)        # 31 frames, 0.01 ps apart
    with pytest.raises(ValueError, match="diffusive window starts at 1 ps, after the longest"):
        kinisi_diffusion(pos, np.eye(3) * 10.0, 0.01, 1.0)
