/**
 * When an endpoint refuses a smoke input that deploy-model generated from the signature, the
 * input, not the deployment, may be what is wrong (a model needing 512 audio samples, a real
 * sample rate): say so, and show the config lines that give it a real one.
 */
import type { ModelSignature } from '../model/types.js';
import type { SmokeCheck } from './run-smoke.js';
import type { V2Request } from './smoke-input.js';

const INTEGER = /^u?int(8|16|32|64)$/;

export function generatedInputHint(signature: ModelSignature, request: V2Request): SmokeCheck {
  const described = request.inputs.map((t) => `${t.name} [${t.shape.join(', ')}] ${t.datatype}`).join(', ');
  const shapeLines = signature.inputs
    .filter((spec) => spec.shape?.some((d) => typeof d === 'string'))
    .map((spec) => `${spec.name}: { shape: [${request.inputs.find((t) => t.name === spec.name)?.shape.join(', ')}] }`);
  const valueLines = signature.inputs
    .filter((spec) => INTEGER.test(spec.dtype) && spec.shape !== null && spec.shape.length === 0)
    .map((spec) => `${spec.name}: <a real value>`);
  const lines = [
    ...(shapeLines.length ? [`model: { inputs: { ${shapeLines.join(', ')} } }   // the shapes the model needs`] : []),
    ...(valueLines.length ? [`smoke: { input: { ${valueLines.join(', ')} } }   // values the model accepts`] : []),
    ...(shapeLines.length || valueLines.length ? [] : ["smoke: { input: './smoke-request.json' }   // a real request"]),
  ];
  return {
    name: 'generated input',
    passed: false,
    message: `the smoke input was generated from the signature (${described}) and may not suit this model; give it real shapes or values in deploy-model.config.ts:\n  ${lines.join('\n  ')}`,
  };
}
