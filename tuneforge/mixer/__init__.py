"""Mixers (group `mixer`, used by `data=mix`): how many examples of each source the training set gets."""
