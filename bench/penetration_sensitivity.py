"""Sensitivity of the interface-stability objective (critical current density for Li
penetration, driver/phasefield/penetration.py) over the realistic range of each input, one
at a time about a reference point, with the real DOLFINx current distribution.

    .venv/bin/python bench/penetration_sensitivity.py [--out docs-table.md]

Reference point: a Ta-LLZO-like electrolyte, sigma(300 K) = 1e-4 S/cm (D* = 1.1e-9 cm2/s at
the Li density of Li6.4La3Zr1.4Ta0.6O12, Nernst-Einstein with H_R = 1), K = 110 GPa, G = 40 GPa
(this project's softBV 0 K VRH moduli of Ta-LLZO, docs/md.md), and the model defaults. D is
varied over 6 decades through sigma = n q^2 D / (k_B T).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from driver.mpi import MPI  # noqa: E402,F401  (mpi4py before dolfinx)
from driver.phasefield import penetration as pen  # noqa: E402

E_CHARGE, K_B = 1.602176634e-19, 1.380649e-23
# Li per cm3 of Li6.4La3Zr1.4Ta0.6O12: 8 formula units in a = 12.922 A (OBELiX kji)
N_LI_CM3 = 8 * 6.4 / (12.922e-8) ** 3
#: interface resistance: clean Li | LLZO (Sharafi et al., Chem. Mater. 2017,
#: doi:10.1021/acs.chemmater.7b03002; the garnet family's value, driver/families/garnet.py)
REF = dict(sigma_S_cm=1e-4, bulk_modulus_GPa=110.0, shear_modulus_GPa=40.0,
           interface_resistance_ohm_cm2=2.0)


def sigma_of_D(D_cm2_s: float, T: float = 300.0) -> float:
    return N_LI_CM3 * E_CHARGE ** 2 * D_cm2_s / (K_B * T)   # S/cm: cm^-3 C^2 cm2/s / J


def run(**over) -> dict:
    s = pen.Penetration(**{**REF, **over})
    return pen.evaluate(s)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", help="write the markdown table here too")
    a = ap.parse_args()
    rows = []
    sweeps = [
        ("D* (cm2/s) -> sigma", "sigma_S_cm",
         [(f"{D:.0e}", sigma_of_D(D)) for D in (1e-13, 1e-12, 1e-11, 1e-10, 1e-9, 1e-8, 1e-7)]),
        ("shear modulus G (GPa)", "shear_modulus_GPa", [(f"{g:g}", g) for g in (20, 40, 60, 80, 100)]),
        ("interface resistance (Ohm cm2)", "interface_resistance_ohm_cm2",
         [(f"{r:g}", r) for r in (0.5, 2, 10, 50, 200)]),
        ("flaw depth (um)", "flaw_length_um", [(f"{l:g}", l) for l in (1, 3, 10, 30, 100)]),
        ("flaw aspect l/b", "flaw_aspect", [(f"{q:g}", q) for q in (1, 3, 10, 30)]),
        ("surface energy (J/m2)", "surface_energy_J_m2", [(f"{g:g}", g) for g in (0.5, 1, 2, 4)]),
    ]
    t0 = time.time()
    for label, key, values in sweeps:
        for shown, v in values:
            m = run(**{key: v})
            i = m["critical_current_mA_cm2"]["nominal"]
            rows.append((label, shown, m["inputs"]["sigma_S_cm"], m["wagner_number"]["nominal"],
                         m["current_amplification"]["nominal"],
                         m["fracture_toughness_MPa_m05"]["nominal"], i))
    lines = [f"Measured {time.strftime('%Y-%m-%d')}, {time.time() - t0:.0f} s, 1 rank; "
             "reference: sigma(300 K) = 1e-4 S/cm, K = 110 GPa, G = 40 GPa, defaults otherwise.",
             "", "| input | value | sigma (S/cm) | Wa | A (tip focusing) | K_IC (MPa m^1/2) | "
             "i_crit (mA/cm2) |", "|---|---|---|---|---|---|---|"]
    for label, shown, sig, wa, A, K, i in rows:
        lines.append(f"| {label} | {shown} | {sig:.2e} | {wa:.3g} | {A:.3g} | {K:.3g} | {i:.3g} |")
    text = "\n".join(lines)
    print(text)
    if a.out:
        Path(a.out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
