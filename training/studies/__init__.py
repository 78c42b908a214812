"""Studies: runs that train many small models and write their own artifacts (the GAN lab, the toy
densities, the few-label features study). The models they train live in training/models/."""
