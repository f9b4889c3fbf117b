"""INT8 calibration table for TensorRT, written with onnxruntime's calibrator (bench/gpu-triton.ts --calibrate).

    python3 bench/gpu/calibrate.py MODEL.onnx OUT.flatbuffers '[{"name":"x","shape":[1,3,48,192],"datatype":"FP32"}]'

Runs MinMax calibration over generated inputs (the benchmark's own distribution: uniform in
[0, 1) for floats, the given `value` where one is set) and writes the table in onnxruntime's
flatbuffers format, which ONNX Runtime's TensorRT provider reads when
int8_use_native_calibration_table is 0 (what deploy-model plans for format 'onnxruntime').
Needs numpy and onnxruntime (or onnxruntime-gpu) 1.16 or later.
"""
import json
import os
import shutil
import sys
import tempfile

import numpy as np
from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod, create_calibrator, write_calibration_table

DTYPES = {"FP32": np.float32, "FP16": np.float16, "FP64": np.float64, "INT64": np.int64, "INT32": np.int32, "INT8": np.int8, "UINT8": np.uint8, "BOOL": np.bool_}


class Generated(CalibrationDataReader):
    def __init__(self, spec, batches=32):
        self.spec = spec
        self.left = batches
        self.rng = np.random.default_rng(1)

    def get_next(self):
        if self.left == 0:
            return None
        self.left -= 1
        feeds = {}
        for t in self.spec:
            dtype = DTYPES[t["datatype"]]
            if t.get("value") is not None:
                feeds[t["name"]] = np.full(t["shape"], t["value"], dtype=dtype)
            elif np.issubdtype(dtype, np.floating):
                feeds[t["name"]] = self.rng.random(t["shape"]).astype(dtype)
            else:
                feeds[t["name"]] = self.rng.integers(0, 10, t["shape"]).astype(dtype)
        return feeds


def ranges(data):
    """{tensor: (min, max)} from what compute_data returns (TensorsData since onnxruntime 1.16)."""
    items = data.data.items() if hasattr(data, "data") else data.items()
    out = {}
    for name, value in items:
        pair = getattr(value, "range_value", value)
        out[name] = (float(np.asarray(pair[0]).min()), float(np.asarray(pair[1]).max()))
    return out


def main():
    model, out, spec = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    work = tempfile.mkdtemp()
    try:
        calibrator = create_calibrator(model, [], augmented_model_path=os.path.join(work, "augmented.onnx"), calibrate_method=CalibrationMethod.MinMax)
        calibrator.collect_data(Generated(spec))
        write_calibration_table(ranges(calibrator.compute_data()), dir=work)
        shutil.copyfile(os.path.join(work, "calibration.flatbuffers"), out)
        print(f"wrote {out}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
