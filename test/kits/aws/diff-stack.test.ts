import { describe, expect, it } from 'vitest';
import { stackTargetDiff, type DiffStackResult, type StackResourceChange } from '../../../src/kits/aws/diff-stack.js';

// The mapping from CloudFormation's resource changes to a target's diff, by equality; the diff
// itself, against the AWS fake, is tested with each AWS target (test/targets/aws-*/diff.test.ts).

const SERVING = new Set(['AWS::Lambda::Function', 'AWS::SageMaker::EndpointConfig']);
const change = (c: Partial<StackResourceChange> & Pick<StackResourceChange, 'logicalId' | 'type' | 'action'>): StackResourceChange =>
  ({ properties: [], retained: false, conditional: false, ...c });
const result = (changes: StackResourceChange[]): DiffStackResult => ({ unchanged: changes.length === 0, changes, text: 'rendered' });

describe('stackTargetDiff', () => {
  it('marks a replaced or deleted serving resource disruptive, unless a retain policy keeps it', () => {
    const d = stackTargetDiff(result([
      change({ logicalId: 'Fn', type: 'AWS::Lambda::Function', action: 'replace', properties: ['FunctionName'] }),
      change({ logicalId: 'Config', type: 'AWS::SageMaker::EndpointConfig', action: 'replace', properties: ['ProductionVariants'], conditional: true, retained: true }),
      change({ logicalId: 'Old', type: 'AWS::Lambda::Function', action: 'delete' }),
      change({ logicalId: 'Kept', type: 'AWS::Lambda::Function', action: 'delete', retained: true }),
      change({ logicalId: 'Role', type: 'AWS::IAM::Role', action: 'replace', properties: ['RoleName'] }),
      change({ logicalId: 'Fn2', type: 'AWS::Lambda::Function', action: 'update', properties: ['Code', 'MemorySize'] }),
      change({ logicalId: 'Logs', type: 'AWS::Logs::LogGroup', action: 'create' }),
    ]), SERVING);
    expect(d).toEqual({
      unchanged: false,
      text: 'rendered',
      changes: [
        { resource: 'Fn', action: 'replace', detail: 'AWS::Lambda::Function: replaced because FunctionName changes', disruptive: true },
        { resource: 'Config', action: 'replace', detail: 'AWS::SageMaker::EndpointConfig: may be replaced (CloudFormation decides during the deploy) because ProductionVariants changes; the old one is kept (UpdateReplacePolicy: Retain)' },
        { resource: 'Old', action: 'delete', detail: 'AWS::Lambda::Function: deleted', disruptive: true },
        { resource: 'Kept', action: 'delete', detail: 'AWS::Lambda::Function: removed from the stack and kept in the account (DeletionPolicy: Retain)' },
        { resource: 'Role', action: 'replace', detail: 'AWS::IAM::Role: replaced because RoleName changes' },
        { resource: 'Fn2', action: 'update', detail: 'AWS::Lambda::Function: updated in place (Code, MemorySize)' },
        { resource: 'Logs', action: 'create', detail: 'AWS::Logs::LogGroup: created' },
      ],
    });
  });

  it('passes an unchanged stack on as unchanged', () => {
    expect(stackTargetDiff(result([]), SERVING)).toEqual({ unchanged: true, changes: [], text: 'rendered' });
  });
});
