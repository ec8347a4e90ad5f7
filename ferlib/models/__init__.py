"""The methods: importing this package imports every module in it, and each model file registers
its :class:`MethodSpec` (a new method is one new file here; nothing else keeps a list).

::

    from ferlib.models import METHODS, build_model, model_profile, method_spec
    model = build_model("fan", "demo", num_classes=7, variant="self_attention")
"""

import importlib
import pkgutil

from ferlib.models.registry import (
    MethodSpec, ModelProfile, PaperRefs, available_methods, build_model, example_batch, method_spec,
    model_inputs, model_profile,
)

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

#: every registered method, sorted
METHODS: tuple[str, ...] = tuple(available_methods())

__all__ = ["METHODS", "MethodSpec", "ModelProfile", "PaperRefs", "available_methods", "build_model", "example_batch",
           "method_spec", "model_inputs", "model_profile"]
