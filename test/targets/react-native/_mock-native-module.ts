/**
 * onnxruntime-react-native's native module, mocked with onnxruntime-node: the `OrtApi` its JSI
 * installer puts on globalThis (lib/api.ts), and a stand-in for `react-native` whose
 * `NativeModules.Onnxruntime.install()` installs it (lib/binding.ts). Reads typed arrays from the
 * start of their buffer, as the native side does (cpp/TensorUtils.cpp), so a client that passes a
 * view into a larger buffer gets wrong numbers here too.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';

const TYPE_NUMBERS: Record<string, number> = {
  float32: 1, uint8: 2, int8: 3, uint16: 4, int16: 5, int32: 6, int64: 7, string: 8, bool: 9, float16: 10, float64: 11, uint32: 12, uint64: 13,
};

interface RnTensor { type: string; data: unknown; dims: readonly number[] }
type TensorCtor = new (type: string, data: unknown, dims: readonly number[]) => RnTensor;

/** Every call the JavaScript side made on the mocked native API, for tests to assert on. */
export interface MockCalls { calls: string[] }

/**
 * The mocked `OrtApi`. `backends` is what the native side lists (cpp/SessionUtils.cpp:
 * cpu and xnnpack everywhere, coreml on iOS, nnapi on Android); onnxruntime-common drops the
 * execution providers a session asks for that are not among them.
 */
export function mockOrtApi(record: MockCalls, backends: readonly string[] = ['cpu', 'xnnpack']) {
  let Tensor: TensorCtor | undefined;
  const metadata = (list: readonly ort.InferenceSession.ValueMetadata[]) => list.map((m) => {
    if (!m.isTensor) return { name: m.name, isTensor: false, type: 0, shape: [], symbolicDimensions: [] };
    return {
      name: m.name, isTensor: true, type: TYPE_NUMBERS[m.type]!,
      shape: m.shape.map((d) => (typeof d === 'number' ? d : -1)),
      symbolicDimensions: m.shape.map((d) => (typeof d === 'string' ? d : '')),
    };
  });
  return {
    version: '1.24.3',
    listSupportedBackends: () => backends.map((name) => ({ name })),
    initOrtOnce(logLevel: number, tensorConstructor: TensorCtor) {
      record.calls.push(`initOrtOnce(${logLevel})`);
      Tensor = tensorConstructor;
    },
    createInferenceSession() {
      let session: ort.InferenceSession;
      return {
        async loadModel(model: string | ArrayBuffer, ...rest: unknown[]) {
          const options = (typeof model === 'string' ? rest[0] : rest[2]) as { executionProviders?: unknown[] };
          record.calls.push(`loadModel(${typeof model === 'string' ? 'path' : 'buffer'}, ${JSON.stringify(options.executionProviders)})`);
          session = typeof model === 'string'
            ? await ort.InferenceSession.create(model)
            : await ort.InferenceSession.create(new Uint8Array(model, rest[0] as number, rest[1] as number));
        },
        get inputMetadata() { return metadata(session.inputMetadata); },
        get outputMetadata() { return metadata(session.outputMetadata); },
        async run(feeds: Record<string, RnTensor>, fetches: readonly string[] | Record<string, unknown>) {
          record.calls.push(`run(${Object.keys(feeds).join(', ')})`);
          const nodeFeeds: Record<string, ort.Tensor> = {};
          for (const [name, t] of Object.entries(feeds)) {
            const data = t.type === 'string' ? t.data
              // The native side reads `length` elements from the buffer's start, whatever the view's offset.
              : new (t.data as { constructor: new (b: ArrayBufferLike, o: number, n: number) => unknown }).constructor((t.data as ArrayBufferView).buffer, 0, (t.data as unknown as { length: number }).length);
            nodeFeeds[name] = new ort.Tensor(t.type as ort.Tensor.Type, data as ort.Tensor.DataType, t.dims);
          }
          const out = await session.run(nodeFeeds);
          const names = Array.isArray(fetches) ? fetches : Object.keys(fetches);
          return Object.fromEntries(names.map((n) => [n, new Tensor!(out[n]!.type, out[n]!.data, out[n]!.dims)]));
        },
        endProfiling() {},
        dispose() { void session.release(); },
      };
    },
  };
}

/** A `react-native` module for the bundler's alias: only what onnxruntime-react-native imports. */
export function writeReactNativeStub(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'dm-rn-stub-'));
  const file = path.join(dir, 'react-native.js');
  writeFileSync(file, [
    'export const NativeModules = {',
    '  Onnxruntime: {',
    '    ORT_EXTENSIONS_PATH: undefined,',
    '    install() { globalThis.OrtApi = globalThis.__deployModelMockOrtApi; return true; },',
    '  },',
    '};',
    '',
  ].join('\n'));
  return file;
}
