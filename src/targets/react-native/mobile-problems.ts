// What stops the React Native package from loading in an app, found before it is written.
import type { DeviceProblem } from '../../kits/on-device/device-problem.js';
import type { ModelSignature } from '../../model/types.js';
import { ORT_MOBILE_CORE, ORT_MOBILE_DOMAINS, ORT_REACT_NATIVE_VERSION } from './ort-react-native.js';

/** A problem found before the package is written: an error stops the build, a warning is reported. */
export type MobileProblem = DeviceProblem;

export interface MobileProblemsInput {
  targetName: string;
  signature: Pick<ModelSignature, 'file' | 'irVersion' | 'opsets' | 'operators' | 'inputs' | 'outputs'>;
}

/**
 * Checks the model against the ONNX Runtime that onnxruntime-react-native ships (no device
 * needed): IR version and opsets of its core, operator domains it registers, tensor types its
 * JavaScript bridge passes. Each problem names the rule and the fix.
 */
export function mobileProblems(input: MobileProblemsInput): MobileProblem[] {
  const { signature } = input;
  const ort = `onnxruntime-react-native ${ORT_REACT_NATIVE_VERSION} (ONNX Runtime ${ORT_MOBILE_CORE.version})`;
  const problems: MobileProblem[] = [];
  const model = { path: 'model.path', value: signature.file };
  if (signature.irVersion > ORT_MOBILE_CORE.maxIrVersion) {
    problems.push({ ...model, level: 'error', code: 'RN_IR_VERSION_UNSUPPORTED', rule: `the model has IR version ${signature.irVersion}; ${ort} loads up to ${ORT_MOBILE_CORE.maxIrVersion}`, fix: `export it with an older onnx package, or set ir_version to ${ORT_MOBILE_CORE.maxIrVersion} (onnx.helper) if it uses nothing newer` });
  }
  for (const [domain, version] of Object.entries(signature.opsets).sort()) {
    const max = ORT_MOBILE_CORE.maxOpsets[domain];
    if (max !== undefined && version > max) {
      problems.push({ ...model, level: 'error', code: 'RN_OPSET_UNSUPPORTED', rule: `the model imports ${domain} opset ${version}; ${ort} implements up to ${max}`, fix: `export it at opset ${max} or lower (torch.onnx.export(..., opset_version=${max})) or convert it with onnx.version_converter` });
    }
    if (domain === 'ai.onnx' && version < ORT_MOBILE_CORE.minOpset) {
      problems.push({ ...model, level: 'error', code: 'RN_OPSET_UNSUPPORTED', rule: `the model imports ai.onnx opset ${version}; ONNX Runtime loads opset ${ORT_MOBILE_CORE.minOpset} and later`, fix: 'convert it to a newer opset with onnx.version_converter' });
    }
  }
  const custom = [...new Set(Object.keys(signature.operators).filter((op) => op.includes(':')).map((op) => op.slice(0, op.lastIndexOf(':'))))]
    .filter((d) => !(ORT_MOBILE_DOMAINS as readonly string[]).includes(d)).sort();
  for (const domain of custom) {
    const ops = Object.keys(signature.operators).filter((op) => op.startsWith(`${domain}:`)).map((op) => op.slice(domain.length + 1));
    problems.push({ ...model, level: 'error', code: 'RN_OPERATOR_UNSUPPORTED', rule: `operators ${ops.join(', ')} of domain ${domain} are custom operators, which ${ort} does not have`, fix: 'replace them with standard ONNX operators when exporting, or register them in the app with a custom-op library (SessionOptions.ortExtLibPath)' });
  }
  for (const [role, tensors] of [['input', signature.inputs], ['output', signature.outputs]] as const) {
    for (const t of tensors) {
      if (t.dtype === 'unsupported' || t.dtype === 'bfloat16') {
        problems.push({ ...model, level: 'error', code: 'RN_DTYPE_UNSUPPORTED', rule: `${role} \`${t.name}\` is ${t.onnxTypeName}, which onnxruntime-react-native cannot pass between JavaScript and the native runtime`, fix: `cast \`${t.name}\` to float32 in the graph` });
      } else if (t.dtype === 'float16' && role === 'output') {
        problems.push({ ...model, level: 'warning', code: 'RN_FLOAT16_OUTPUT', rule: `output \`${t.name}\` is float16, which the native bridge returns through the global Float16Array constructor (cpp/TensorUtils.cpp), and Hermes has none`, fix: `cast \`${t.name}\` to float32 in the graph, or install a Float16Array polyfill on globalThis before createClient` });
      }
    }
  }
  return problems;
}
