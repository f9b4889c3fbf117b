// An init that takes INIT_SLEEP_MS, like a large model being loaded.
const t0 = Date.now();
console.log('slow-init: loading');
await new Promise((r) => setTimeout(r, Number(process.env.INIT_SLEEP_MS ?? 0)));
const initMs = Date.now() - t0;

export const handler = async () => ({ initMs, pid: process.pid });
