/**
 * The split of a local deployment's stable URL during a traffic step: a smooth weighted
 * round-robin (nginx's), so the shares are exact over every run of 100 / gcd requests and spread
 * evenly inside it: at 10 %, every tenth request goes to the candidate, 2 of any 20 in a row.
 */
export type SplitTarget = 'current' | 'candidate';

export interface TrafficSplit {
  readonly candidatePercent: number;
  /** The version that answers the next request. */
  next(): SplitTarget;
}

export function trafficSplit(candidatePercent: number): TrafficSplit {
  if (!Number.isInteger(candidatePercent) || candidatePercent < 0 || candidatePercent > 100) {
    throw new RangeError(`a traffic share is a whole percentage from 0 to 100, not ${candidatePercent}`);
  }
  const weights = { current: 100 - candidatePercent, candidate: candidatePercent };
  const credit = { current: 0, candidate: 0 };
  return {
    candidatePercent,
    next() {
      credit.current += weights.current;
      credit.candidate += weights.candidate;
      // On a tie the version that served before answers: the candidate never goes first.
      const pick: SplitTarget = credit.candidate > credit.current ? 'candidate' : 'current';
      credit[pick] -= 100;
      return pick;
    },
  };
}
