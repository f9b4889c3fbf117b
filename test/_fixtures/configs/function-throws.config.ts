import { readRegion } from './_region.js';

export default ({ stage }: { stage: string }) => ({
  name: 'cls',
  model: { path: './m.onnx' },
  targets: { lambda: { type: 'aws-lambda', region: readRegion(stage) } },
});
