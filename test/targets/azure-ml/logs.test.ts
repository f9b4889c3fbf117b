/** How the azure-ml logs reader tells the new lines of a container's tail from those it printed. */
import { describe, expect, it } from 'vitest';
import { newLines } from '../../../src/targets/azure-ml/logs.js';

describe('azure-ml logs: newLines', () => {
  it('gives what follows the lines read before, whether the tail grew or moved on', () => {
    expect(newLines([], ['a', 'b'])).toEqual(['a', 'b']);
    expect(newLines(['a', 'b'], ['a', 'b'])).toEqual([]);
    expect(newLines(['a', 'b'], ['a', 'b', 'c'])).toEqual(['c']);
    // the tail dropped its first line as it took two new ones
    expect(newLines(['a', 'b', 'c'], ['b', 'c', 'd', 'e'])).toEqual(['d', 'e']);
    // nothing in common (a restarted container): all of it is new
    expect(newLines(['a', 'b'], ['x', 'y'])).toEqual(['x', 'y']);
  });
});
