"""rkan_mmdet: Residual Kolmogorov-Arnold Network backbones for MMDetection.

Builds two C++ extensions against the installed torch,
``rkan_mmdet._poly_kan_conv`` (the fused CPU KAN conv) and
``rkan_mmdet._roi_align_cpu`` (a threaded RoIAlign, bitwise equal to mmcv's),
so install with ``pip install --no-build-isolation -e .``. Without torch at
build time the package installs without them and runs its portable paths.
"""
import re
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent


def extensions() -> dict:
    """``ext_modules`` and ``cmdclass`` of the CPU kernels, if torch is importable."""
    try:
        from torch.utils.cpp_extension import BuildExtension, CppExtension
    except ImportError:
        return {}
    # torch 2.14's headers need C++20; OpenMP makes at::parallel_for parallel.
    flags = dict(extra_compile_args=['-O3', '-std=c++20', '-fopenmp'],
                 extra_link_args=['-fopenmp'])
    exts = [
        CppExtension('rkan_mmdet._poly_kan_conv', ['rkan_mmdet/csrc/poly_kan_conv.cpp'],
                     **flags),
        # bitwise equal to mmcv's RoIAlign: no fused multiply-adds
        CppExtension('rkan_mmdet._roi_align_cpu', ['rkan_mmdet/csrc/roi_align_cpu.cpp'],
                     extra_compile_args=flags['extra_compile_args'] + ['-ffp-contract=off'],
                     extra_link_args=flags['extra_link_args']),
    ]
    return dict(ext_modules=exts, cmdclass=dict(build_ext=BuildExtension))


def read_version() -> str:
    text = (HERE / 'rkan_mmdet' / 'version.py').read_text()
    return re.search(r"__version__ = '([^']+)'", text).group(1)


def read_requirements(name: str) -> list:
    lines = (HERE / 'requirements' / name).read_text().splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.startswith('#')]


setup(
    name='rkan_mmdet',
    version=read_version(),
    description='RKAN (Residual Kolmogorov-Arnold Network) backbones for '
    'MMDetection and MMPretrain',
    long_description=(HERE / 'README.md').read_text(encoding='utf-8'),
    long_description_content_type='text/markdown',
    license='Apache-2.0',
    python_requires='>=3.9',
    packages=find_packages(include=['rkan_mmdet', 'rkan_mmdet.*']),
    install_requires=['torch>=2.6', 'torchvision', 'mmcv>=2.0.0rc4,<2.2.0'] +
    read_requirements('runtime.txt'),
    extras_require={'tests': read_requirements('tests.txt')},
    zip_safe=False,
    **extensions(),
)
