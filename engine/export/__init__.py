"""What is made from session files: exports for other tools, figures, and runs compared.

:mod:`engine.session` is the file format alone (writing, reading, crash
safety); everything here only reads sessions through it.

- ``canvas``: the one stack every figure file is drawn with (matplotlib's
  Agg canvas, by pixel; Pillow writes only the GIFs);
  ``figures``: PNGs of an epoch (reconstructions, manifold, latent map, ...);
  ``latent_gif``: the latent map across epochs; ``data_space``: 2-D point
  data drawn where it lives.
- ``onnx_model``, ``tensorboard_events``, ``csv_tables``, ``script`` (with
  ``script_parts``): a run for ONNX runtimes, TensorBoard, spreadsheets, and a
  standalone PyTorch script.
- ``compared``: the runs of several sessions side by side (Qt-free; the
  compare window and ``compare`` read it); ``compare_figure``: its PNG.
"""
