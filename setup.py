"""Builds the compiled engine kernels (Cython, pure-Python mode); everything else is in
pyproject.toml. `pip install -e .` (what `make install` runs) compiles them in place.

`FLOWTAPE_MARCH` picks the gcc `-march` target: `x86-64-v2` by default, portable to any
x86-64 machine of the last decade (the Docker image keeps it); `native` for a local build.
"""

import os
import platform

from Cython.Build import cythonize
from setuptools import Extension, setup

KERNELS = ["compute.flow.kernel"]
DIRECTIVES = {
    "language_level": 3,
    "boundscheck": False,
    "wraparound": False,
    "initializedcheck": False,
    "cdivision": False,  # Python's floor division and modulo, as the struct engine computes
    "annotation_typing": False,  # types come from the .pxd files
}


def _march_flags() -> list[str]:
    if platform.machine() not in {"x86_64", "AMD64"}:
        return []
    return [f"-march={os.environ.get('FLOWTAPE_MARCH', 'x86-64-v2')}"]


extensions = [
    Extension(name, [name.replace(".", "/") + ".py"], extra_compile_args=["-O3", *_march_flags()])
    for name in KERNELS
]
setup(ext_modules=cythonize(extensions, compiler_directives=DIRECTIVES))
