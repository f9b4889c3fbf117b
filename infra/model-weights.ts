/** A model's weights kept apart from the function code: one S3 asset per file, named to the function, readable by it alone. */
import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';
import { MODEL_OBJECTS_ENV } from '../handlers/lambda/weights-from-s3.js';

/** One file of the model, as the build recorded it. */
export interface ModelWeightFile {
  /** `model.onnx`, or an external data file's path relative to it. */
  readonly name: string;
  /** The file on this machine. */
  readonly file: string;
  readonly bytes: number;
  /** Hex sha256 of the file, which the function checks after fetching it. */
  readonly sha256: string;
}

export interface ModelWeightsProps {
  /** The .onnx file first, then its external data files. */
  readonly files: readonly ModelWeightFile[];
}

/**
 * The weights as file assets in the environment's CDK bootstrap bucket. An asset's key is its
 * content's hash, so deploying the same weights again uploads nothing (the CDK toolkit skips an
 * asset whose object exists) and a change to the code alone leaves them where they are.
 */
export class ModelWeights extends Construct {
  /** The value of `DM_MODEL_OBJECTS`, which the handler reads at init. */
  readonly environmentValue: string;
  readonly assets: readonly s3assets.Asset[];

  constructor(scope: Construct, id: string, props: ModelWeightsProps) {
    super(scope, id);
    this.assets = props.files.map((f, i) => new s3assets.Asset(this, i === 0 ? 'Model' : `ExternalData${i}`, { path: f.file }));
    this.environmentValue = JSON.stringify(props.files.map((f, i) => ({
      uri: `s3://${this.assets[i]!.s3BucketName}/${this.assets[i]!.s3ObjectKey}`, file: f.name, sha256: f.sha256, bytes: f.bytes,
    })));
  }

  /** The environment variable a function needs to fetch them. */
  get environment(): Record<string, string> {
    return { [MODEL_OBJECTS_ENV]: this.environmentValue };
  }

  /**
   * Lets `grantee` read these objects and nothing else in the bucket: s3:GetObject on each key.
   * The default bootstrap bucket's encryption (S3-managed, or the AWS managed aws/s3 key) needs no
   * KMS grant for a role of the same account; a bootstrap with a customer managed key
   * (`--bootstrap-kms-key-id`) also needs kms:Decrypt on that key.
   */
  grantRead(grantee: iam.IGrantable): void {
    const partition = Stack.of(this).partition;
    grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'ReadModelWeights',
      actions: ['s3:GetObject'],
      resources: this.assets.map((a) => `arn:${partition}:s3:::${a.s3BucketName}/${a.s3ObjectKey}`),
    }));
  }
}
