"""Loss maskers (group `loss_mask`): which tokens of a rendered example are trained."""
