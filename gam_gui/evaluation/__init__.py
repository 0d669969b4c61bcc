"""Scoring a model on a dataset: the batched pass (:mod:`.runner`), ``gam-gui eval`` (:mod:`.eval_data`),
its report and files (:mod:`.report`), ``compare --data`` (:mod:`.compare_data`) and shards, ``merge`` and
Ray (:mod:`.shards`). The metric itself is :mod:`gam_gui.metrics`."""
