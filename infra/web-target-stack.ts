/** The CDK stack of one web target on AWS (`host: 'aws'`), built from the target's plan. */
import { CfnOutput, Stack, Tags } from 'aws-cdk-lib';
import type * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import type { Construct } from 'constructs';
import { CONTENT_TYPES, IMMUTABLE_FOLDERS, type WebPlan, type WebStackPlan } from '../src/targets/web/index.js';
import { WEB_SITE_VERSION_OUTPUT } from './outputs.js';
import { WebStaticSite } from './web-static-site.js';

export interface BuildWebStackOptions {
  /** The target's plan: its name, stage and target, isolation, and the stack (`plan.aws`). */
  readonly plan: Pick<WebPlan, 'name' | 'stage' | 'targetName' | 'crossOriginIsolated'> & { readonly aws: WebStackPlan };
  /** The built `site/` folder. */
  readonly siteDir: string;
  /** The build's version (its content hash), written as the `SiteVersion` output. */
  readonly version: string;
}

/** The stack of one web target on AWS: the site's bucket, distribution and uploads, with its outputs. */
export class WebTargetStack extends Stack {
  readonly site: WebStaticSite;

  constructor(scope: Construct, options: BuildWebStackOptions) {
    const { plan } = options;
    const { stackName, region, priceClass } = plan.aws;
    super(scope, stackName, {
      stackName,
      // Region only: the account stays agnostic so synth needs no credentials.
      env: { region },
      description: `deploy-model ${plan.name}: target ${plan.targetName} (web on S3 + CloudFront), stage ${plan.stage}`,
    });
    Tags.of(this).add('deploy-model:name', plan.name);
    Tags.of(this).add('deploy-model:stage', plan.stage);
    Tags.of(this).add('deploy-model:target', plan.targetName);
    this.site = new WebStaticSite(this, 'Site', {
      siteDir: options.siteDir,
      crossOriginIsolated: plan.crossOriginIsolated,
      // The same content types and cache split as every other host of the bundle.
      contentTypes: CONTENT_TYPES,
      immutableFolders: [...IMMUTABLE_FOLDERS],
      priceClass: priceClass as cloudfront.PriceClass,
    });
    this.site.addStackOutputs();
    new CfnOutput(this, WEB_SITE_VERSION_OUTPUT, { value: options.version, description: 'Version of the site (content hash of the bundle)' });
  }
}

export function buildWebStack(scope: Construct, options: BuildWebStackOptions): WebTargetStack {
  return new WebTargetStack(scope, options);
}
