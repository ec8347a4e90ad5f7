"""ferlib.viz: the workbook's figures, drawn with seaborn and matplotlib under one theme
(:mod:`ferlib.viz.style`, applied on import)."""

from ferlib.viz.style import set_theme

set_theme()
