"""Measurements and pictures of RKAN models, behind ``tools/analysis/*.py``:

* :mod:`.param_count`: every parameter, and the RKAN paper's profiler count;
* :mod:`.benchmark` (:mod:`.benchmark_models`, :mod:`.timing`): speed,
  memory, params and FLOPs of backbones and detectors, side by side;
* :mod:`.kan_conv_benchmark`: the KAN conv's execution paths;
* :mod:`.kan_functions` (:mod:`.kan_function_data`): the learned per-tap
  functions of every KAN conv;
* :mod:`.curves`: training curves from MMEngine's json logs;
* :mod:`.profile_train_step`: where one training iteration spends its time.

Not imported by ``import rkan_mmdet``; each module imports what it needs.
"""
