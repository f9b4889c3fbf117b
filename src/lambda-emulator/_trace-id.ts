// Makes X-Ray trace headers of the shape Lambda hands its runtimes.
import { randomBytes } from 'node:crypto';

/** An X-Ray trace header of the shape Lambda hands its runtimes. */
export function newTraceId(now = Date.now()): string {
  const epoch = Math.floor(now / 1000).toString(16).padStart(8, '0');
  return `Root=1-${epoch}-${randomBytes(12).toString('hex')};Parent=${randomBytes(8).toString('hex')};Sampled=0`;
}
