// Holds native memory (outside V8's heap, as onnxruntime's is): `INIT_MB` at init, `event.mb`
// for the length of an invocation. Pages are written so they are really resident.
const held = [];
const touch = (mb) => {
  const b = Buffer.allocUnsafeSlow(mb * 1024 * 1024);
  b.fill(1);
  return b;
};
if (process.env.INIT_MB) held.push(touch(Number(process.env.INIT_MB)));

export const handler = async (event) => {
  const chunks = [];
  for (let i = 0; i < (event?.mb ?? 0); i += 16) chunks.push(touch(Math.min(16, event.mb - i)));
  await new Promise((r) => setTimeout(r, event?.holdMs ?? 50));
  return { allocatedMb: event?.mb ?? 0, pid: process.pid, rssMb: Math.round(process.memoryUsage().rss / 1048576), node: process.version };
};
