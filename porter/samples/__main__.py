"""python -m porter.samples [FOLDER]: rebuild every sample model (default: samples)."""

import sys
from pathlib import Path

from porter.samples import write_samples

for path in write_samples(Path(sys.argv[1] if len(sys.argv) > 1 else "samples")):
    print(path)
