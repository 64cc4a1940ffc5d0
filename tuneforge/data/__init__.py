"""Data builders (group `data`): sources -> train / val / test lists of Examples."""
