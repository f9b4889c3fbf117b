/** The OnnxModelFunction construct: an ONNX model on AWS Lambda with its version, `live` alias and Function URL. */
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { Annotations, AssetHashType, CfnOutput, Duration, RemovalPolicy, Size, Stack, Token, Validations } from 'aws-cdk-lib';
import type * as ecr from 'aws-cdk-lib/aws-ecr';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { DeployModelError } from '../src/errors.js';
import { assertLambdaPackageFits, defaultLambdaMemoryMb, LAMBDA_MEMORY_MAX_MB, LAMBDA_MEMORY_MIN_MB } from '../src/kits/aws/lambda-limits.js';
import { modelNameFromFile, resolveModelFile, type ModelFile } from './_model-file.js';
import { SynthBuiltCode } from './_synth-built-code.js';
import { zipAssetCode } from './_zip-asset-code.js';
import { readZipContents } from './_zip-contents.js';
import { OnnxRuntimeLayer } from './onnx-runtime-layer.js';
import { fileStamp, runAssetBuilder, synthBuild } from './run-asset-builder.js';
import { chooseLambdaPackage } from '../src/kits/aws/lambda-package-choice.js';
import { LIVE_ALIAS_NAME, ONNX_MODEL_FUNCTION_OUTPUTS, type OnnxModelFunctionOutputKey } from './outputs.js';

export { LIVE_ALIAS_NAME, ONNX_MODEL_FUNCTION_OUTPUTS, type OnnxModelFunctionOutputKey } from './outputs.js';

/** The retention periods CloudWatch Logs accepts, in days. */
const RETENTION_DAYS: readonly number[] = Object.values(logs.RetentionDays).filter((v): v is number => typeof v === 'number');

export interface OnnxModelFunctionProps {
  /**
   * Path of the .onnx model, relative to the directory the CDK app runs in, or absolute. At synth
   * the function zip is built from it (the bundled handler, the model with its external data, the
   * signature read from the graph) and cached by content: the same model gives the same asset
   * hash. Give one of `model`, `code` and `image`.
   * @default - none: `code` or `image` is required
   */
  readonly model?: string;

  /**
   * The function as a container image in ECR (Lambda's `PackageType: Image`), e.g. the image
   * deploy-model's aws-lambda target builds with `package: 'image'` (handler, onnxruntime and the
   * model inside, a Runtime API client as its ENTRYPOINT). No layer is attached, the handler and
   * runtime come from the image, and the 250 MB zip limit does not apply (Lambda allows 10 GB).
   * Lambda pulls it from a repository of the function's own account and region, whose repository
   * policy lets `lambda.amazonaws.com` pull (the CDK bootstrap repository's
   * `LambdaECRImageRetrievalPolicy` does; CDK adds it to repositories it creates). Give one of
   * `model`, `code` and `image`.
   * @default - none: the function ships as a zip (`model` or `code`)
   */
  readonly image?: {
    readonly repository: ecr.IRepository;
    /** An image tag, or a digest (`sha256:...`). */
    readonly tagOrDigest: string;
  };

  /**
   * With `model`: ship a zip (the function zip and the onnxruntime layer, 250 MB unzipped at most)
   * or a container image (up to 10 GB): the same context the aws-lambda target builds (handler,
   * pruned onnxruntime, model, a Runtime API client as ENTRYPOINT), laid out at synth and handed to
   * CDK as an image asset, which `cdk deploy` builds and pushes to the bootstrap ECR repository
   * (docker, or the program in `CDK_DOCKER`, e.g. podman).
   * @default - zip when the model, the handler and the layer fit 250 MB unzipped, image otherwise
   */
  readonly package?: 'zip' | 'image';

  /**
   * With `model` and package `image`: the Node 22 image it is built FROM.
   * @default 'docker.io/library/node:22-bookworm-slim'
   */
  readonly imageBase?: string;

  /**
   * Path of a function zip you built (handler bundle + model), e.g. with `buildModelFunctionZip`.
   * Give one of `model`, `code` and `image`.
   * @default - built at synth from `model`
   */
  readonly code?: string;

  /**
   * Size of the .onnx model in bytes; the memory default is derived from it.
   * @default - with `model`, the model's size (external data included); with `code`, required
   * unless `memorySize` is given
   */
  readonly modelBytes?: number;

  /**
   * Model name the handler serves (`/v2/models/{name}`), passed as `DM_MODEL_NAME`.
   * @default - with `model`, the file's name without `.onnx` (`models/det.onnx` serves `det`);
   * required with `code`
   */
  readonly modelName?: string;

  /**
   * The onnxruntime-node layer. An `OnnxRuntimeLayer` is checked against `architecture` and its
   * size counts against Lambda's 250 MB limit; for any other layer pass `layerUnzippedBytes`.
   * @default - with `model`, `OnnxRuntimeLayer.shared(this, architecture)`: the layer for the
   * architecture, built at synth and shared by the stack's functions; with `code`, no layer (the
   * zip must contain onnxruntime-node itself)
   */
  readonly layer?: OnnxRuntimeLayer | lambda.ILayerVersion;

  /**
   * Unzipped size of `layer` in bytes, for layers that are not an `OnnxRuntimeLayer`.
   * @default - `layer.unzippedBytes` for an OnnxRuntimeLayer, otherwise 0
   */
  readonly layerUnzippedBytes?: number;

  /**
   * Unzipped size of `code` in bytes.
   * @default - read from the zip's central directory, or from the zip built from `model`
   */
  readonly unzippedBytes?: number;

  /**
   * CPU architecture; must match the layer's.
   * @default lambda.Architecture.X86_64
   */
  readonly architecture?: lambda.Architecture;

  /**
   * Node.js runtime.
   * @default lambda.Runtime.NODEJS_22_X
   */
  readonly runtime?: lambda.Runtime;

  /**
   * Memory in MB (128-10240). Lambda allocates CPU in proportion to memory.
   * @default - derived from the model size: max(1024, 4 x model MB + 512), rounded up to 64
   */
  readonly memorySize?: number;

  /**
   * Function timeout.
   * @default Duration.seconds(30)
   */
  readonly timeout?: Duration;

  /**
   * Size of /tmp.
   * @default Size.mebibytes(512)
   */
  readonly ephemeralStorageSize?: Size;

  /**
   * Concurrency reserved for this function.
   * @default - none: the function shares the account's unreserved concurrency
   */
  readonly reservedConcurrentExecutions?: number;

  /**
   * Provisioned concurrency on the `live` alias: pre-initialised environments, no cold starts,
   * billed while idle. 0 means none.
   * @default - none
   */
  readonly provisionedConcurrentExecutions?: number;

  /**
   * How long the function's logs are kept. Ignored when `logGroup` is given.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * The log group the function writes to; its execution role may write to this group only.
   * @default - a new log group with `logRetention`
   */
  readonly logGroup?: logs.ILogGroup;

  /**
   * Extra environment variables. `DM_MODEL_NAME` is always set from `modelName`.
   * @default - none
   */
  readonly environment?: Record<string, string>;

  /**
   * Authentication of the Function URL: `'iam'` requires SigV4-signed requests (AWS_IAM),
   * `'none'` makes the URL public and adds a synth warning.
   * @default 'iam'
   */
  readonly urlAuth?: 'iam' | 'none';

  /**
   * Keep the `live` alias on this existing version number while the new version is published.
   * The deploy flow deploys once with the live version here, smoke-tests the new version by
   * number, then deploys without it to move the alias.
   * @default - the alias points at the version published by this deployment
   */
  readonly aliasVersion?: string;

  /**
   * Start Node with `--enable-source-maps`, so stack traces point into the TypeScript sources.
   * It costs cold-start time, so it is only worth it when the zip ships source maps.
   * @default - true when the code zip contains a `.map` file (the zip built from `model` has none)
   */
  readonly sourceMaps?: boolean;

  /**
   * Description of the function.
   * @default - 'deploy-model: <modelName>'
   */
  readonly description?: string;
}

/** The function's code: a zip that was given, or the one built at synth from a model. */
interface FunctionCode {
  readonly code: lambda.Code;
  readonly modelName?: string;
  readonly modelBytes?: number;
  readonly unzippedBytes?: number;
  readonly names?: readonly string[];
}

/**
 * An ONNX model served on AWS Lambda: a Node.js function with the onnxruntime-node layer, a
 * published version, a `live` alias (optionally with provisioned concurrency) and a Function URL
 * on the alias, with IAM auth by default. Needs no deploy-model config and no prior build: with
 * `model`, the function zip and the layer are built at synth, in any CDK app.
 */
export class OnnxModelFunction extends Construct {
  readonly function: lambda.Function;
  /** The name the model serves under (`/v2/models/{name}`). */
  readonly modelName: string;
  /** The version published from this deployment's code and configuration. */
  readonly currentVersion: lambda.Version;
  /** The `live` alias: what the Function URL and callers invoke. */
  readonly alias: lambda.Alias;
  readonly url: lambda.FunctionUrl;
  readonly logGroup: logs.ILogGroup;
  readonly role: iam.Role;
  /** The memory the function got, in MB. */
  readonly memorySize: number;
  /** The version number the alias points at (a token unless `aliasVersion` was given). */
  readonly liveVersion: string;
  /** How the function ships: `zip` (`model` or `code`, with the onnxruntime layer) or `image`. */
  readonly package: 'zip' | 'image';

  constructor(scope: Construct, id: string, props: OnnxModelFunctionProps) {
    super(scope, id);

    const architecture = props.architecture ?? lambda.Architecture.X86_64;
    const runtime = props.runtime ?? lambda.Runtime.NODEJS_22_X;
    const sources = (['model', 'code', 'image'] as const).filter((k) => props[k] !== undefined);
    if (sources.length !== 1) {
      throw new DeployModelError('LAMBDA_CODE_SOURCE', `${this.node.path}: ${sources.length === 0 ? 'none of model, code and image is given' : `${sources.join(' and ')} are given`}. Pass exactly one: model (the .onnx file; the function zip is built at synth), code (a function zip you built) or image (a container image in ECR).`, { details: { model: props.model, code: props.code, image: props.image?.tagOrDigest } });
    }
    if ((props.package === 'image' && props.code !== undefined) || (props.package === 'zip' && props.image)) {
      throw new DeployModelError('LAMBDA_CODE_SOURCE', `${this.node.path}: package '${props.package}' does not go with ${props.code !== undefined ? 'code (a function zip)' : 'image'}. Leave package out, or pass model (built as either at synth).`, { details: { package: props.package } });
    }
    if (props.image && props.layer) {
      throw new DeployModelError('LAMBDA_CODE_SOURCE', `${this.node.path}: a layer is given with image; Lambda attaches no layers to a container image function (onnxruntime is inside the image). Leave layer out, or ship a zip (model or code).`, { details: { image: props.image.tagOrDigest } });
    }
    const model = props.model === undefined ? undefined : resolveModelFile(props.model, this.node.path);
    this.package = props.image
      ? 'image'
      : model ? chooseLambdaPackage({ requested: props.package, modelBytes: model.bytes, architecture: architecture.name === 'arm64' ? 'arm64' : 'x86_64', targetName: id, what: this.node.path }).package : 'zip';
    if (this.package === 'image' && props.layer) {
      throw new DeployModelError('LAMBDA_CODE_SOURCE', `${this.node.path}: a layer is given with package 'image'; Lambda attaches no layers to a container image function (onnxruntime is inside the image). Leave layer out, or set package: 'zip'.`, { details: { package: this.package } });
    }
    const modelName = props.modelName ?? (model ? modelNameFromFile(model.file) : undefined);
    if (modelName === undefined) {
      throw new DeployModelError('LAMBDA_MODEL_NAME_MISSING', `${this.node.path}: modelName is not given; with ${props.image ? 'image' : 'code'}, the function cannot tell which name the model serves under /v2/models/{name}. Pass modelName, e.g. 'ocr-det'.`, { details: { code: props.code } });
    }
    this.modelName = modelName;
    // The checks that need no build come first, so a wrong prop fails before a large model is zipped.
    if (props.memorySize !== undefined) this.checkMemory(props.memorySize);
    const provisioned = props.provisionedConcurrentExecutions || undefined;
    const reserved = props.reservedConcurrentExecutions;
    if (provisioned !== undefined && reserved !== undefined && provisioned > reserved) {
      throw new DeployModelError('LAMBDA_CONCURRENCY_INVALID', `${this.node.path}: provisioned concurrency ${provisioned} exceeds reserved concurrency ${reserved}; Lambda rejects that. Raise reservedConcurrentExecutions to at least ${provisioned} or lower the provisioned concurrency.`, { details: { provisioned, reserved } });
    }
    if (props.aliasVersion !== undefined && !/^[1-9]\d*$/.test(props.aliasVersion)) {
      throw new DeployModelError('LAMBDA_ALIAS_VERSION_INVALID', `${this.node.path}: aliasVersion '${props.aliasVersion}' is not a published version number (1, 2, ...). Pass the version the live alias serves now, or leave it out to move the alias to the new version.`, { details: { aliasVersion: props.aliasVersion } });
    }
    const retention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    if (!props.logGroup && !RETENTION_DAYS.includes(retention)) {
      throw new DeployModelError('LAMBDA_LOG_RETENTION_INVALID', `${this.node.path}: log retention ${retention} days is not one CloudWatch Logs accepts. Use one of ${RETENTION_DAYS.join(', ')} (${logs.RetentionDays.INFINITE} keeps logs forever).`, { details: { logRetention: retention, allowed: RETENTION_DAYS } });
    }

    const layer = props.layer ?? (model && this.package === 'zip' ? OnnxRuntimeLayer.shared(this, architecture) : undefined);
    if (layer instanceof OnnxRuntimeLayer && layer.architecture.name !== architecture.name) {
      throw new DeployModelError('LAMBDA_LAYER_ARCHITECTURE_MISMATCH', `${this.node.path}: the onnxruntime layer is built for ${layer.architecture.name} but the function runs on ${architecture.name}; the native binaries would not load. Build the layer for ${architecture.name} or set architecture to ${layer.architecture.name}.`, { details: { layer: layer.architecture.name, function: architecture.name } });
    }
    const layerBytes = props.layerUnzippedBytes ?? (layer instanceof OnnxRuntimeLayer ? layer.unzippedBytes : 0);
    // Before building anything: a model that alone breaks the limit fails at once.
    if (model && this.package === 'zip') assertLambdaPackageFits({ functionBytes: model.bytes, layerBytes, what: this.node.path });
    const source = props.image
      ? { code: lambda.Code.fromEcrImage(props.image.repository, { tagOrDigest: props.image.tagOrDigest }) } as FunctionCode
      : model && this.package === 'image' ? this.buildImageCode(model, architecture, props.imageBase)
        : model ? this.buildCode(model) : givenCode(this, props.code!);
    // A container image is measured against Lambda's 10 GB when it is built, not here.
    if (this.package === 'zip') {
      const functionBytes = props.unzippedBytes ?? source.unzippedBytes ?? model?.bytes ?? 0;
      assertLambdaPackageFits({ functionBytes, layerBytes, what: this.node.path });
    }

    const modelBytes = props.modelBytes ?? source.modelBytes;
    if (props.memorySize === undefined && modelBytes === undefined) {
      throw new DeployModelError('LAMBDA_MEMORY_INVALID', `${this.node.path}: neither memorySize nor modelBytes is given; the memory default is derived from the model's size. Pass modelBytes (the .onnx file's size in bytes) or memorySize.`, { details: {} });
    }
    this.memorySize = this.checkMemory(props.memorySize ?? defaultLambdaMemoryMb(modelBytes!));

    this.logGroup = props.logGroup ?? new logs.LogGroup(this, 'LogGroup', { retention });

    // Our own role instead of the default one: the default attaches the AWS managed
    // AWSLambdaBasicExecutionRole, which may write to every log group in the account.
    this.role = new iam.Role(this, 'ServiceRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${modelName}: writes its own logs, nothing else`,
      inlinePolicies: {
        Logs: new iam.PolicyDocument({
          statements: [new iam.PolicyStatement({
            actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
            resources: [this.logGroup.logGroupArn],
          })],
        }),
      },
    });

    const sourceMaps = props.sourceMaps ?? (source.names ?? []).some((n) => /\.m?js\.map$/.test(n));
    this.function = new lambda.Function(this, 'Function', {
      // A container image brings its runtime and names its handler (the image's ENTRYPOINT and CMD).
      runtime: this.package === 'image' ? lambda.Runtime.FROM_IMAGE : runtime,
      architecture,
      handler: this.package === 'image' ? lambda.Handler.FROM_IMAGE : 'index.handler',
      code: source.code,
      layers: layer ? [layer] : undefined,
      memorySize: this.memorySize,
      timeout: props.timeout ?? Duration.seconds(30),
      ephemeralStorageSize: props.ephemeralStorageSize ?? Size.mebibytes(512),
      reservedConcurrentExecutions: reserved,
      role: this.role,
      logGroup: this.logGroup,
      description: props.description ?? `deploy-model: ${modelName}`,
      environment: {
        ...(sourceMaps ? { NODE_OPTIONS: '--enable-source-maps' } : {}),
        ...props.environment,
        DM_MODEL_NAME: modelName,
      },
      // Old versions stay so that a failed smoke test, or a rollback, can keep the alias on them.
      currentVersionOptions: { removalPolicy: RemovalPolicy.RETAIN },
    });
    this.currentVersion = this.function.currentVersion;

    if (this.package === 'zip' && runtime.name === lambda.Runtime.NODEJS_22_X.name) {
      Validations.of(this.function).acknowledge({
        id: 'AwsSolutions-L1',
        reason: 'nodejs22.x is a supported LTS runtime and the one the handler bundle is built for (esbuild target node22) and the onnxruntime-node layer is tested on; nodejs24.x can be chosen with the runtime prop.',
      });
    }

    const aliasTarget = props.aliasVersion === undefined
      ? this.currentVersion
      : lambda.Version.fromVersionAttributes(this, 'LiveVersion', { lambda: this.function, version: props.aliasVersion });
    this.liveVersion = aliasTarget.version;
    this.alias = new lambda.Alias(this, 'LiveAlias', {
      aliasName: LIVE_ALIAS_NAME,
      version: aliasTarget,
      provisionedConcurrentExecutions: provisioned,
    });

    const urlAuth = props.urlAuth ?? 'iam';
    this.url = this.alias.addFunctionUrl({
      authType: urlAuth === 'none' ? lambda.FunctionUrlAuthType.NONE : lambda.FunctionUrlAuthType.AWS_IAM,
    });
    if (urlAuth === 'none') {
      Annotations.of(this).addWarningV2(
        'deploy-model:publicFunctionUrl',
        `The Function URL of ${modelName} has auth 'none': anyone on the internet can invoke the model and you pay for every call. Use urlAuth 'iam' (SigV4-signed requests) unless the URL is meant to be public.`,
      );
    }
  }

  private checkMemory(memorySize: number): number {
    if (!Number.isInteger(memorySize) || memorySize < LAMBDA_MEMORY_MIN_MB || memorySize > LAMBDA_MEMORY_MAX_MB) {
      throw new DeployModelError('LAMBDA_MEMORY_INVALID', `${this.node.path}: memorySize ${memorySize} is not a whole number of MB between ${LAMBDA_MEMORY_MIN_MB} and ${LAMBDA_MEMORY_MAX_MB}. Pick a value in that range, or leave it out to derive it from the model size.`, { details: { memorySize } });
    }
    return memorySize;
  }

  /**
   * The function zip built at synth from `model` (CDK asset bundling with a local build): bound
   * here, before the function exists, so that its sizes are known for the limit and the memory
   * default. Its asset hash is the zip's content, so the same model gives the same hash.
   */
  private buildCode(model: ModelFile): FunctionCode {
    const build = synthBuild({ kind: 'function', options: { model: model.file }, stamp: fileStamp(model.file) }, this.node.path);
    const code = new SynthBuiltCode(lambda.Code.fromAsset(path.dirname(model.file), { assetHashType: AssetHashType.OUTPUT, bundling: build.bundling }), build);
    code.bind(this);
    const built = build.result();
    // Without a build (CDK skips bundling for stacks it does not deploy) the model's size stands in.
    return built
      ? { code, modelBytes: built.modelBytes, unzippedBytes: built.unzippedBytes, names: built.files }
      : { code, modelBytes: model.bytes };
  }

  /**
   * The image context built at synth from `model` (in a child process, as the zip is), handed to
   * CDK as an image asset: its hash is the context's content, so the same model gives the same
   * image, and `cdk deploy` builds and pushes it.
   */
  private buildImageCode(model: ModelFile, architecture: lambda.Architecture, baseImage?: string): FunctionCode {
    const arch = architecture.name === 'arm64' ? 'arm64' as const : 'x86_64' as const;
    const options = { model: model.file, architecture: arch, ...(baseImage ? { baseImage } : {}) };
    const key = createHash('sha256').update(JSON.stringify({ options, stamp: fileStamp(model.file) })).digest('hex').slice(0, 16);
    const built = runAssetBuilder({ kind: 'lambda-image', options }, path.join(os.tmpdir(), 'deploy-model-lambda-image', key), this.node.path);
    const code = lambda.Code.fromAssetImage(built.contextDir, { platform: arch === 'arm64' ? Platform.LINUX_ARM64 : Platform.LINUX_AMD64 });
    return { code, modelBytes: built.modelBytes };
  }

  /**
   * Writes the function name, alias ARN, URL, new and live version numbers and log group name as
   * stack outputs with the stable logical ids of `ONNX_MODEL_FUNCTION_OUTPUTS`, each prefixed
   * with `prefix` (needed when a stack holds more than one model).
   */
  addStackOutputs(prefix = ''): Record<OnnxModelFunctionOutputKey, CfnOutput> {
    const stack = Stack.of(this);
    const values: Record<OnnxModelFunctionOutputKey, [string, string]> = {
      functionName: [this.function.functionName, 'Name of the Lambda function'],
      aliasArn: [this.alias.functionArn, `ARN of the ${LIVE_ALIAS_NAME} alias`],
      functionUrl: [this.url.url, `Function URL of the ${LIVE_ALIAS_NAME} alias`],
      newVersion: [this.currentVersion.version, 'Version published by this deployment'],
      liveVersion: [this.liveVersion, `Version the ${LIVE_ALIAS_NAME} alias points at`],
      logGroupName: [this.logGroup.logGroupName, 'Log group of the function'],
    };
    const outputs = {} as Record<OnnxModelFunctionOutputKey, CfnOutput>;
    for (const key of Object.keys(values) as OnnxModelFunctionOutputKey[]) {
      const [value, description] = values[key];
      outputs[key] = new CfnOutput(stack, `${prefix}${ONNX_MODEL_FUNCTION_OUTPUTS[key]}`, { value: Token.asString(value), description });
    }
    return outputs;
  }
}

/** A zip built before: its asset hash is its own sha256, its sizes and names read from its central directory. */
function givenCode(scope: Construct, file: string): FunctionCode {
  const contents = readZipContents(file);
  // Keyed by the zip's own sha256, and linked into the assembly rather than copied.
  return {
    code: zipAssetCode(scope, file),
    unzippedBytes: contents.unzippedBytes,
    names: contents.names,
  };
}
