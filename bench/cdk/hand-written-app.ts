/**
 * The aws-lambda target's resources written by hand with plain aws-cdk-lib, as an engineer would
 * without deploy-model: the onnxruntime LayerVersion, an execution Role that writes its own
 * LogGroup, the Function (zip asset + layer), its current Version, the `live` Alias and its
 * Function URL (IAM auth), and the same stack outputs. The baseline of bench/synth.ts.
 */
import { App, CfnOutput, Duration, RemovalPolicy, Size, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';

export interface HandWrittenAppProps {
  functionZip: string;
  layerZip: string;
  outdir: string;
  modelName: string;
}

export function synthHandWrittenApp(props: HandWrittenAppProps): string {
  // Built-in CloudFormation validation off, as deploy-model synthesises.
  const app = new App({ outdir: props.outdir, builtinCloudFormationValidation: false });
  const stack = new Stack(app, `${props.modelName}-dev-lambda`, { env: { region: 'eu-west-1' } });

  const layer = new lambda.LayerVersion(stack, 'OnnxRuntime', {
    code: lambda.Code.fromAsset(props.layerZip),
    compatibleArchitectures: [lambda.Architecture.X86_64],
    compatibleRuntimes: [lambda.Runtime.NODEJS_22_X],
    license: 'MIT',
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const logGroup = new logs.LogGroup(stack, 'LogGroup', { retention: logs.RetentionDays.ONE_MONTH });
  const role = new iam.Role(stack, 'ServiceRole', {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    inlinePolicies: {
      Logs: new iam.PolicyDocument({ statements: [new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroup.logGroupArn] })] }),
    },
  });
  const fn = new lambda.Function(stack, 'Function', {
    runtime: lambda.Runtime.NODEJS_22_X,
    architecture: lambda.Architecture.X86_64,
    handler: 'index.handler',
    code: lambda.Code.fromAsset(props.functionZip),
    layers: [layer],
    memorySize: 1024,
    timeout: Duration.seconds(30),
    ephemeralStorageSize: Size.mebibytes(512),
    role,
    logGroup,
    environment: { DM_MODEL_NAME: props.modelName },
    currentVersionOptions: { removalPolicy: RemovalPolicy.RETAIN },
  });
  const alias = new lambda.Alias(stack, 'LiveAlias', { aliasName: 'live', version: fn.currentVersion });
  const url = alias.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.AWS_IAM });

  new CfnOutput(stack, 'FunctionName', { value: fn.functionName });
  new CfnOutput(stack, 'AliasArn', { value: alias.functionArn });
  new CfnOutput(stack, 'FunctionUrl', { value: url.url });
  new CfnOutput(stack, 'NewVersion', { value: fn.currentVersion.version });
  new CfnOutput(stack, 'LogGroupName', { value: logGroup.logGroupName });

  const assembly = app.synth();
  return assembly.getStackByName(stack.stackName).templateFullPath;
}
