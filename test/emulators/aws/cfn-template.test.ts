import { describe, expect, it } from 'vitest';
import { checkRules, evaluateConditions, NO_VALUE, references, resolve, type ResolveEnv } from './_cfn-template.js';

function env(overrides: Partial<ResolveEnv> = {}): ResolveEnv {
  return {
    region: 'eu-west-1', accountId: '111111111111', stackName: 'S', stackId: 'arn:aws:cloudformation:eu-west-1:111111111111:stack/S/id',
    parameters: { Name: 'model', List: ['a', 'b'] },
    conditions: { Yes: true, No: false },
    resource: (id) => (id === 'Fn' ? { physicalId: 'fn-physical', getAtt: (a) => (a === 'Arn' ? 'arn:fn' : undefined) } : undefined),
    ...overrides,
  };
}

describe('template intrinsic functions', () => {
  it('resolves Ref, GetAtt (both forms), Join, Sub and pseudo parameters', () => {
    expect(resolve({ Ref: 'Fn' }, env())).toBe('fn-physical');
    expect(resolve({ 'Fn::GetAtt': 'Fn.Arn' }, env())).toBe('arn:fn');
    expect(resolve({ 'Fn::Join': [':', [{ Ref: 'AWS::Partition' }, { Ref: 'AWS::Region' }, { Ref: 'Name' }]] }, env())).toBe('aws:eu-west-1:model');
    expect(resolve({ 'Fn::Sub': '${Fn.Arn}/${Name}/${AWS::URLSuffix}/${!Name}' }, env())).toBe('arn:fn/model/amazonaws.com/${Name}');
    expect(resolve({ 'Fn::Select': ['1', { Ref: 'List' }] }, env())).toBe('b');
  });

  it('drops AWS::NoValue from objects and lists, also through Fn::If', () => {
    const value = { A: { Ref: 'AWS::NoValue' }, B: [1, { 'Fn::If': ['No', 2, { Ref: 'AWS::NoValue' }] }], C: { 'Fn::If': ['Yes', 'y', 'n'] } };
    expect(resolve(value, env())).toEqual({ B: [1], C: 'y' });
    expect(resolve({ Ref: 'AWS::NoValue' }, env())).toBe(NO_VALUE);
  });

  it('fails like CloudFormation on unknown references and attributes', () => {
    expect(() => resolve({ Ref: 'Missing' }, env())).toThrow('Unresolved resource dependencies [Missing]');
    expect(() => resolve({ 'Fn::GetAtt': ['Fn', 'Nope'] }, env())).toThrow('resource Fn does not support attribute type Nope in Fn::GetAtt');
    expect(() => resolve({ 'Fn::Select': [5, ['a']] }, env())).toThrow('Fn::Select cannot select nonexistent value at index 5');
  });

  it('evaluates conditions that refer to each other, and rules', () => {
    const template = {
      Conditions: { A: { 'Fn::Equals': [{ Ref: 'Name' }, 'model'] }, B: { 'Fn::And': [{ Condition: 'A' }, { 'Fn::Not': [{ Condition: 'C' }] }] }, C: { 'Fn::Or': [false, false] } },
      Rules: { R: { Assertions: [{ Assert: { 'Fn::Contains': [['x'], { Ref: 'Name' }] }, AssertDescription: 'Name must be x' }] } },
    };
    const { conditions: _ignored, ...rest } = env();
    expect(evaluateConditions(template, rest)).toEqual({ A: true, B: true, C: false });
    expect(() => checkRules(template, env())).toThrow('Name must be x');
  });

  it('finds the logical ids a value refers to, leaving out Fn::Sub variables', () => {
    const value = { a: { Ref: 'X' }, b: { 'Fn::GetAtt': ['Y', 'Arn'] }, c: { 'Fn::Sub': ['${Z.Arn}-${v}-${!lit}', { v: { Ref: 'W' } }] } };
    expect([...references(value)].sort()).toEqual(['W', 'X', 'Y', 'Z']);
  });
});
