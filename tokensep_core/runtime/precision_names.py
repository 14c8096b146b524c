"""The one precision vocabulary (:data:`Precision`), without torch: configs validate against it
where no torch is imported (tokensep_core.runtime.precision maps the names to torch dtypes)."""

from typing import Literal

Precision = Literal["float32", "bfloat16", "float16"]
