import { describe, expect, it } from 'vitest';
import { targetSchema } from '../../../src/config/schema.js';
import { SAGEMAKER_GPU_FAMILIES, sageMakerGpuFamily, sageMakerInstanceTypeProblem } from '../../../src/kits/sagemaker/instance-types.js';
import { awsSageMakerTargetSchema, startupTimeoutSeconds } from '../../../src/targets/aws-sagemaker/schema.js';
import {
  DEFAULT_SAGEMAKER_TRITON_VERSION, parseEcrImage, SAGEMAKER_TRITON_IMAGES, sageMakerTritonImage,
} from '../../../src/kits/sagemaker/triton-images.js';

const BASE = { type: 'aws-sagemaker' as const, region: 'eu-west-1', instanceType: 'ml.g5.xlarge' };

function issues(input: Record<string, unknown>) {
  const result = awsSageMakerTargetSchema.safeParse({ ...BASE, ...input });
  return result.success ? [] : result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
}

describe('awsSageMakerTargetSchema', () => {
  it('fills the defaults, Triton options included, and is part of the config schema', () => {
    expect(awsSageMakerTargetSchema.parse(BASE)).toEqual({
      ...BASE, instanceCount: 1, modelDownloadTimeoutSeconds: 900, tritonVersion: DEFAULT_SAGEMAKER_TRITON_VERSION,
      inferenceAmiVersion: 'al2-ami-sagemaker-inference-gpu-3-1', bakeSeconds: 300, logRetentionDays: 30,
      engine: 'tensorrt', precision: 'fp16', workspaceMb: 4096, instancesPerGpu: 1, warmup: true,
    });
    expect(targetSchema.safeParse(BASE).success).toBe(true);
  });

  it('documents every optional field with its default', () => {
    for (const [key, field] of Object.entries(awsSageMakerTargetSchema.shape)) {
      if (!field.safeParse(undefined).success) continue;
      expect(field.description, key).toMatch(/Default: /);
    }
  });

  it('gives the startup health check room for the TensorRT build unless told otherwise', () => {
    expect(startupTimeoutSeconds(awsSageMakerTargetSchema.parse(BASE))).toBe(1200);
    expect(startupTimeoutSeconds(awsSageMakerTargetSchema.parse({ ...BASE, engine: 'onnxruntime' }))).toBe(600);
    expect(startupTimeoutSeconds(awsSageMakerTargetSchema.parse({ ...BASE, startupHealthCheckTimeoutSeconds: 3000 }))).toBe(3000);
    expect(issues({ startupHealthCheckTimeoutSeconds: 30 })[0]?.path).toBe('startupHealthCheckTimeoutSeconds');
  });

  it.each(['tensorrt', 'onnxruntime'])("refuses an instance without an NVIDIA GPU for engine '%s', naming the GPU families", (engine) => {
    const [issue] = issues({ instanceType: 'ml.m5.xlarge', engine });
    expect(issue).toEqual({ path: 'instanceType', message: expect.stringContaining("'ml.m5.xlarge' has no NVIDIA GPU") });
    expect(issue!.message).toContain(engine === 'tensorrt' ? 'TensorRT engines' : 'KIND_GPU');
    expect(issue!.message).toContain('ml.g4dn.*, ml.g5.*');
  });

  it('keeps the list of GPU families in one place, used by every check', () => {
    for (const f of SAGEMAKER_GPU_FAMILIES) {
      expect(sageMakerGpuFamily(`ml.${f.family}.2xlarge`)).toBe(f);
    }
    expect(sageMakerGpuFamily('ml.inf2.xlarge')).toBeUndefined();
    expect(sageMakerInstanceTypeProblem('ml.g6e.xlarge', 'tensorrt', '25.09')).toBeUndefined();
  });

  it('refuses a V100 with a Triton release that dropped it, but not with an older one', () => {
    expect(issues({ instanceType: 'ml.p3.2xlarge' })).toEqual([{ path: 'instanceType', message: expect.stringContaining('compute capability 7') }]);
    expect(issues({ instanceType: 'ml.p3.2xlarge', tritonVersion: '24.09' })).toEqual([]);
  });

  it('takes a volume size only on EBS-backed families', () => {
    expect(issues({ volumeSizeGb: 100 })).toEqual([{ path: 'volumeSizeGb', message: expect.stringContaining('NVMe instance storage') }]);
    expect(issues({ instanceType: 'ml.p3.2xlarge', tritonVersion: '24.09', volumeSizeGb: 100 })).toEqual([]);
  });

  it('refuses a Triton release or region without a SageMaker image unless image overrides it', () => {
    expect(issues({ tritonVersion: '25.06' })).toEqual([{ path: 'tritonVersion', message: expect.stringMatching(/no Triton image for tritonVersion '25\.06'.*knows 26\.05, 25\.09, 25\.04, 24\.09/) }]);
    expect(issues({ region: 'cn-north-1' })).toEqual([{ path: 'tritonVersion', message: expect.stringMatching(/not published in cn-north-1 \(releases published there: 25\.04, 24\.09, 24\.05/) }]);
    expect(issues({ region: 'cn-north-1', tritonVersion: '24.09' })).toEqual([]);
    expect(issues({ tritonVersion: '25.06', image: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/triton:25.06-py3' })).toEqual([]);
  });

  it('checks autoscaling against itself and the instance count', () => {
    expect(awsSageMakerTargetSchema.parse({ ...BASE, autoscaling: { max: 4 } }).autoscaling).toEqual({ min: 1, max: 4, targetInvocationsPerInstance: 1000 });
    expect(issues({ autoscaling: { min: 3, max: 2 } })).toEqual([{ path: 'autoscaling.max', message: 'autoscaling.max (2) must be at least autoscaling.min (3)' }]);
    expect(issues({ instanceCount: 5, autoscaling: { max: 4 } })).toEqual([{ path: 'instanceCount', message: expect.stringContaining('must lie between autoscaling.min (1) and autoscaling.max (4)') }]);
    expect(issues({ autoscaling: { min: 0, max: 2 } })[0]?.path).toBe('autoscaling.min');
  });

  it('applies the Triton options rules (INT8 needs a calibration table)', () => {
    expect(issues({ precision: 'int8' }).map((i) => i.path)).toEqual(['int8Calibration']);
  });

  it('refuses malformed region, instance type, VPC ids and image', () => {
    expect(issues({
      region: 'Ireland', instanceType: 'g5.xlarge', image: 'nvcr.io/nvidia/tritonserver:25.06-py3',
      vpc: { subnetIds: ['subnet-1'], securityGroupIds: [] },
    }).map((i) => i.path).sort()).toEqual(['image', 'instanceType', 'region', 'vpc.securityGroupIds', 'vpc.subnetIds.0']);
  });
});

describe('SageMaker Triton images', () => {
  it('builds the image URI from the table, with the China domain there', () => {
    expect(sageMakerTritonImage('us-east-1', '25.09')).toBe('763104351884.dkr.ecr.us-east-1.amazonaws.com/sagemaker-tritonserver:25.09-py3');
    expect(sageMakerTritonImage('eu-central-2', '25.09')).toBe('380420809688.dkr.ecr.eu-central-2.amazonaws.com/sagemaker-tritonserver:25.09-py3');
    expect(sageMakerTritonImage('cn-northwest-1', '24.05')).toBe('727897471807.dkr.ecr.cn-northwest-1.amazonaws.com.cn/sagemaker-tritonserver:24.05-py3');
  });

  it('throws SAGEMAKER_TRITON_IMAGE_UNKNOWN for what the table does not hold', () => {
    expect(() => sageMakerTritonImage('eu-west-1', '20.01')).toThrow(expect.objectContaining({ code: 'SAGEMAKER_TRITON_IMAGE_UNKNOWN' }));
  });

  it('lists releases newest first, the default among them', () => {
    const releases = Object.keys(SAGEMAKER_TRITON_IMAGES);
    expect(releases).toEqual([...releases].sort().reverse());
    expect(releases).toContain(DEFAULT_SAGEMAKER_TRITON_VERSION);
  });

  it("agrees with the SageMaker Python SDK's sagemaker-tritonserver.json", () => {
    // aws/sagemaker-python-sdk, master, last changed by 7c7f7a9 ("feat: triton v26.05", #5999):
    // sagemaker-core/src/sagemaker/core/image_uri_config/sagemaker-tritonserver.json, the same
    // content as src/sagemaker/image_uri_config/sagemaker-tritonserver.json on master-v2.
    // Every release there, with its region count, and a few of its entries.
    const regions = Object.fromEntries(Object.entries(SAGEMAKER_TRITON_IMAGES).map(([v, r]) => [v, Object.keys(r).length]));
    expect(regions).toEqual({ '26.05': 34, '25.09': 34, '25.04': 35, '24.09': 26, '24.05': 26, '24.03': 26, '24.01': 26, '23.12': 26 });
    expect(sageMakerTritonImage('me-central-1', '25.09')).toBe('914824155844.dkr.ecr.me-central-1.amazonaws.com/sagemaker-tritonserver:25.09-py3');
    expect(sageMakerTritonImage('mx-central-1', '25.09')).toBe('637423239942.dkr.ecr.mx-central-1.amazonaws.com/sagemaker-tritonserver:25.09-py3');
    expect(sageMakerTritonImage('ap-southeast-6', '26.05')).toBe('633930458069.dkr.ecr.ap-southeast-6.amazonaws.com/sagemaker-tritonserver:26.05-py3');
    expect(sageMakerTritonImage('cn-north-1', '25.04')).toBe('727897471807.dkr.ecr.cn-north-1.amazonaws.com.cn/sagemaker-tritonserver:25.04-py3');
    expect(sageMakerTritonImage('eu-south-2', '25.04')).toBe('503227376785.dkr.ecr.eu-south-2.amazonaws.com/sagemaker-tritonserver:25.04-py3');
    // 25.04 is the one 2025 release without ap-southeast-6; 25.09 and 26.05 leave out China.
    expect(SAGEMAKER_TRITON_IMAGES['25.04']!['ap-southeast-6']).toBeUndefined();
    expect(SAGEMAKER_TRITON_IMAGES['26.05']!['cn-northwest-1']).toBeUndefined();
    expect(SAGEMAKER_TRITON_IMAGES['24.09']!['me-central-1']).toBeUndefined();
  });

  it('parses ECR image URIs for the execution role', () => {
    expect(parseEcrImage('123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/triton:25.06-py3')).toEqual({ account: '123456789012', region: 'eu-west-1', repository: 'team/triton' });
    expect(parseEcrImage('docker.io/nvidia/triton:1')).toBeUndefined();
  });
});
