// The inspect command: prints a model's signature.
import path from 'node:path';
import type { Command } from 'commander';
import { isModelUrl } from '../../model/remote/model-url.js';
import type { ModelSignature, TensorSpec } from '../../model/types.js';
import { makeContext, type GlobalOptions } from '../context.js';
import { renderTable } from '../render-table.js';
import { formatBytes } from '../format.js';

/** The JSON form documented in the README: stable keys, tensors as { name, dtype, shape }. */
export function signatureJson(sig: ModelSignature): Record<string, unknown> {
  const tensor = (t: TensorSpec) => ({ name: t.name, dtype: t.dtype === 'unsupported' ? `unsupported:${t.onnxTypeName}` : t.dtype, shape: t.shape });
  return {
    file: sig.file, bytes: sig.bytes, sha256: sig.sha256, irVersion: sig.irVersion, opsets: sig.opsets,
    producer: sig.producer, producerVersion: sig.producerVersion,
    inputs: sig.inputs.map(tensor), outputs: sig.outputs.map(tensor),
    nodes: sig.nodes, initializers: sig.initializers, initializerBytes: sig.initializerBytes,
    operators: sig.operators, externalData: sig.externalData,
  };
}

export function renderSignature(sig: ModelSignature): string {
  const shape = (t: TensorSpec) => (t.shape === null ? '(unknown rank)' : `[${t.shape.join(', ')}]`);
  const dtype = (t: TensorSpec) => (t.dtype === 'unsupported' ? `${t.onnxTypeName} (cannot be served)` : t.dtype);
  const ops = Object.entries(sig.operators).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  return [
    `model        ${path.basename(sig.file)}  ${formatBytes(sig.bytes)}  sha256 ${sig.sha256.slice(0, 16)}…`,
    `format       IR ${sig.irVersion}, opsets ${Object.entries(sig.opsets).map(([d, v]) => `${d} ${v}`).join(', ')}, producer ${sig.producer || '(none)'} ${sig.producerVersion}`.trimEnd(),
    `graph        ${sig.nodes} nodes, ${sig.initializers} initializers (${formatBytes(sig.initializerBytes)})${sig.externalData.length ? `, external data: ${sig.externalData.join(', ')}` : ''}`,
    '',
    renderTable(['', 'NAME', 'DTYPE', 'SHAPE'], [
      ...sig.inputs.map((t) => ['input', t.name, dtype(t), shape(t)]),
      ...sig.outputs.map((t) => ['output', t.name, dtype(t), shape(t)]),
    ]),
    '',
    `operators    ${ops.map(([op, n]) => `${op} ${n}`).join(', ')}`,
  ].join('\n');
}

export function registerInspect(program: Command): void {
  program
    .command('inspect')
    .description("Read an ONNX model's signature from the graph without running it")
    .argument('<model>', 'path of the .onnx file, or its s3://, gs:// or Azure Blob URL (downloaded once into the cache)')
    .option('--json', 'print the signature as JSON')
    .addHelpText('after', '\nDynamic dims show as their symbolic name, or ? when unnamed.\nExample:\n  deploy-model inspect ./models/det.onnx --json')
    .action(async (model: string, opts: GlobalOptions) => {
      const cli = makeContext(opts);
      const sig = await cli.toolkit.inspect(isModelUrl(model) ? model : path.resolve(model));
      if (cli.json) cli.outJson(signatureJson(sig));
      else cli.out(renderSignature(sig));
    });
}
