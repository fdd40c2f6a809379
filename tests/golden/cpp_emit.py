"""C++ formatting shared by the golden-data generators: arrays as `const G name = ...;`."""
import math

import numpy as np


def num(v):
    v = float(v)
    if math.isnan(v):
        return "kNaN"
    if math.isinf(v):
        return "kInf" if v > 0 else "-kInf"
    return repr(v)


def golden(name, a):
    """const G name = {{shape}, {values}};"""
    a = np.asarray(a, dtype=np.float64)
    shape = ", ".join(str(d) for d in a.shape)
    vals = ", ".join(num(v) for v in a.ravel())
    return f"const G {name} = {{{{{shape}}}, {{{vals}}}}};\n"
