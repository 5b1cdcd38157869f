"""Distillation: fast LAMMPS-native students (linear SNAP on a ZBL core) fitted to the labels of
an ML teacher by active learning (``sse-driver distil``; issue 30). Modules: ``settings``
(recipes and presets), ``frames`` (configurations and labels, extxyz with provenance),
``teacher`` (labels as Dask tasks), ``descriptors`` (LAMMPS ``compute snap`` rows), ``fit``
(weighted ridge, committee, errors), ``explore`` (the student's MD and checks), ``workflow``
(generations, resume, the student file)."""
