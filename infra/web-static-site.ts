// The CDK construct that serves a web target's bundle from S3 behind CloudFront.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { CfnOutput, CustomResource, DefaultStackSynthesizer, Duration, RemovalPolicy, Size, Stack, Token, Validations } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Construct, type IConstruct } from 'constructs';
import { DeployModelError } from '../src/errors.js';
import { WEB_STATIC_SITE_OUTPUTS, type WebStaticSiteOutputKey } from './outputs.js';

export { WEB_STATIC_SITE_OUTPUTS, type WebStaticSiteOutputKey } from './outputs.js';

/** Extensions uploaded gzip-compressed, with `Content-Encoding: gzip`. */
const PRECOMPRESSED = ['.wasm'];

/**
 * Content types by extension for files under the immutable folders. WebAssembly must be
 * `application/wasm` for streaming compilation and module scripts must have a JavaScript type, so
 * neither is left to the upload's guess.
 */
export const WEB_STATIC_SITE_CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json; charset=utf-8',
};

const CACHE_IMMUTABLE = 'public, max-age=31536000, immutable';
const CACHE_REVALIDATE = 'no-cache';

export interface WebStaticSiteProps extends Omit<cloudfront.DistributionProps, 'defaultBehavior' | 'defaultRootObject'> {
  /** The built site: `index.html` at its root; versioned or hashed files under `ort/` and `model/`. */
  readonly siteDir: string;

  /**
   * Adds `Cross-Origin-Opener-Policy: same-origin` and `Cross-Origin-Embedder-Policy: require-corp`
   * to every response, which WebAssembly threads need (`SharedArrayBuffer`).
   * @default false
   */
  readonly crossOriginIsolated?: boolean;

  /**
   * Folders whose files keep their content under their name (a version or a hash in it): cached
   * for a year and never invalidated. Other files are revalidated on every load.
   * @default ['ort/', 'model/']
   */
  readonly immutableFolders?: string[];

  /**
   * Content type by extension (with the dot) for the files under `immutableFolders`.
   * @default WEB_STATIC_SITE_CONTENT_TYPES, and application/octet-stream for other extensions
   */
  readonly contentTypes?: Readonly<Record<string, string>>;

  /**
   * Memory of the function that copies the site into the bucket; the model passes through it.
   * @default 1024
   */
  readonly deploymentMemoryMb?: number;

  /**
   * Delete the bucket and its objects with the stack.
   * @default true
   */
  readonly destroyWithStack?: boolean;
}

interface UploadGroup {
  id: string;
  source: string;
  include: string[];
  exclude: string[];
  contentType?: string;
  contentEncoding?: string;
  cacheControl: string;
}

/**
 * A static site in a private S3 bucket behind CloudFront with origin access control: the web
 * bundle of a model (onnxruntime-web, the model, the page). Every file gets its content type and
 * caching (a year for `ort/` and `model/`, whose names change with their content); WebAssembly is
 * uploaded gzip-compressed, because CloudFront only compresses objects under 10,000,000 bytes and
 * onnxruntime-web's binary is 14 MB; COOP/COEP come from a response headers policy when the page
 * needs cross-origin isolation. Needs no deploy-model config: any CDK app can use it.
 */
export class WebStaticSite extends Construct {
  readonly bucket: s3.Bucket;
  readonly distribution: cloudfront.Distribution;
  readonly responseHeadersPolicy: cloudfront.ResponseHeadersPolicy;
  readonly deployments: s3deploy.BucketDeployment[];

  constructor(scope: Construct, id: string, props: WebStaticSiteProps) {
    super(scope, id);
    const {
      siteDir, crossOriginIsolated = false, deploymentMemoryMb = 1024, destroyWithStack = true,
      immutableFolders = ['ort/', 'model/'], contentTypes = WEB_STATIC_SITE_CONTENT_TYPES, ...distributionProps
    } = props;
    if (!existsSync(path.join(siteDir, 'index.html'))) {
      throw new DeployModelError('WEB_SITE_NOT_BUILT', `${this.node.path}: ${siteDir} has no index.html. Build the web target first (its site/ folder is what this construct uploads).`, { details: { siteDir } });
    }

    this.bucket = new s3.Bucket(this, 'Bucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: destroyWithStack ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
      autoDeleteObjects: destroyWithStack,
    });
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'The bucket holds the public files of a static site and is read only by CloudFront (origin access control); requests are logged by the distribution when its logging is enabled (enableLogging), not by S3 server access logs.',
    });

    this.responseHeadersPolicy = new cloudfront.ResponseHeadersPolicy(this, 'Headers', {
      comment: `deploy-model web site${crossOriginIsolated ? ', cross-origin isolated for WebAssembly threads' : ''}`,
      securityHeadersBehavior: {
        contentTypeOptions: { override: true },
        strictTransportSecurity: { accessControlMaxAge: Duration.days(365), includeSubdomains: false, override: true },
      },
      customHeadersBehavior: crossOriginIsolated
        ? { customHeaders: [
            { header: 'Cross-Origin-Opener-Policy', value: 'same-origin', override: true },
            { header: 'Cross-Origin-Embedder-Policy', value: 'require-corp', override: true },
          ] }
        : undefined,
    });

    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: 'deploy-model web site',
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      minimumProtocolVersion: cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
      ...distributionProps,
      defaultRootObject: 'index.html',
      defaultBehavior: {
        origin: origins.S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: this.responseHeadersPolicy,
        compress: true,
      },
    });
    this.acknowledgeDistributionFindings(distributionProps);

    this.deployments = this.uploadGroups(siteDir, immutableFolders, contentTypes).map((g) => new s3deploy.BucketDeployment(this, g.id, {
      sources: [s3deploy.Source.asset(g.source)],
      destinationBucket: this.bucket,
      include: g.include.length ? g.include : undefined,
      exclude: g.exclude.length ? g.exclude : undefined,
      // Filters apply to deletions too: each group prunes only its own files.
      prune: true,
      contentType: g.contentType,
      contentEncoding: g.contentEncoding,
      cacheControl: [s3deploy.CacheControl.fromString(g.cacheControl)],
      // Only the page and its scripts keep their names across versions; the rest is never invalidated.
      ...(g.cacheControl === CACHE_REVALIDATE ? { distribution: this.distribution, distributionPaths: ['/*'] } : {}),
      memoryLimit: deploymentMemoryMb,
      ephemeralStorageSize: Size.mebibytes(ephemeralMb(siteDir)),
    }));
    // The page goes last, so it never names a runtime or model file that is not there yet.
    // Between the custom resources only: the deployments share one function and its layer.
    const [pages, ...rest] = this.deployments.map(customResourceOf);
    for (const d of rest) pages!.node.addDependency(d);
    this.acknowledgeDeploymentFindings();
  }

  /** `https://<distribution domain>/` */
  get url(): string {
    return `https://${this.distribution.distributionDomainName}/`;
  }

  /** Writes the bucket, distribution and URL as stack outputs with the ids of `WEB_STATIC_SITE_OUTPUTS`. */
  addStackOutputs(prefix = ''): Record<WebStaticSiteOutputKey, CfnOutput> {
    const stack = Stack.of(this);
    const values: Record<WebStaticSiteOutputKey, [string, string]> = {
      bucketName: [this.bucket.bucketName, 'Bucket holding the site (private; read by CloudFront)'],
      distributionId: [this.distribution.distributionId, 'CloudFront distribution of the site'],
      domainName: [this.distribution.distributionDomainName, 'Domain name of the distribution'],
      url: [this.url, 'The index page'],
    };
    const outputs = {} as Record<WebStaticSiteOutputKey, CfnOutput>;
    for (const key of Object.keys(values) as WebStaticSiteOutputKey[]) {
      const [value, description] = values[key];
      outputs[key] = new CfnOutput(stack, `${prefix}${WEB_STATIC_SITE_OUTPUTS[key]}`, { value: Token.asString(value), description });
    }
    return outputs;
  }

  /**
   * One upload per (folder, extension) under the immutable folders, each with its content type,
   * plus the rest (the page, its scripts, the smoke data) revalidated on every load.
   */
  private uploadGroups(siteDir: string, immutableFolders: readonly string[], contentTypes: Readonly<Record<string, string>>): UploadGroup[] {
    const files = listFiles(siteDir);
    const groups: UploadGroup[] = [{
      id: 'UploadPages', source: siteDir, include: [], exclude: immutableFolders.map((f) => `${f}*`), cacheControl: CACHE_REVALIDATE,
    }];
    let gzipDir: string | undefined;
    for (const folder of immutableFolders) {
      const exts = [...new Set(files.filter((f) => f.startsWith(folder)).map((f) => path.extname(f)))].sort();
      for (const ext of exts) {
        const precompressed = PRECOMPRESSED.includes(ext);
        if (precompressed) gzipDir ??= gzipCopies(siteDir, files.filter((f) => PRECOMPRESSED.includes(path.extname(f))));
        groups.push({
          id: `Upload${pascal(folder)}${pascal(ext || 'none')}`,
          source: precompressed ? gzipDir! : siteDir,
          include: [`${folder}*${ext}`],
          exclude: ['*'],
          contentType: contentTypes[ext.toLowerCase()] ?? 'application/octet-stream',
          contentEncoding: precompressed ? 'gzip' : undefined,
          cacheControl: CACHE_IMMUTABLE,
        });
      }
    }
    return groups;
  }

  private acknowledgeDistributionFindings(props: Omit<cloudfront.DistributionProps, 'defaultBehavior'>): void {
    const acks: { id: string; reason: string; unless: boolean }[] = [
      { id: 'AwsSolutions-CFR1', unless: props.geoRestriction !== undefined, reason: 'A model page served worldwide by default; pass geoRestriction to limit it.' },
      { id: 'AwsSolutions-CFR2', unless: props.webAclId !== undefined, reason: 'The origin is a private bucket of static files (GET/HEAD only, no dynamic origin); pass webAclId to put AWS WAF in front.' },
      { id: 'AwsSolutions-CFR3', unless: props.enableLogging === true, reason: 'Access logs need a log bucket the user chooses; pass enableLogging and logBucket to keep them.' },
      { id: 'AwsSolutions-CFR4', unless: props.certificate !== undefined, reason: 'Without a custom domain CloudFront serves its default *.cloudfront.net certificate, whose TLS policy cannot be changed; with domainNames and certificate the minimum is TLS 1.2 (TLS_V1_2_2021).' },
    ];
    for (const a of acks.filter((x) => !x.unless)) Validations.of(this.distribution).acknowledge({ id: a.id, reason: a.reason });
  }

  /** BucketDeployment's function is a singleton at the stack's root; its findings are acknowledged there, by path. */
  private acknowledgeDeploymentFindings(): void {
    const stack = Stack.of(this);
    const bucketId = stack.getLogicalId(this.bucket.node.defaultChild as s3.CfnBucket);
    const region = Token.isUnresolved(stack.region) ? '<AWS::Region>' : stack.region;
    const qualifier = (this.node.tryGetContext('@aws-cdk/core:bootstrapQualifier') as string | undefined) ?? DefaultStackSynthesizer.DEFAULT_QUALIFIER;
    for (const child of stack.node.children.filter((c) => c.node.id.startsWith('Custom::CDKBucketDeployment'))) {
      Validations.of(child).acknowledge(
        { id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]', reason: "aws-cdk-lib's BucketDeployment function writes its logs with the AWS managed basic execution policy." },
        { id: 'AwsSolutions-IAM5[Action::s3:GetObject*]', reason: 'BucketDeployment reads the site asset from the CDK bootstrap bucket (its own grant).' },
        { id: 'AwsSolutions-IAM5[Action::s3:GetBucket*]', reason: 'BucketDeployment reads the site asset from the CDK bootstrap bucket (its own grant).' },
        { id: 'AwsSolutions-IAM5[Action::s3:List*]', reason: 'BucketDeployment lists the site bucket to prune obsolete files.' },
        { id: 'AwsSolutions-IAM5[Action::s3:DeleteObject*]', reason: 'BucketDeployment deletes obsolete files of this site only.' },
        { id: 'AwsSolutions-IAM5[Action::s3:Abort*]', reason: 'BucketDeployment aborts its own failed multipart uploads.' },
        { id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/*]`, reason: 'BucketDeployment writes and prunes the objects of this site\'s bucket.' },
        { id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-${qualifier}-assets-<AWS::AccountId>-${region}/*]`, reason: 'BucketDeployment reads the site\'s asset zip from the CDK bootstrap bucket.' },
        { id: 'AwsSolutions-IAM5[Resource::*]', reason: 'CloudFront invalidations cannot be scoped to a distribution ARN in BucketDeployment\'s own policy.' },
        { id: 'AwsSolutions-L1', reason: "The runtime of aws-cdk-lib's BucketDeployment function is chosen by aws-cdk-lib and moves with its releases." },
      );
    }
  }
}

/** The custom resource inside a BucketDeployment, which does the copying (not its handler, a singleton elsewhere). */
function customResourceOf(deployment: s3deploy.BucketDeployment): IConstruct {
  const child = deployment.node.children.find((c) => c instanceof CustomResource);
  if (!child) throw new DeployModelError('WEB_SITE_INTERNAL', `${deployment.node.path}: aws-cdk-lib's BucketDeployment has no CustomResource child; the upload order cannot be set.`, { kind: 'internal' });
  return child;
}

function listFiles(dir: string, prefix = ''): string[] {
  return readdirSync(path.join(dir, prefix), { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? listFiles(dir, `${prefix}${e.name}/`) : [`${prefix}${e.name}`]))
    .sort();
}

const pascal = (s: string): string => s.replace(/[^A-Za-z0-9]+/g, ' ').trim().split(' ').map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');

/** Room in /tmp for the function to unpack the site and copy it: three times the site, at least 512 MB. */
function ephemeralMb(siteDir: string): number {
  const bytes = listFiles(siteDir).reduce((a, f) => a + statSync(path.join(siteDir, f)).size, 0);
  return Math.min(10_240, Math.max(512, Math.ceil((3 * bytes) / 1024 / 1024) + 256));
}

/**
 * gzip -9 copies of `files` under a folder named by their content hash, so the asset hash, and
 * with it the deployment, changes only when the files do.
 */
function gzipCopies(siteDir: string, files: string[]): string {
  const hash = createHash('sha256');
  for (const f of files) hash.update(f).update(readFileSync(path.join(siteDir, f)));
  const dir = path.join(tmpdir(), 'deploy-model-web-gzip', hash.digest('hex').slice(0, 16));
  for (const f of files) {
    const dest = path.join(dir, f);
    if (existsSync(dest)) continue;
    mkdirSync(path.dirname(dest), { recursive: true });
    writeFileSync(dest, gzipSync(readFileSync(path.join(siteDir, f)), { level: 9 }));
  }
  return dir;
}
