"""Molecular dynamics: structures -> LAMMPS decks -> LAMMPS under MPI -> transport."""
