"""The methods: importing this package registers every model file's :class:`MethodSpec`.

::

    from ferlib.models import METHODS, build_model, get_profile, method_spec
    model = build_model("fan", "demo", num_classes=7, variant="self_attention")
"""

from ferlib.models.registry import (  # noqa: I001  (the registry first: the model files register into it)
    MethodSpec, PaperRefs, Profile, available_methods, build_model, example_batch, get_profile, method_spec,
    model_inputs,
)
from ferlib.models import baselines, fan, fer_gcn, kp_gcn_msa, stgcn  # noqa: F401,E402

#: every registered method, sorted
METHODS: tuple[str, ...] = tuple(available_methods())

__all__ = ["METHODS", "MethodSpec", "PaperRefs", "Profile", "available_methods", "build_model", "example_batch",
           "get_profile", "method_spec", "model_inputs"]
