"""save_npz: numpy.savez_compressed with fixed member timestamps, so a rerun of a golden
generator writes the same bytes."""
import io
import zipfile

import numpy as np


def save_npz(path, named):
    with zipfile.ZipFile(path, "w") as z:
        for key in sorted(named):
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.asarray(named[key], order="C"), allow_pickle=False)
            info = zipfile.ZipInfo(key + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, buf.getvalue())
