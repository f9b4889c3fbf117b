// The aws-sagemaker canary/linear rollout, planned and synthesised: SageMaker's TrafficRoutingConfiguration, the rollback alarms, the steps it refuses, cfn-lint.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { configSchema, type Config } from '../../../src/config/schema.js';
import { isDeployModelError } from '../../../src/errors.js';
import { IoHelper, RecordingIoHost } from '../../../src/io/io-host.js';
import type { AwsSageMakerTargetConfig } from '../../../src/targets/aws-sagemaker/schema.js';
import { synthSageMakerTarget } from '../../../src/targets/aws-sagemaker/synth.js';
import { sageMakerTrafficRouting } from '../../../src/targets/aws-sagemaker/traffic-routing.js';
import { cfnLintMissing, runCfnLint } from '../../references/aws/run-cfn-lint.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'dm-sagemaker-rollout-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function target(extra: Record<string, unknown>): AwsSageMakerTargetConfig {
  const config: Config = configSchema.parse({
    name: 'ocr-det', model: { path: './model.onnx' },
    targets: { sagemaker: { type: 'aws-sagemaker', region: 'eu-west-1', instanceType: 'ml.g5.xlarge', ...extra } },
  });
  return config.targets.sagemaker as AwsSageMakerTargetConfig;
}

type Template = { Resources: Record<string, { Type: string; Properties: any }> };

function synth(extra: Record<string, unknown>) {
  const t = target(extra);
  const file = path.join(dir, 'model.tar.gz');
  writeFileSync(file, 'archive');
  const result = synthSageMakerTarget({
    config: { name: 'ocr-det' }, targetName: 'sagemaker', target: t, stage: 'prod', rootDir: dir, io: new IoHelper(new RecordingIoHost()),
    artifacts: { modelArchive: file, tritonModel: 'ocr-det' }, outdir: path.join(dir, `cdk.out-${Object.keys(extra).join('-')}-${Math.random().toString(36).slice(2, 8)}`),
  });
  const template = JSON.parse(readFileSync(result.templateFile, 'utf8')) as Template;
  const byType = (type: string) => Object.entries(template.Resources).filter(([, r]) => r.Type === type);
  return { result, template, byType };
}

function refusal(rollout: Record<string, unknown>): { code: string; message: string } {
  try {
    sageMakerTrafficRouting(target({ rollout }).rollout);
  } catch (e) {
    if (isDeployModelError(e)) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error('not refused');
}

describe('sageMakerTrafficRouting: rollout.steps onto TrafficRoutingConfig', () => {
  it('maps canary to CANARY (one canary size, then the rest) and linear to LINEAR (one step size until all)', () => {
    expect(sageMakerTrafficRouting(target({ rollout: { strategy: 'canary', intervalSeconds: 120 } }).rollout)).toEqual({
      type: 'CANARY', sizePercent: 10, waitIntervalSeconds: 120, percents: [10, 100], alarms: { maxErrorRate: 0 },
    });
    expect(sageMakerTrafficRouting(target({ rollout: { strategy: 'linear', alarms: { maxErrorRate: 0.05, maxP99LatencyMs: 250 } } }).rollout)).toEqual({
      type: 'LINEAR', sizePercent: 25, waitIntervalSeconds: 60, percents: [25, 50, 75, 100], alarms: { maxErrorRate: 0.05, maxP99LatencyMs: 250 },
    });
    expect(sageMakerTrafficRouting(target({ rollout: { strategy: 'linear', steps: [30, 60, 90] } }).rollout)?.percents).toEqual([30, 60, 90, 100]);
    expect(sageMakerTrafficRouting(target({ rollout: { strategy: 'all-at-once' } }).rollout)).toBeUndefined();
    expect(sageMakerTrafficRouting(undefined)).toBeUndefined();
  });

  it('refuses steps SageMaker cannot take, naming the rule and the fix', () => {
    const unequal = refusal({ strategy: 'linear', steps: [10, 50] });
    expect(unequal.code).toBe('SAGEMAKER_ROLLOUT_STEPS');
    expect(unequal.message).toContain('rollout.steps [10, 50] cannot be expressed on SageMaker');
    expect(unequal.message).toContain('moves one step size (LinearStepSize) at a time');
    expect(unequal.message).toContain('steps: [10, 20, 30, 40, 50, 60, 70, 80, 90]');
    expect(refusal({ strategy: 'linear', steps: [5, 10, 15] }).message).toContain("LinearStepSize must be 10-50 % of the variant's capacity");
    expect(refusal({ strategy: 'linear', steps: [60] }).message).toContain('LinearStepSize must be 10-50 %');
    expect(refusal({ strategy: 'canary', steps: [10, 50] }).message).toContain('a CANARY traffic routing takes one canary size');
    expect(refusal({ strategy: 'canary', steps: [60] }).message).toContain('CanarySize must be at most 50 %');
  });
});

describe('the stack of a canary or linear rollout', () => {
  it('has a LINEAR TrafficRoutingConfiguration and rolls back on the error-rate and p99 latency alarms', async () => {
    // WHEN
    const { result, byType } = synth({ bakeSeconds: 120, rollout: { strategy: 'linear', steps: [25, 50, 75], intervalSeconds: 300, alarms: { maxErrorRate: 0.01, maxP99LatencyMs: 400 } } });
    // THEN
    expect(result.nagFindings).toEqual([]);
    const [[, endpoint]] = byType('AWS::SageMaker::Endpoint') as unknown as [[string, { Properties: any }]];
    const policy = endpoint.Properties.DeploymentConfig.BlueGreenUpdatePolicy;
    expect(policy.TrafficRoutingConfiguration).toEqual({ Type: 'LINEAR', LinearStepSize: { Type: 'CAPACITY_PERCENT', Value: 25 }, WaitIntervalInSeconds: 300 });
    expect(policy.TerminationWaitInSeconds).toBe(120);
    // download 900 + startup 1200 + 4 × 300 + bake 120 + 600
    expect(policy.MaximumExecutionTimeoutInSeconds).toBe(4020);
    const alarms = byType('AWS::CloudWatch::Alarm');
    expect(alarms.map(([id]) => id.replace(/[0-9A-F]{8}$/, '')).sort()).toEqual(['EndpointErrorRateAlarm', 'EndpointModelLatencyP99Alarm']);
    expect(endpoint.Properties.DeploymentConfig.AutoRollbackConfiguration.Alarms.map((a: { AlarmName: { Ref: string } }) => a.AlarmName.Ref).sort()).toEqual(alarms.map(([id]) => id).sort());
    const rate = alarms.find(([id]) => id.startsWith('EndpointErrorRateAlarm'))![1].Properties;
    expect(rate).toMatchObject({ Threshold: 0.01, ComparisonOperator: 'GreaterThanThreshold', TreatMissingData: 'notBreaching' });
    expect(rate.Metrics.map((m: { Id: string; Expression?: string; MetricStat?: { Metric: { MetricName: string; Dimensions: unknown } } }) => m.Expression ?? m.MetricStat!.Metric.MetricName).sort())
      .toEqual(['IF(invocations > 0, errors / invocations, 0)', 'Invocation5XXErrors', 'Invocations']);
    const latency = alarms.find(([id]) => id.startsWith('EndpointModelLatencyP99Alarm'))![1].Properties;
    // ModelLatency is in microseconds
    expect(latency).toMatchObject({ MetricName: 'ModelLatency', Namespace: 'AWS/SageMaker', ExtendedStatistic: 'p99', Threshold: 400_000, Dimensions: expect.arrayContaining([{ Name: 'VariantName', Value: 'AllTraffic' }]) });
  });

  it('has a CANARY TrafficRoutingConfiguration and keeps the any-5XX alarm when maxErrorRate is 0', () => {
    const { byType } = synth({ rollout: { strategy: 'canary', steps: [20], intervalSeconds: 600 } });
    const [[, endpoint]] = byType('AWS::SageMaker::Endpoint') as unknown as [[string, { Properties: any }]];
    expect(endpoint.Properties.DeploymentConfig.BlueGreenUpdatePolicy.TrafficRoutingConfiguration).toEqual({ Type: 'CANARY', CanarySize: { Type: 'CAPACITY_PERCENT', Value: 20 }, WaitIntervalInSeconds: 600 });
    const alarms = byType('AWS::CloudWatch::Alarm');
    expect(alarms.map(([id]) => id.replace(/[0-9A-F]{8}$/, ''))).toEqual(['EndpointInvocation5xxAlarm']);
    expect(alarms[0]![1].Properties).toMatchObject({ MetricName: 'Invocation5XXErrors', Statistic: 'Sum', Threshold: 1 });
  });

  it('passes cfn-lint', async (t) => {
    const missing = cfnLintMissing();
    if (missing) t.skip(missing);
    const linear = synth({ rollout: { strategy: 'linear', steps: [25, 50, 75], intervalSeconds: 300, alarms: { maxErrorRate: 0.01, maxP99LatencyMs: 400 } } });
    const canary = synth({ rollout: { strategy: 'canary', steps: [20], intervalSeconds: 600 } });
    const findings = await runCfnLint([linear.result.templateFile, canary.result.templateFile], ['eu-west-1']);
    // No error or warning; the informational Fn::Join findings on the execution role predate the rollout (test/references/aws/cfn-lint.test.ts lists them).
    expect(findings.filter((f) => f.level !== 'Informational')).toEqual([]);
    expect(findings.filter((f) => f.resourceType === 'AWS::SageMaker::Endpoint' || f.resourceType === 'AWS::CloudWatch::Alarm')).toEqual([]);
    expect(findings.every((f) => f.rule === 'I1022' && f.resourceType === 'AWS::IAM::Role')).toBe(true);
  }, 60_000);
});
