// The container target's weighted front: smooth weighted round-robin picks, and real HTTP requests split between two loopback servers.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SmoothWeightedRoundRobin, startWeightedFront, UPSTREAM_HEADER, type WeightedFront } from '../../../src/targets/container/weighted-front.js';

describe('SmoothWeightedRoundRobin', () => {
  it('gives each key its exact share in every round of 100 / gcd picks, spread evenly', () => {
    // GIVEN 10 % on the candidate
    const rr = new SmoothWeightedRoundRobin({ previous: 90, candidate: 10 });
    // WHEN 30 picks are made
    const picks = Array.from({ length: 30 }, () => rr.next());
    // THEN one in ten, never two in a row, and the first pick is the previous version's
    expect(picks.filter((p) => p === 'candidate')).toHaveLength(3);
    expect(picks.map((p, i) => (p === 'candidate' ? i : -1)).filter((i) => i >= 0)).toEqual([5, 15, 25]);
    expect(picks[0]).toBe('previous');
  });

  it('at 50 % alternates, the previous version first; at 0 % never picks the candidate; reset starts a new round', () => {
    const rr = new SmoothWeightedRoundRobin({ previous: 50, candidate: 50 });
    expect(Array.from({ length: 4 }, () => rr.next())).toEqual(['previous', 'candidate', 'previous', 'candidate']);
    rr.reset({ previous: 100, candidate: 0 });
    expect(new Set(Array.from({ length: 50 }, () => rr.next()))).toEqual(new Set(['previous']));
    rr.reset({ previous: 75, candidate: 25 });
    const picks = Array.from({ length: 8 }, () => rr.next());
    expect(picks.filter((p) => p === 'candidate')).toHaveLength(2);
  });

  it('refuses all-zero weights', () => {
    expect(() => new SmoothWeightedRoundRobin({ a: 0, b: 0 }).next()).toThrow('every weight is 0');
  });
});

describe('startWeightedFront over two loopback servers', () => {
  const servers: Server[] = [];
  const urls: Record<string, string> = {};
  let front: WeightedFront;

  /** A server that answers with its name and echoes the body and path it got. */
  async function upstream(name: string): Promise<string> {
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => { body += c; });
      req.on('end', () => {
        res.writeHead(name === 'broken' ? 500 : 200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ name, path: req.url, method: req.method, body }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    servers.push(server);
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  beforeAll(async () => {
    urls.previous = await upstream('previous');
    urls.candidate = await upstream('candidate');
    front = await startWeightedFront({ previous: urls.previous, candidate: urls.candidate });
  });
  afterAll(async () => {
    await front?.close();
    for (const s of servers) await new Promise((r) => s.close(r));
  });

  const post = async (url: string) => {
    const res = await fetch(`${url}/v2/models/m/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"inputs":[]}' });
    return { status: res.status, upstream: res.headers.get(UPSTREAM_HEADER), body: await res.json() as Record<string, unknown> };
  };

  it('sends every request to the previous version until a step moves some, passing method, path and body through', async () => {
    const answers = await Promise.all(Array.from({ length: 5 }, () => post(front.url)));
    expect(answers.every((a) => a.status === 200 && a.upstream === 'previous' && a.body.name === 'previous')).toBe(true);
    expect(answers[0]!.body).toEqual({ name: 'previous', path: '/v2/models/m/infer', method: 'POST', body: '{"inputs":[]}' });
    expect(front.served).toEqual({ previous: 5, candidate: 0 });
  });

  it('splits 20 requests 2 / 18 at 10 % and 10 / 10 at 50 %, as the answers show', async () => {
    front.setCandidatePercent(10);
    const at10 = [];
    for (let i = 0; i < 20; i++) at10.push((await post(front.url)).body.name);
    expect(at10.filter((n) => n === 'candidate')).toHaveLength(2);
    front.setCandidatePercent(50);
    const at50 = [];
    for (let i = 0; i < 20; i++) at50.push((await post(front.url)).body.name);
    expect(at50.filter((n) => n === 'candidate')).toHaveLength(10);
    expect(front.candidatePercent).toBe(50);
  });

  it('answers 502 naming the upstream when one cannot be reached, and refuses a share out of range', async () => {
    const dead = await startWeightedFront({ previous: urls.previous!, candidate: 'http://127.0.0.1:9' }, 100);
    try {
      const answer = await post(dead.url);
      expect(answer.status).toBe(502);
      expect(answer.upstream).toBe('candidate');
      expect(String(answer.body.error)).toContain('the candidate version at http://127.0.0.1:9 did not answer');
      expect(() => dead.setCandidatePercent(101)).toThrow(RangeError);
      expect(() => dead.setCandidatePercent(2.5)).toThrow(RangeError);
    } finally {
      await dead.close();
    }
  });
});
