import type { CfnStack } from './_cfn-model.js';

/** An object in the fake's S3. */
export interface S3Object {
  readonly body: Buffer;
  readonly etag: string;
  readonly contentType: string;
  readonly lastModified: Date;
  /** base64 sha256 of the whole object, when it was uploaded with `x-amz-checksum-sha256` (S3 keeps it and answers it under `x-amz-checksum-mode: ENABLED`). */
  readonly checksumSha256?: string;
}

export interface SsmParameter {
  readonly name: string;
  readonly value: string;
  readonly type: 'String' | 'StringList' | 'SecureString';
  readonly version: number;
  readonly lastModified: Date;
}

export interface IamRole {
  readonly name: string;
  readonly arn: string;
  readonly roleId: string;
  readonly assumeRolePolicy?: unknown;
}

/** What one published version (or `$LATEST`) of a function runs. */
export interface LambdaCode {
  readonly zip: Buffer;
  readonly sha256: string;
  readonly handler: string;
  readonly runtime: string;
  readonly env: Record<string, string>;
  readonly memoryMb: number;
  readonly timeoutSeconds: number;
  /** Layer version ARNs, in order. */
  readonly layers: readonly string[];
  readonly architectures: readonly string[];
  readonly role: string;
  readonly description: string;
  readonly lastModified: Date;
  /** A container-image function (PackageType Image): its URI, its /opt as a zip, its ENV. @default - a zip function */
  readonly image?: { readonly uri: string; readonly optZip: Buffer; readonly env: Readonly<Record<string, string>> };
}

export interface LambdaAlias {
  readonly name: string;
  functionVersion: string;
  description: string;
  routingConfig?: { AdditionalVersionWeights?: Record<string, number> };
  provisionedConcurrency?: number;
  revisionId: string;
}

export interface LambdaUrlConfig {
  readonly urlId: string;
  /** The alias or version the URL serves, or undefined for `$LATEST`. */
  readonly qualifier?: string;
  authType: 'NONE' | 'AWS_IAM';
  cors?: unknown;
  invokeMode: 'BUFFERED' | 'RESPONSE_STREAM';
  readonly created: Date;
}

export interface LambdaFunction {
  readonly name: string;
  readonly arn: string;
  latest: LambdaCode;
  readonly versions: Map<string, LambdaCode>;
  nextVersion: number;
  readonly aliases: Map<string, LambdaAlias>;
  /** Keyed by qualifier ('' for the unqualified function). */
  readonly urls: Map<string, LambdaUrlConfig>;
  readonly permissions: Map<string, Record<string, unknown>>;
  readonly tags: Record<string, string>;
}

export interface LambdaLayerVersion {
  readonly arn: string;
  readonly name: string;
  readonly version: number;
  readonly zip: Buffer;
  readonly sha256: string;
  readonly compatibleRuntimes: readonly string[];
}

/** A resource the fake has no provisioner for, recorded so tests can assert nothing unexpected appeared. */
export interface UnmodelledResource {
  readonly stackName: string;
  readonly logicalId: string;
  readonly type: string;
  readonly physicalId: string;
}

/** Everything the fake holds. Tests may read it; they should change it through the fake's API. */
export interface FakeState {
  readonly s3: Map<string, Map<string, S3Object>>;
  /** Multipart uploads in progress, by upload id. */
  readonly s3Uploads: Map<string, { bucket: string; key: string; contentType: string; parts: Map<number, Buffer> }>;
  readonly ssm: Map<string, SsmParameter>;
  readonly iam: { readonly roles: Map<string, IamRole>; readonly policies: Map<string, unknown> };
  readonly lambda: {
    readonly functions: Map<string, LambdaFunction>;
    readonly layers: Map<string, LambdaLayerVersion[]>;
  };
  readonly cloudformation: {
    /** Keyed by stack id (ARN); deleted stacks stay, like in CloudFormation. */
    readonly stacks: Map<string, CfnStack>;
    /** Resources of types without a provisioner, created by any stack, in creation order. */
    readonly unmodelled: UnmodelledResource[];
  };
}

export function createState(): FakeState {
  return {
    s3: new Map(),
    s3Uploads: new Map(),
    ssm: new Map(),
    iam: { roles: new Map(), policies: new Map() },
    lambda: { functions: new Map(), layers: new Map() },
    cloudformation: { stacks: new Map(), unmodelled: [] },
  };
}
