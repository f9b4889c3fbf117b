/** What differs between the container target's engines: base images, the user, where the model sits, the platforms each base publishes. */
import { DEFAULT_TRITON_VERSION } from '../../kits/triton/schema.js';
import { CONTAINER_UID } from './dockerfile.js';
import type { ContainerEngine, ContainerPlatform } from './schema.js';

/** The OpenVINO Model Server release the `openvino` engine is pinned to (its config schema, its operator support). */
export const OVMS_VERSION = '2026.2';

export const DEFAULT_NODE_BASE_IMAGE = 'docker.io/library/node:22-bookworm-slim';
export const OVMS_IMAGE_REPOSITORY = 'docker.io/openvino/model_server';
export const TRITON_IMAGE_REPOSITORY = 'nvcr.io/nvidia/tritonserver';

/** The default base image of an engine; Triton's follows `tritonVersion`. */
export function defaultBaseImage(engine: ContainerEngine, tritonVersion: string = DEFAULT_TRITON_VERSION): string {
  switch (engine) {
    case 'onnxruntime': return DEFAULT_NODE_BASE_IMAGE;
    case 'triton': return `${TRITON_IMAGE_REPOSITORY}:${tritonVersion}-py3`;
    case 'openvino': return `${OVMS_IMAGE_REPOSITORY}:${OVMS_VERSION}`;
  }
}

/**
 * Where KServe's runtimes look for the model (`constants.DefaultModelLocalMountPath` in
 * kserve/kserve v0.20.0, the `--model-store` / `--model_path` of config/runtimes/kserve-tritonserver.yaml
 * and kserve-openvino.yaml). The Triton and OVMS images hold the model there, so the image serves it
 * as it is under KServe's runtime (no storageUri, nothing is downloaded) and under our Deployment.
 */
export const MODEL_MOUNT = '/mnt/models';

/**
 * The uid each engine's server runs as: ours for the Node server; for Triton and OVMS the user
 * their images create and KServe's runtimes pin (Triton's build.py r25.06 makes `triton-server`
 * 1000:1000; kserve-openvino.yaml runs OVMS's `ovms` user as 5000). The files we add are world-readable.
 */
export const ENGINE_UID: Readonly<Record<ContainerEngine, number>> = { onnxruntime: CONTAINER_UID, triton: 1000, openvino: 5000 };

/** The KServe ClusterServingRuntime of each engine, and the model format it is asked for. */
export const KSERVE_RUNTIME: Readonly<Record<Exclude<ContainerEngine, 'onnxruntime'>, { runtime: string; modelFormat: { name: string; version: string } }>> = {
  // config/runtimes/kserve-tritonserver.yaml: supportedModelFormats onnx version "1", protocolVersions v2 and grpc-v2.
  triton: { runtime: 'kserve-tritonserver', modelFormat: { name: 'onnx', version: '1' } },
  // config/runtimes/kserve-openvino.yaml: supportedModelFormats onnx version "1", protocolVersions v1, v2 and grpc-v2.
  openvino: { runtime: 'kserve-openvino', modelFormat: { name: 'onnx', version: '1' } },
};

/**
 * The platforms each default base image publishes. `node:22-bookworm-slim` is a multi-platform
 * index (amd64, arm64 among others); NGC publishes Triton's `-py3` release images for amd64 and
 * arm64 (SBSA servers); OVMS publishes amd64 only: its Dockerfile.ubuntu (openvinotoolkit/model_server
 * v2026.2) installs the x86_64 Bazel and amd64 packages, and there is no arm64 build. A base image
 * this table does not know is checked when it is pulled (`CONTAINER_PLATFORM_UNPUBLISHED` at stage).
 */
export function publishedPlatforms(baseImage: string): readonly ContainerPlatform[] | undefined {
  if (baseImage === DEFAULT_NODE_BASE_IMAGE) return ['linux/amd64', 'linux/arm64'];
  if (baseImage.startsWith(`${TRITON_IMAGE_REPOSITORY}:`) && /-py3$/.test(baseImage)) return ['linux/amd64', 'linux/arm64'];
  if (baseImage.startsWith(`${OVMS_IMAGE_REPOSITORY}:`)) return ['linux/amd64'];
  return undefined;
}

/** Whether the engine needs a GPU where it runs. */
export function needsGpu(engine: ContainerEngine): boolean {
  return engine === 'triton';
}
