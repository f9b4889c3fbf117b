// Lists the inputs and outputs of a model that cannot be served.
import { ortType } from './dtypes.js';
import type { ModelSignature, TensorSpec } from './types.js';

/**
 * Lists, in plain words, the inputs and outputs that cannot be served: element or value types
 * onnxruntime-node cannot pass in or out, and tensors whose rank the graph does not state.
 * An empty list means every input and output can be served.
 */
export function servabilityProblems(sig: ModelSignature): string[] {
  return [
    ...sig.inputs.flatMap((t) => problemsOf('input', t)),
    ...sig.outputs.flatMap((t) => problemsOf('output', t)),
  ];
}

function problemsOf(role: 'input' | 'output', t: TensorSpec): string[] {
  const problems: string[] = [];
  const typeProblem = typeProblemOf(role, t);
  if (typeProblem) problems.push(typeProblem);
  else if (t.shape === null) {
    problems.push(`${role} \`${t.name}\` has no shape in the graph (unknown rank), so requests cannot be checked `
      + 'and test inputs and server configs cannot be derived; give it a shape when exporting '
      + '(e.g. input shapes or dynamic_axes in torch.onnx.export) or run onnx.shape_inference.infer_shapes and save the model again');
  }
  return problems;
}

function typeProblemOf(role: 'input' | 'output', t: TensorSpec): string | undefined {
  const head = `${role} \`${t.name}\` is`;
  switch (t.onnxTypeName) {
    case 'sequence':
      return `${head} a sequence, which onnxruntime-node cannot pass in or out (it passes tensors only); `
        + 'use a tensor in the graph instead (SplitToSequence / ConcatFromSequence convert between the two)';
    case 'map':
      return `${head} a map, which onnxruntime-node cannot pass in or out (it passes tensors only); `
        + 'for a scikit-learn classifier, convert it with the zipmap option off (skl2onnx: options={"zipmap": False}) to get a probability tensor';
    case 'optional':
      return `${head} optional, which onnxruntime-node cannot pass in or out; make it a plain tensor in the graph`;
    case 'sparse_tensor':
      return `${head} a sparse tensor, which onnxruntime-node cannot pass in or out; make it dense in the graph`;
    case 'COMPLEX64': case 'COMPLEX128':
      return `${head} ${t.onnxTypeName}, which onnxruntime-node cannot pass in or out; `
        + 'split it in the graph into two float32 tensors (real and imaginary parts)';
    case 'UNDEFINED':
      return `${head} of no stated type, so it cannot be served; give it an element type when exporting`;
  }
  if (t.dtype === 'unsupported' || ortType(t.dtype) === undefined) {
    const target = /INT4/.test(t.onnxTypeName) ? 'int8' : 'float32';
    return `${head} ${t.onnxTypeName}, which onnxruntime-node cannot pass in or out; cast it in the graph to ${target}`;
  }
  return undefined;
}
