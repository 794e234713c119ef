"""rkan_mmdet: Residual Kolmogorov-Arnold Network backbones for MMDetection."""
import re
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent


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
)
