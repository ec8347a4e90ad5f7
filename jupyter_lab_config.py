"""JupyterLab settings of ``make lab`` (``jupyter lab --config=jupyter_lab_config.py``).

* The server shows the repository (``data/``, ``runs/``, ``figures/`` beside the notebooks) and
  the file browser opens in ``notebooks/``.
* Every kernel starts in the repository root, as under papermill and ``make notebooks``, so the
  notebooks' relative ``data_dir``, ``runs_dir`` and ``figures_dir`` ("data", "runs", "figures")
  name the same folders however a notebook is run (JupyterLab would start it in ``notebooks/``).
* The notebooks ask for the kernel ``python3``: the one of the environment running the server
  (``.venv``) comes first, so they run with the project's packages even when the user has
  another ``python3`` kernel registered.
"""

import sys
from pathlib import Path

from jupyter_client.kernelspec import KernelSpecManager
from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
from traitlets import default

ROOT = Path(__file__).resolve().parent


class RepositoryRootKernels(AsyncMappingKernelManager):
    """Kernels start in the repository root, whatever folder their notebook is in."""

    def cwd_for_path(self, path, **kwargs):  # noqa: ARG002 - the signature of the base class
        return str(ROOT)


class EnvironmentKernelsFirst(KernelSpecManager):
    """Kernel specs of the server's environment (``.venv/share/jupyter/kernels``) before the
    user's and the system's: a name found twice is taken from the first folder."""

    @default("kernel_dirs")
    def _kernel_dirs_default(self) -> list[str]:
        own = str(Path(sys.prefix, "share", "jupyter", "kernels"))
        return [own, *(d for d in super()._kernel_dirs_default() if d != own)]


c = get_config()  # noqa: F821 - provided by the config loader
c.ServerApp.root_dir = str(ROOT)
c.ServerApp.kernel_manager_class = RepositoryRootKernels
c.ContentsManager.preferred_dir = "notebooks"
c.ServerApp.kernel_spec_manager_class = EnvironmentKernelsFirst
