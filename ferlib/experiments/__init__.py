"""Experiments: code that generates data, trains and evaluates, above :mod:`ferlib.train`.

* :mod:`ferlib.experiments.pretrain` — the demo ``small_cnn``'s frame-level pre-training (the
  ``"synth-frames"`` trunk), trained by the engine on :mod:`ferlib.experiments.frames`' stills
  with :mod:`ferlib.experiments.frame_cnn`'s model;
* :mod:`ferlib.experiments.transfer` — the transfer check: trained on generated clips only,
  tested on real faces of people the generator never used;
* :mod:`ferlib.experiments.blend` — new identities as landmark-aligned blends of two real people.

Measurements over what they produce (statistics, a finished run's predictions) live in
:mod:`ferlib.analysis`.
"""
