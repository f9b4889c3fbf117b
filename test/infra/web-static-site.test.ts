import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WEB_STATIC_SITE_CONTENT_TYPES, WebStaticSite, type WebStaticSiteProps } from '../../infra/web-static-site.js';
import { TEMPLATE_BODY_MAX_BYTES } from '../../src/kits/aws/redeploy-template.js';
import { readValidationReport } from '../../src/kits/aws/synth-stack.js';
import { CONTENT_TYPES } from '../../src/targets/web/index.js';
import { synth as synthWebTarget } from '../../src/targets/web/synth.js';
import { cfnLintMissing, runCfnLint } from '../references/aws/run-cfn-lint.js';
import { fastApp, tempDir } from './_fixtures.js';

// GIVEN a built site as the web target writes it: the page at the root, the runtime and the model
// under versioned or hashed names.
let tmp: ReturnType<typeof tempDir>;
let siteDir: string;
beforeAll(() => {
  tmp = tempDir();
  siteDir = path.join(tmp.dir, 'site');
  const files: Record<string, string> = {
    'index.html': '<!doctype html>', 'app.js': 'export {};', 'client.js': 'export {};', 'smoke-input.json': '{}', 'smoke-expected.json': '{}', 'deploy-model.json': '{}',
    'ort/1.30.0/ort.wasm.min.mjs': 'export {};', 'ort/1.30.0/ort-wasm-simd-threaded.mjs': 'export {};', 'ort/1.30.0/ort-wasm-simd-threaded.wasm': '\0asm'.repeat(2000),
    'model/3f2a0c1b9d4e.onnx': 'a model',
  };
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(siteDir, file)), { recursive: true });
    writeFileSync(path.join(siteDir, file), text);
  }
});
afterAll(() => tmp.cleanup());

/** What the stack reads of a web target's plan on AWS. */
function webPlan(stage: string, crossOriginIsolated: boolean, priceClass: 'PriceClass_100' | 'PriceClass_All') {
  return { name: 'ocr-det', stage, targetName: 'web', crossOriginIsolated, aws: { stackName: `ocr-det-${stage}-web`, region: 'eu-west-1', priceClass } };
}

function synth(props: Partial<WebStaticSiteProps> = {}) {
  const stack = new Stack(fastApp(), 'Web', { env: { region: 'eu-west-1' } });
  const site = new WebStaticSite(stack, 'Site', { siteDir, ...props });
  return { stack, site, template: Template.fromStack(stack) };
}

function deployments(template: Template): Record<string, Record<string, unknown>> {
  return Object.fromEntries(Object.entries(template.findResources('Custom::CDKBucketDeployment')).map(([id, r]) => [id.replace(/CustomResource.*$/, ''), (r as { Properties: Record<string, unknown> }).Properties]));
}

function nagFindings(props: Partial<WebStaticSiteProps> = {}) {
  const outdir = path.join(tmp.dir, `nag-${Math.random().toString(36).slice(2)}`);
  const app = new App({ outdir, builtinCloudFormationValidation: false, context: { '@aws-cdk/core:failSynthOnValidationErrors': false } });
  const stack = new Stack(app, 'NagStack', { env: { region: 'eu-west-1' } });
  new WebStaticSite(stack, 'Site', { siteDir, ...props });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  app.synth();
  return readValidationReport(outdir);
}

describe('WebStaticSite', () => {
  it('keeps the bucket private, encrypted and TLS-only, read by CloudFront through origin access control', () => {
    const { template } = synth();
    template.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', { PolicyDocument: { Statement: Match.arrayWith([
      Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      Match.objectLike({ Effect: 'Allow', Principal: { Service: 'cloudfront.amazonaws.com' }, Action: 's3:GetObject' }),
    ]) } });
    template.resourceCountIs('AWS::CloudFront::OriginAccessControl', 1);
    template.hasResourceProperties('AWS::CloudFront::Distribution', { DistributionConfig: {
      DefaultRootObject: 'index.html', HttpVersion: 'http2and3',
      DefaultCacheBehavior: { ViewerProtocolPolicy: 'redirect-to-https', AllowedMethods: ['GET', 'HEAD'], Compress: true, CachePolicyId: '658327ea-f89d-4fab-a63d-7e88639e58f6' },
      Origins: [Match.objectLike({ OriginAccessControlId: Match.anyValue(), S3OriginConfig: { OriginAccessIdentity: '' } })],
    } });
  });

  it('adds COOP and COEP to every response only when the page needs cross-origin isolation', () => {
    const isolated = synth({ crossOriginIsolated: true }).template;
    isolated.hasResourceProperties('AWS::CloudFront::ResponseHeadersPolicy', { ResponseHeadersPolicyConfig: {
      CustomHeadersConfig: { Items: [
        { Header: 'Cross-Origin-Opener-Policy', Value: 'same-origin', Override: true },
        { Header: 'Cross-Origin-Embedder-Policy', Value: 'require-corp', Override: true },
      ] },
      SecurityHeadersConfig: { ContentTypeOptions: { Override: true }, StrictTransportSecurity: Match.objectLike({ AccessControlMaxAgeSec: 31536000 }) },
    } });
    synth().template.hasResourceProperties('AWS::CloudFront::ResponseHeadersPolicy', { ResponseHeadersPolicyConfig: { CustomHeadersConfig: Match.absent() } });
  });

  it('uploads each kind of file with its content type and caching, WebAssembly gzip-compressed, the page last', () => {
    // WHEN
    const { template } = synth();
    const d = deployments(template);

    // THEN
    expect(Object.keys(d).sort()).toEqual(['SiteUploadModelOnnx', 'SiteUploadOrtMjs', 'SiteUploadOrtWasm', 'SiteUploadPages']);
    expect(d.SiteUploadPages).toMatchObject({ Exclude: ['ort/*', 'model/*'], Prune: true, SystemMetadata: { 'cache-control': 'no-cache' }, DistributionPaths: ['/*'] });
    expect(d.SiteUploadOrtWasm).toMatchObject({
      Include: ['ort/*.wasm'], Exclude: ['*'], Prune: true,
      SystemMetadata: { 'content-type': 'application/wasm', 'content-encoding': 'gzip', 'cache-control': 'public, max-age=31536000, immutable' },
    });
    expect(d.SiteUploadOrtMjs).toMatchObject({ Include: ['ort/*.mjs'], SystemMetadata: { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'public, max-age=31536000, immutable' } });
    expect(d.SiteUploadModelOnnx).toMatchObject({ Include: ['model/*.onnx'], SystemMetadata: { 'content-type': 'application/octet-stream' } });
    // Hashed and versioned files are never invalidated: only the page keeps its name across versions.
    for (const id of ['SiteUploadOrtWasm', 'SiteUploadOrtMjs', 'SiteUploadModelOnnx']) expect(d[id]!.DistributionPaths).toBeUndefined();
    const pages = Object.entries(template.findResources('Custom::CDKBucketDeployment')).find(([id]) => id.startsWith('SiteUploadPages'))![1] as { DependsOn: string[] };
    expect(pages.DependsOn.filter((x) => x.startsWith('SiteUpload')).length).toBeGreaterThanOrEqual(3);
  });

  it('writes the bucket, the distribution and the URL as stack outputs', () => {
    const stack = new Stack(fastApp(), 'Web', { env: { region: 'eu-west-1' } });
    new WebStaticSite(stack, 'Site', { siteDir }).addStackOutputs();
    const template = Template.fromStack(stack);
    expect(Object.keys(template.findOutputs('*')).sort()).toEqual(['DistributionDomainName', 'DistributionId', 'SiteBucketName', 'SiteUrl']);
    template.hasOutput('SiteUrl', { Value: { 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [Match.stringLikeRegexp('^SiteDistribution'), 'DomainName'] }, '/']] } });
    template.hasOutput('SiteBucketName', { Value: { Ref: Match.stringLikeRegexp('^SiteBucket') } });
  });

  it("defaults to the web target's content types", () => {
    for (const [ext, type] of Object.entries(WEB_STATIC_SITE_CONTENT_TYPES)) expect(CONTENT_TYPES[ext], ext).toBe(type);
  });

  it('refuses a folder that was not built, with the fix', () => {
    const stack = new Stack(fastApp(), 'Web');
    expect(() => new WebStaticSite(stack, 'Site', { siteDir: tmp.dir })).toThrow(expect.objectContaining({ code: 'WEB_SITE_NOT_BUILT', message: expect.stringContaining('Build the web target first') }));
  });
});

describe('WebStaticSite under cdk-nag AwsSolutionsChecks', () => {
  it('has no unacknowledged finding, isolated or not', () => {
    expect(nagFindings()).toEqual([]);
    expect(nagFindings({ crossOriginIsolated: true })).toEqual([]);
  });

  it('acknowledges a finding only where the prop that fixes it is not given', () => {
    expect(nagFindings({ webAclId: 'arn:aws:wafv2:us-east-1:123456789012:global/webacl/site/0c1d2e3f-4a5b-6c7d-8e9f-0a1b2c3d4e5f' })).toEqual([]);
    const { site } = synth({ webAclId: 'arn:aws:wafv2:us-east-1:123456789012:global/webacl/site/0c1d2e3f-4a5b-6c7d-8e9f-0a1b2c3d4e5f' });
    const acknowledged = JSON.stringify(site.distribution.node.metadata);
    expect(acknowledged).not.toContain('AwsSolutions-CFR2');
    expect(acknowledged).toContain('AwsSolutions-CFR1');
  });
});

describe('synth of a web target on AWS', () => {
  it('writes one stack per target, named and tagged like the other AWS targets, nag-clean', () => {
    const result = synthWebTarget({
      plan: webPlan('dev', true, 'PriceClass_100'), siteDir, version: '0123456789ab', outdir: path.join(tmp.dir, 'assembly'),
    });
    expect(result).toMatchObject({ stackName: 'ocr-det-dev-web', nagFindings: [] });
    const template = Template.fromJSON(JSON.parse(readFileSync(result.templateFile, 'utf8')));
    template.hasResourceProperties('AWS::CloudFront::Distribution', { DistributionConfig: { PriceClass: 'PriceClass_100' }, Tags: Match.arrayWith([{ Key: 'deploy-model:target', Value: 'web' }]) });
    // The version the site serves, for deploy and status to read back.
    template.hasOutput('SiteVersion', { Value: '0123456789ab' });
    expect(Buffer.byteLength(readFileSync(result.templateFile))).toBeLessThan(TEMPLATE_BODY_MAX_BYTES);
  });
});

const lintMissing = cfnLintMissing();
describe.skipIf(lintMissing !== undefined)(`cfn-lint over the web stack${lintMissing ? ` (skipped: ${lintMissing})` : ''}`, () => {
  it('reports no error or warning but the accepted ones', async () => {
    const files = [false, true].map((isolated) => synthWebTarget({
      plan: webPlan(isolated ? 'threads' : 'dev', isolated, 'PriceClass_All'), siteDir, version: '0123456789ab', outdir: path.join(tmp.dir, `lint-${isolated}`),
    }).templateFile);
    const findings = await runCfnLint(files, ['eu-west-1', 'us-east-1']);
    const unexpected = findings.filter((f) => !(
      // aws-cdk-lib's Lambda functions (BucketDeployment, auto-delete) carry a DependsOn on their role besides the GetAtt of its Arn: redundant, same order.
      (f.rule === 'W3005' && /^Resources\/Custom(CDKBucketDeployment|S3AutoDeleteObjects)[A-Za-z0-9]+\/DependsOn\/\d+$/.test(f.path))
      // aws-cdk-lib writes ARNs and URLs with Fn::Join; cfn-lint prefers Fn::Sub, a matter of style.
      || f.rule === 'I1022'));
    expect(unexpected.map((f) => `${f.rule} ${f.path}: ${f.message}`)).toEqual([]);
  }, 120_000);
});
