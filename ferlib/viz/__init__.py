"""ferlib.viz: the workbook's figures, drawn with seaborn and matplotlib under one theme
(:mod:`ferlib.viz.style`, applied on import). It only draws: the numbers it draws are measured
in :mod:`ferlib.analysis`."""

from ferlib.viz.style import set_theme

set_theme()
