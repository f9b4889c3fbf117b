// Fails in the ways a handler can fail; `event.mode` picks one.
export const handler = async (event) => {
  const mode = event?.mode ?? 'throw';
  console.error('throws: about to fail with', mode);
  if (mode === 'throw') throw new TypeError('handler failed on purpose');
  if (mode === 'exit') process.exit(3);
  if (mode === 'uncaught') {
    setTimeout(() => { throw new Error('uncaught on purpose'); }, 0);
    await new Promise((r) => setTimeout(r, 1000));
  }
  if (mode === 'ok') return { ok: true, pid: process.pid };
  return { unexpected: mode };
};
