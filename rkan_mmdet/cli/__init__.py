"""What the command lines ``tools/train.py`` and ``tools/test.py`` run.

* :mod:`.checked_runner`: shared flags, config loading, and running the
  Runner so that every bad input ends in one ``error: ...`` line, exit 2;
* :mod:`.config_errors`: an exception raised while MMEngine builds from the
  config, as one line naming the config key and value.

Not imported by ``import rkan_mmdet``.
"""
