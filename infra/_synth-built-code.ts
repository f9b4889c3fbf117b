/** Lambda code from an asset that the constructs build at synth. */
import type { CfnResource } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import type { AssetBuildRequest, SynthBuild } from './run-asset-builder.js';

/**
 * Lambda code from an asset built at synth. Binding it creates the asset, which bundles it; a
 * failed build throws the builder's own DeployModelError rather than CDK's wrapped one.
 */
export class SynthBuiltCode<K extends AssetBuildRequest['kind']> extends lambda.Code {
  constructor(private readonly asset: lambda.AssetCode, private readonly build: SynthBuild<K>) {
    super();
  }

  bind(scope: Construct): lambda.CodeConfig {
    return this.build.stage(() => this.asset.bind(scope));
  }

  override bindToResource(resource: CfnResource, options?: lambda.ResourceBindOptions): void {
    this.asset.bindToResource(resource, options);
  }
}
