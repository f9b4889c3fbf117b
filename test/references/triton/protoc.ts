import { spawnSync } from 'node:child_process';
import { basename, dirname } from 'node:path';
import { MODEL_CONFIG_PROTO } from './model-config-message.js';

/**
 * Google's protobuf compiler as a text-format parser: `protoc --encode` reads text format with
 * the C++ parser Triton reads config.pbtxt with (`TextFormat::ParseFromString` in `ReadTextProto`,
 * triton-inference-server/core src/filesystem/api.cc, r25.09), and `--decode` prints the bytes
 * back as text. Debian: `apt-get install -y protobuf-compiler`.
 */

/** Why protoc cannot run here, or undefined when it can. */
export function protocMissing(): string | undefined {
  const probe = spawnSync('protoc', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    return 'protoc is not installed (Debian: apt-get install -y protobuf-compiler; CI installs it)';
  }
  return undefined;
}

export interface ProtocResult<T> {
  status: number | null;
  stdout: T;
  stderr: string;
}

const PROTO_ARGS = ['-I', dirname(MODEL_CONFIG_PROTO), basename(MODEL_CONFIG_PROTO)];

/** `protoc --encode=inference.ModelConfig` over a config.pbtxt: the binary message, or an error on stderr. */
export function protocEncode(text: string): ProtocResult<Buffer> {
  const run = spawnSync('protoc', ['--encode=inference.ModelConfig', ...PROTO_ARGS], { input: text });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr.toString('utf8') };
}

/** `protoc --decode=inference.ModelConfig`: the message in protobuf text format. */
export function protocDecode(bytes: Uint8Array): ProtocResult<string> {
  const run = spawnSync('protoc', ['--decode=inference.ModelConfig', ...PROTO_ARGS], { input: bytes });
  return { status: run.status, stdout: run.stdout.toString('utf8'), stderr: run.stderr.toString('utf8') };
}
