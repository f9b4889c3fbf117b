/** What the local target needs of this machine: Linux on x64 or arm64, where onnxruntime-node ships a binary; with package 'image', a builder that runs images. */
import type { ConfigProblem } from '../../config/format-issues.js';
import type { PlanInput } from '../target-module.js';
import type { LocalTargetConfig } from './schema.js';

export async function validateLocal(input: PlanInput<LocalTargetConfig>, platform: string = process.platform, arch: string = process.arch): Promise<ConfigProblem[]> {
  const path = `targets.${input.targetName}`;
  if (platform !== 'linux') {
    return [{ path, value: platform, rule: 'the local target runs the Linux Lambda artifacts and needs Linux', fix: 'run it in a Linux container or VM, or use the container target' }];
  }
  if (arch !== 'x64' && arch !== 'arm64') {
    return [{ path, value: arch, rule: 'the local target needs x64 or arm64: onnxruntime-node ships no Linux binary for other CPUs', fix: 'use an x64 or arm64 machine, or the container target' }];
  }
  if (input.target.package === 'image' && input.target.image.builder === 'buildah') {
    return [{ path: `${path}.image.builder`, value: 'buildah', rule: "the local target runs the image it builds, and buildah builds images but cannot run them", fix: "set builder: 'podman' or 'docker', or leave builder out to use whichever runs images here" }];
  }
  return [];
}
