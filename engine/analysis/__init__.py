"""Numbers behind the code views: what each regulariser does to the code.

Qt-free and torch-light: every function here reads an epoch snapshot's
arrays (numpy) or, where it needs the model, runs on the probe set only, so
the trainer can call it once per epoch and the window can call it on its CPU
copies. One module per view:

- :mod:`.latent_usage` — KL per dimension sorted, active units (Burda et al. 2016).
- :mod:`.sparsity` — histogram of code activations, near-zero fraction per image.
- :mod:`.jacobian` — singular values of the encoder Jacobian at probe points.
- :mod:`.identity_probe` — off-manifold inputs and the identity ratio.
- :mod:`.recon_field` — the reconstruction field r(x) - x on a 2-D grid, the code curve.
- :mod:`.trails` — a few probe points' codes across epochs.
- :mod:`.noise_probe` — deterministic corruption for the noise slider, and its statistics.
- :mod:`.sample_quality` — FID and precision / recall of two feature sets; :mod:`.quality_probe`
  scores a run's samples each epoch in :mod:`.digit_features` (the shipped digit
  classifier) or data space.
"""
