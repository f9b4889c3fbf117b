// Sleeps `event.sleepMs`; counts invocations so a test can see the environment was replaced.
let invocations = 0;

export const handler = async (event) => {
  invocations += 1;
  const sleepMs = event?.sleepMs ?? 0;
  console.log(`sleeps: invocation ${invocations}, sleeping ${sleepMs} ms`);
  if (sleepMs > 0) await new Promise((r) => setTimeout(r, sleepMs));
  return { pid: process.pid, invocations };
};
