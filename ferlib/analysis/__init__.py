"""Measurements, statistics and inference over data and finished runs: what the notebooks report
as numbers and tables. It reads runs (:mod:`.runs`), runs their models again (:mod:`.inference`)
and measures (:mod:`.results`, :mod:`.weights`, :mod:`.features`, :mod:`.gradcam`,
:mod:`.embeddings`, :mod:`.preprocessing`, :mod:`.overview`, :mod:`.cost`, :mod:`.groups`);
:mod:`ferlib.viz` draws what it measures, and nothing here draws or imports the workbook."""
