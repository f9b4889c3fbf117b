/**
 * What the container target checks without a builder or a cluster: what the engine can serve (the
 * Triton planner's rules, OpenVINO's operators and data types), GPUs for a GPU engine, the platforms
 * the base image publishes, the model's external data and the manifests it would write.
 */
import type { ConfigProblem } from '../../config/format-issues.js';
import { DeployModelError, isDeployModelError } from '../../errors.js';
import type { PlanInput } from '../target-module.js';
import { externalDataPath } from './build-context.js';
import { defaultBaseImage, needsGpu, publishedPlatforms } from './engines.js';
import { validateManifests, type KnativeRefusal } from './manifests.js';
import { planContainer, targetPlatforms } from './plan.js';
import type { ContainerTargetConfig } from './schema.js';
import { resolveTritonOptions } from './triton-plan.js';

/** A coded error as a problem: its message is the rule, and its code stays visible. */
function codedProblem(path: string, value: unknown, e: DeployModelError, fix: string): ConfigProblem {
  return { path, value: JSON.stringify(value), rule: `${e.message.replace(/\.$/, '')} (${e.code})`, fix };
}

/** The checks that need only the config and the signature, each a coded error. */
export function engineProblems(input: PlanInput<ContainerTargetConfig>): ConfigProblem[] {
  const { target } = input;
  const at = `targets.${input.targetName}`;
  const problems: ConfigProblem[] = [];
  const gpuCount = target.gpu === false ? 0 : target.gpu?.count;
  if (needsGpu(target.engine) && gpuCount === 0) {
    const e = new DeployModelError('CONTAINER_GPU_REQUIRED',
      `engine '${target.engine}' serves on NVIDIA GPUs (instance_group KIND_GPU, TensorRT or CUDA), but gpu ${target.gpu === false ? 'is false' : 'asks for 0 GPUs'}: its pods would get no GPU and Triton would fail to load the model`);
    problems.push(codedProblem(`${at}.gpu`, target.gpu, e, "request at least one GPU (gpu: { count: 1 }, or leave gpu out), or use a CPU engine: engine: 'openvino' or 'onnxruntime'"));
  }
  if (!needsGpu(target.engine) && target.gpu !== undefined && target.gpu !== false && target.gpu.count > 0) {
    const e = new DeployModelError('CONTAINER_GPU_UNUSED',
      `engine '${target.engine}' runs on CPUs only (the image carries no CUDA libraries), so the ${target.gpu.count} GPU(s) gpu asks for would be reserved and never used`);
    problems.push(codedProblem(`${at}.gpu`, target.gpu, e, "remove gpu, or use engine: 'triton' to serve on GPUs"));
  }
  const baseImage = target.baseImage ?? defaultBaseImage(target.engine, target.engine === 'triton' ? resolveTritonOptions(target).tritonVersion : undefined);
  const published = publishedPlatforms(baseImage);
  if (published) {
    for (const platform of targetPlatforms(target).filter((p) => !published.includes(p))) {
      const e = new DeployModelError('CONTAINER_PLATFORM_UNPUBLISHED',
        `the base image ${baseImage} is published for ${published.join(', ')} only, so no ${platform} image can be built on it${target.engine === 'openvino' ? ' (OpenVINO Model Server images are built for x86-64)' : ''}`);
      problems.push(codedProblem(`${at}.${target.platforms ? 'platforms' : 'architecture'}`, target.platforms ?? target.architecture, e,
        `remove ${platform}${target.engine === 'openvino' ? ", or use engine 'onnxruntime', whose images are built for both" : ', or set baseImage to an image published for it'}`));
    }
  }
  if (target.engine !== 'onnxruntime' && target.kserve !== false && target.port !== 8080) {
    const e = new DeployModelError('CONTAINER_KSERVE_RUNTIME_PORT',
      `KServe's ${target.engine === 'triton' ? 'Triton' : 'OVMS'} runtime serves HTTP on port 8080 (its own --${target.engine === 'triton' ? 'http-port' : 'rest_port'} flag), so the InferenceService cannot use port ${target.port}`);
    problems.push(codedProblem(`${at}.port`, target.port, e, 'leave port at 8080, or set kserve: false'));
  }
  return problems;
}

export async function validateContainer(input: PlanInput<ContainerTargetConfig>): Promise<ConfigProblem[]> {
  const at = `targets.${input.targetName}`;
  const problems: ConfigProblem[] = engineProblems(input);
  for (const rel of input.signature.externalData) {
    try {
      externalDataPath(rel);
    } catch {
      problems.push({
        path: 'model.path', value: JSON.stringify(rel),
        rule: "the model's external data must sit inside the model's folder: onnxruntime resolves it relative to the model, and the image holds that folder only",
        fix: 'move the file beside the model and re-save the model with a relative location',
      });
    }
  }
  let plan;
  try {
    plan = planContainer(input);
  } catch (e) {
    if (!isDeployModelError(e)) throw e;
    // The engine's planner refuses the model: Triton's rules (a data type its onnxruntime backend
    // refuses, batching the model cannot do) or OpenVINO's (an operator it lacks, a data type).
    const batchingCode = e.code === 'CONTAINER_OPENVINO_BATCHING_UNSUPPORTED' || e.code === 'TRITON_BATCHING_UNSUPPORTED';
    problems.push(codedProblem(batchingCode ? 'model.batching' : `${at}.engine`, batchingCode ? input.config.model.batching : input.target.engine, e, batchingCode
      ? 'remove model.batching, or re-export the model with a dynamic first dim on every input and output'
      : e.code.startsWith('CONTAINER_OPENVINO')
        ? "use engine 'onnxruntime' or 'triton', or re-export the model as the message says"
        : 'change the model or the triton options as the message says, or use another engine'));
    return problems;
  }
  try {
    await validateManifests(plan.manifests.objects);
  } catch (e) {
    if (!isDeployModelError(e)) throw e;
    const details = e.details as { manifest?: string; name?: string; refusals?: KnativeRefusal[] };
    if (details.refusals) {
      for (const r of details.refusals) {
        const onPort = r.path.endsWith('.containerPort');
        problems.push({ path: onPort ? `${at}.port` : `${at}.kserve`, value: JSON.stringify(onPort ? input.target.port : input.target.kserve), rule: `the InferenceService's ${r.path} ${r.rule}`, fix: r.fix });
      }
    } else if (details.name !== undefined) {
      problems.push({
        path: 'name', value: JSON.stringify(details.name),
        rule: "it names the Kubernetes Service and the KServe InferenceService, so it must be a DNS-1035 label: a lowercase letter first, then lowercase letters, digits and '-', a letter or a digit last, at most 63 characters",
        fix: `change the config's name (e.g. '${details.name.replace(/-+$/, '') || 'model'}')`,
      });
    } else {
      problems.push({ path: at, value: JSON.stringify(details.manifest ?? 'manifests'), rule: e.message, fix: "check the target's resources and replicas" });
    }
  }
  return problems;
}
