import {
  CloudFormationClient, CreateChangeSetCommand, DeleteStackCommand, DescribeChangeSetCommand, DescribeStackEventsCommand, DescribeStacksCommand,
  GetTemplateCommand, GetTemplateSummaryCommand, ListStackResourcesCommand,
} from '@aws-sdk/client-cloudformation';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientConfig, deployTemplate, waitForStack } from './_stack-helpers.js';
import { startAwsFake, type AwsFake } from './index.js';

/** Exercises parameters (defaults, lists, SSM), conditions and most intrinsic functions. */
function appTemplate(): Record<string, any> {
  return {
    Parameters: {
      Env: { Type: 'String', Default: 'dev', AllowedValues: ['dev', 'prod'] },
      Zones: { Type: 'CommaDelimitedList', Default: 'a,b' },
      BootstrapVersion: { Type: 'AWS::SSM::Parameter::Value<String>', Default: '/cdk-bootstrap/hnb659fds/version' },
    },
    Conditions: {
      IsProd: { 'Fn::Equals': [{ Ref: 'Env' }, 'prod'] },
      IsDev: { 'Fn::Not': [{ Condition: 'IsProd' }] },
    },
    Rules: {
      CheckBootstrapVersion: {
        Assertions: [{
          Assert: { 'Fn::Not': [{ 'Fn::Contains': [['1', '2', '3', '4', '5'], { Ref: 'BootstrapVersion' }] }] },
          AssertDescription: "CDK bootstrap stack version 6 required. Please run 'cdk bootstrap' with a recent version of the CDK CLI.",
        }],
      },
    },
    Resources: {
      Role: { Type: 'AWS::IAM::Role', Properties: { AssumeRolePolicyDocument: { Version: '2012-10-17' } } },
      Logs: { Type: 'AWS::Logs::LogGroup', Properties: { LogGroupName: { 'Fn::Sub': '/app/${AWS::StackName}-${Env}' } } },
      Queue: {
        Type: 'AWS::SQS::Queue',
        Properties: {
          QueueName: { 'Fn::Join': ['-', ['q', { Ref: 'Env' }]] },
          Tags: { 'Fn::If': ['IsDev', [{ Key: 'dev', Value: 'yes' }], { Ref: 'AWS::NoValue' }] },
        },
        DependsOn: 'Role',
      },
      ProdOnly: { Type: 'AWS::SNS::Topic', Condition: 'IsProd' },
    },
    Outputs: {
      RoleArn: { Value: { 'Fn::GetAtt': ['Role', 'Arn'] } },
      LogGroup: { Value: { Ref: 'Logs' } },
      FirstAz: { Value: { 'Fn::Select': [0, { 'Fn::GetAZs': '' }] } },
      SecondZone: { Value: { 'Fn::Select': [1, { Ref: 'Zones' }] } },
      Third: { Value: { 'Fn::Select': [2, { 'Fn::Split': [',', 'x,y,z'] }] } },
      Mode: { Value: { 'Fn::If': ['IsProd', 'production', 'development'] } },
      Bootstrap: { Value: { Ref: 'BootstrapVersion' } },
      Where: { Value: { 'Fn::Sub': ['${AWS::AccountId}:${AWS::Region}:${Custom}:${!Literal}', { Custom: 'c' }] } },
      QueueArn: { Value: { 'Fn::GetAtt': ['Queue', 'Arn'] }, Export: { Name: 'app-queue-arn' } },
    },
  };
}

describe('CloudFormation in the AWS fake, through the real client', () => {
  let fake: AwsFake;
  let cfn: CloudFormationClient;

  const outputs = async (stackName: string) => Object.fromEntries(
    ((await cfn.send(new DescribeStacksCommand({ StackName: stackName }))).Stacks?.[0]?.Outputs ?? []).map((o) => [o.OutputKey, o.OutputValue]),
  );

  beforeAll(async () => {
    fake = await startAwsFake({ accountId: '210987654321', region: 'eu-central-1' });
    fake.bootstrap({ version: 30 });
    cfn = new CloudFormationClient(clientConfig(fake));
  });
  afterAll(async () => {
    expect(fake.internalErrors).toEqual([]);
    await fake.stop();
  });

  it('creates a stack: parameters, conditions, intrinsic functions and outputs resolve', async () => {
    // WHEN
    const { changeSet, stackStatus } = await deployTemplate(cfn, 'App', appTemplate());
    // THEN
    expect(changeSet.Changes?.map((c) => `${c.ResourceChange?.Action} ${c.ResourceChange?.LogicalResourceId}`).sort())
      .toEqual(['Add Logs', 'Add Queue', 'Add Role']);
    expect(stackStatus).toBe('CREATE_COMPLETE');
    expect(await outputs('App')).toEqual({
      RoleArn: expect.stringMatching(/^arn:aws:iam::210987654321:role\/App-Role-[A-Z0-9]+$/),
      LogGroup: '/app/App-dev',
      FirstAz: 'eu-central-1a',
      SecondZone: 'b',
      Third: 'z',
      Mode: 'development',
      Bootstrap: '30',
      Where: '210987654321:eu-central-1:c:${Literal}',
      QueueArn: expect.stringContaining('Queue/Arn'),
    });
    const stack = (await cfn.send(new DescribeStacksCommand({ StackName: 'App' }))).Stacks![0]!;
    expect(stack.Parameters?.find((p) => p.ParameterKey === 'BootstrapVersion')).toMatchObject({
      ParameterValue: '/cdk-bootstrap/hnb659fds/version', ResolvedValue: '30',
    });
    expect(fake.state.cloudformation.unmodelled.map((r) => `${r.type} ${r.logicalId}`)).toEqual(['AWS::SQS::Queue Queue']);
    const queue = [...fake.state.cloudformation.stacks.values()].find((s) => s.stackName === 'App')!.resources.get('Queue')!;
    expect(queue.properties).toEqual({ QueueName: 'q-dev', Tags: [{ Key: 'dev', Value: 'yes' }] });
  });

  it('answers the template, its summary and the resources', async () => {
    const template = await cfn.send(new GetTemplateCommand({ StackName: 'App' }));
    expect(JSON.parse(template.TemplateBody!)).toEqual(appTemplate());
    const summary = await cfn.send(new GetTemplateSummaryCommand({ StackName: 'App' }));
    expect(summary.Parameters?.map((p) => p.ParameterKey)).toEqual(['Env', 'Zones', 'BootstrapVersion']);
    const resources = await cfn.send(new ListStackResourcesCommand({ StackName: 'App' }));
    expect(resources.StackResourceSummaries?.map((r) => `${r.LogicalResourceId} ${r.ResourceStatus}`).sort())
      .toEqual(['Logs CREATE_COMPLETE', 'Queue CREATE_COMPLETE', 'Role CREATE_COMPLETE']);
  });

  it('updates: replaces on a replacement property, adds by condition, deletes what left the template', async () => {
    // GIVEN
    const template = appTemplate();
    delete template.Resources.Role;
    delete template.Outputs.RoleArn;
    template.Resources.Queue.DependsOn = undefined;
    const before = [...fake.state.cloudformation.stacks.values()].find((s) => s.stackName === 'App')!;
    const oldRole = before.resources.get('Role')!.physicalId;
    // WHEN
    const { changeSet, stackStatus } = await deployTemplate(cfn, 'App', template, { parameters: { Env: 'prod' } });
    // THEN
    expect(changeSet.Changes?.map((c) => `${c.ResourceChange?.Action} ${c.ResourceChange?.LogicalResourceId} ${c.ResourceChange?.Replacement ?? ''}`).sort())
      .toEqual(['Add ProdOnly ', 'Modify Logs True', 'Modify Queue False', 'Remove Role ']);
    expect(stackStatus).toBe('UPDATE_COMPLETE');
    expect(await outputs('App')).toMatchObject({ LogGroup: '/app/App-prod', Mode: 'production' });
    expect(fake.state.iam.roles.has(oldRole)).toBe(false);
    const events = (await cfn.send(new DescribeStackEventsCommand({ StackName: 'App' }))).StackEvents ?? [];
    const logs = events.filter((e) => e.LogicalResourceId === 'Logs').map((e) => e.ResourceStatus);
    // Newest first: the replaced log group is deleted in cleanup, after the new one was created.
    expect(logs.slice(0, 4)).toEqual(['DELETE_COMPLETE', 'DELETE_IN_PROGRESS', 'UPDATE_COMPLETE', 'UPDATE_IN_PROGRESS']);
    expect(events[0]).toMatchObject({ LogicalResourceId: 'App', ResourceStatus: 'UPDATE_COMPLETE' });
  });

  it('reports what a replacement changes in the resources that point at it, with property values on request', async () => {
    // GIVEN Named's name is built from Logs' (a replacement property), and Role's description from Named
    const deps = (name: string) => ({
      Resources: {
        Logs: { Type: 'AWS::Logs::LogGroup', Properties: { LogGroupName: name } },
        Named: { Type: 'AWS::Logs::LogGroup', Properties: { LogGroupName: { 'Fn::Join': ['-', [{ Ref: 'Logs' }, 'copy']] } } },
        Role: { Type: 'AWS::IAM::Role', Properties: { AssumeRolePolicyDocument: { Version: '2012-10-17' }, Description: { Ref: 'Named' } } },
      },
    });
    expect((await deployTemplate(cfn, 'Deps', deps('lg-v1'))).stackStatus).toBe('CREATE_COMPLETE');
    // WHEN Logs is renamed, which replaces it
    const created = await cfn.send(new CreateChangeSetCommand({ StackName: 'Deps', ChangeSetName: 'rename', ChangeSetType: 'UPDATE', TemplateBody: JSON.stringify(deps('lg-v2')), Capabilities: ['CAPABILITY_IAM'] }));
    const [plain, detailed] = await Promise.all([false, true].map((IncludePropertyValues) =>
      cfn.send(new DescribeChangeSetCommand({ StackName: created.StackId, ChangeSetName: created.Id, IncludePropertyValues }))));
    // THEN Named may be replaced (its name is learnt during the update), and Role changes in place because of it
    const changes = Object.fromEntries(detailed!.Changes!.map((c) => [c.ResourceChange!.LogicalResourceId, c.ResourceChange!]));
    expect(changes.Logs).toMatchObject({ Action: 'Modify', Replacement: 'True', Details: [{ Target: { Name: 'LogGroupName', RequiresRecreation: 'Always', BeforeValue: 'lg-v1', AfterValue: 'lg-v2' }, Evaluation: 'Static' }] });
    expect(changes.Named).toMatchObject({
      Action: 'Modify', Replacement: 'Conditional',
      Details: [{ Target: { Name: 'LogGroupName', RequiresRecreation: 'Always', BeforeValue: 'lg-v1-copy', AfterValue: '{{changeSet:KNOWN_AFTER_APPLY}}-copy' }, Evaluation: 'Dynamic', ChangeSource: 'ResourceReference', CausingEntity: 'Logs' }],
    });
    expect(changes.Role).toMatchObject({
      Action: 'Modify', Replacement: 'False',
      Details: [{ Target: { Name: 'Description', RequiresRecreation: 'Never', BeforeValue: 'lg-v1-copy', AfterValue: '{{changeSet:KNOWN_AFTER_APPLY}}' }, Evaluation: 'Dynamic', CausingEntity: 'Named' }],
    });
    // Without IncludePropertyValues, the same changes carry no values.
    expect(plain!.Changes!.flatMap((c) => c.ResourceChange!.Details!.map((d) => [d.Target!.BeforeValue, d.Target!.AfterValue]))).toEqual([[undefined, undefined], [undefined, undefined], [undefined, undefined]]);
  });

  it('answers an unchanged update with the FAILED change set CloudFormation gives', async () => {
    // GIVEN
    const stack = [...fake.state.cloudformation.stacks.values()].find((s) => s.stackName === 'App')!;
    // WHEN
    const { changeSet } = await deployTemplate(cfn, 'App', stack.template, { parameters: { Env: 'prod' } });
    // THEN
    expect(changeSet.Status).toBe('FAILED');
    expect(changeSet.StatusReason).toBe("The submitted information didn't contain changes. Submit different information to create a change set.");
  });

  it('rejects what CloudFormation rejects when the change set is created', async () => {
    const create = (template: unknown, extra: Record<string, unknown> = {}) => cfn.send(new CreateChangeSetCommand({
      StackName: 'Rejected', ChangeSetName: 'cs', ChangeSetType: 'CREATE', TemplateBody: JSON.stringify(template), ...extra,
    }));
    await expect(create(appTemplate())).rejects.toMatchObject({ name: 'InsufficientCapabilitiesException', message: 'Requires capabilities : [CAPABILITY_IAM]' });
    const missingSsm = appTemplate();
    missingSsm.Parameters.BootstrapVersion.Default = '/cdk-bootstrap/other/version';
    await expect(create(missingSsm, { Capabilities: ['CAPABILITY_IAM'] })).rejects.toThrow(
      'Unable to fetch parameters [/cdk-bootstrap/other/version] from parameter store for this account.',
    );
    fake.bootstrap({ version: 5 });
    await expect(create(appTemplate(), { Capabilities: ['CAPABILITY_IAM'] })).rejects.toThrow(/CDK bootstrap stack version 6 required/);
    fake.bootstrap({ version: 30 });
    const dangling = { Resources: { A: { Type: 'AWS::SNS::Topic', Properties: { Name: { Ref: 'Missing' } } } } };
    await expect(create(dangling)).rejects.toThrow('Template format error: Unresolved resource dependencies [Missing] in the Resources block of the template');
  });

  it('rolls a failed creation back to ROLLBACK_COMPLETE, deleting what it created', async () => {
    // GIVEN
    fake.faults.failResource('Logs', 'Resource handler returned message: "Log group quota reached"');
    // WHEN
    const { stackStatus } = await deployTemplate(cfn, 'Broken', appTemplate());
    // THEN
    expect(stackStatus).toBe('ROLLBACK_COMPLETE');
    const events = (await cfn.send(new DescribeStackEventsCommand({ StackName: 'Broken' }))).StackEvents ?? [];
    expect(events.find((e) => e.ResourceStatus === 'CREATE_FAILED')).toMatchObject({
      LogicalResourceId: 'Logs', ResourceStatusReason: 'Resource handler returned message: "Log group quota reached"',
    });
    expect(events.find((e) => e.ResourceStatus === 'ROLLBACK_IN_PROGRESS')?.ResourceStatusReason)
      .toBe('The following resource(s) failed to create: [Logs]. Rollback requested by user.');
    const stack = [...fake.state.cloudformation.stacks.values()].find((s) => s.stackName === 'Broken')!;
    expect(stack.resources.size).toBe(0);
  });

  it('deletes a stack: gone by name, DELETE_COMPLETE by id', async () => {
    // GIVEN
    const id = (await cfn.send(new DescribeStacksCommand({ StackName: 'App' }))).Stacks![0]!.StackId!;
    // WHEN
    await cfn.send(new DeleteStackCommand({ StackName: 'App' }));
    const status = await waitForStack(cfn, id);
    // THEN
    expect(status).toBe('DELETE_COMPLETE');
    await expect(cfn.send(new DescribeStacksCommand({ StackName: 'App' }))).rejects.toThrow('Stack with id App does not exist');
  });
});
