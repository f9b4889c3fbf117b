/** The statements of a SageMaker endpoint's execution role: the one archive, the image, its logs. */
import * as iam from 'aws-cdk-lib/aws-iam';

export interface ExecutionPolicyParams {
  /** ARN of the one model archive object. @default - none: `modelPrefix` is given */
  readonly modelObjectArn?: string;
  /** An uncompressed model under a key prefix (ending with `/`): the bucket's ARN and the prefix. @default - none: `modelObjectArn` is given */
  readonly modelPrefix?: { readonly bucketArn: string; readonly prefix: string };
  /** ARN of the ECR repository of the serving image. */
  readonly repositoryArn: string;
  /** ARN of the endpoint's log group. */
  readonly logGroupArn: string;
  /** Whether the instances run in a VPC (their network interfaces then need EC2 permissions). */
  readonly vpc: boolean;
}

/**
 * The statements of a SageMaker endpoint's execution role, instead of AmazonSageMakerFullAccess:
 * read the one model archive, pull the serving image, write the endpoint's logs and metrics.
 * Only the ECR login, PutMetricData (held to SageMaker's endpoint namespace by a condition) and
 * the EC2 network-interface actions take `*`: they have no resource-level permissions.
 */
export function executionPolicyStatements(p: ExecutionPolicyParams): iam.PolicyStatement[] {
  const statements = [
    ...(p.modelPrefix
      ? [
        // SageMaker lists the prefix, then reads each object under it.
        new iam.PolicyStatement({ sid: 'ReadModelRepository', actions: ['s3:GetObject'], resources: [`${p.modelPrefix.bucketArn}/${p.modelPrefix.prefix}*`] }),
        new iam.PolicyStatement({
          sid: 'ListModelRepository', actions: ['s3:ListBucket'], resources: [p.modelPrefix.bucketArn],
          conditions: { StringLike: { 's3:prefix': [`${p.modelPrefix.prefix}*`] } },
        }),
      ]
      : [new iam.PolicyStatement({ sid: 'ReadModelArchive', actions: ['s3:GetObject'], resources: [p.modelObjectArn!] })]),
    new iam.PolicyStatement({ sid: 'PullImage', actions: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'], resources: [p.repositoryArn] }),
    new iam.PolicyStatement({ sid: 'EcrLogin', actions: ['ecr:GetAuthorizationToken'], resources: ['*'] }),
    new iam.PolicyStatement({
      sid: 'WriteLogs',
      actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:DescribeLogStreams', 'logs:PutLogEvents'],
      resources: [p.logGroupArn],
    }),
    new iam.PolicyStatement({
      sid: 'WriteMetrics',
      actions: ['cloudwatch:PutMetricData'],
      resources: ['*'],
      conditions: { StringEquals: { 'cloudwatch:namespace': '/aws/sagemaker/Endpoints' } },
    }),
  ];
  if (p.vpc) {
    statements.push(new iam.PolicyStatement({
      sid: 'VpcNetworkInterfaces',
      actions: [
        'ec2:CreateNetworkInterface', 'ec2:CreateNetworkInterfacePermission', 'ec2:DeleteNetworkInterface', 'ec2:DeleteNetworkInterfacePermission',
        'ec2:DescribeDhcpOptions', 'ec2:DescribeNetworkInterfaces', 'ec2:DescribeSecurityGroups', 'ec2:DescribeSubnets', 'ec2:DescribeVpcs',
      ],
      resources: ['*'],
    }));
  }
  return statements;
}

/** Why the role's `Resource::*` statements are acceptable, for the cdk-nag acknowledgement. */
export function wildcardReason(vpc: boolean): string {
  return `ecr:GetAuthorizationToken and cloudwatch:PutMetricData have no resource-level permissions (PutMetricData is limited to the endpoint metrics namespace by a condition)${vpc ? ', nor have the EC2 network-interface actions SageMaker needs to place instances in the VPC' : ''}; every other statement names its resource.`;
}
