/**
 * Entry point of a detached local deployment (see startDetached): receives the spec over IPC,
 * runs the function with its log on stdout (the deployment's log file), reports ready or failed,
 * and serves until SIGTERM. Run as a process, never imported.
 */
import { stop as stopEsbuild } from 'esbuild';
import { isDeployModelError } from '../errors.js';
import { startLocalFunction } from './local-function.js';
import type { DaemonReply, DaemonRequest } from './deployments.js';
import type { LocalFunction } from './types.js';

let fn: LocalFunction | undefined;
let stopping = false;

function reply(message: DaemonReply): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send || !process.connected) return resolve();
    process.send(message, undefined, {}, () => resolve());
  });
}

async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  process.stdout.write(`${new Date().toISOString()} deploy-model local daemon: ${signal}, stopping\n`);
  await fn?.stop().catch(() => undefined);
  process.exit(0);
}

process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
// The parent went away before handing over a spec: nothing to run.
process.once('disconnect', () => { if (!fn && !stopping) process.exit(1); });

process.once('message', (message: DaemonRequest) => {
  void (async () => {
    try {
      process.stdout.write(`${new Date().toISOString()} deploy-model local daemon ${process.pid}: starting ${message.spec.functionName}\n`);
      fn = await startLocalFunction({ ...message.spec, log: (line) => process.stdout.write(`${line}\n`) });
      // The bootstrap is bundled; the esbuild service process need not idle beside the function.
      await stopEsbuild().catch(() => undefined);
      const initError = fn.stats().initError;
      process.stdout.write(`${new Date().toISOString()} deploy-model local daemon: serving ${fn.url}\n`);
      await reply({ type: 'ready', url: fn.url, port: fn.port, ...(initError ? { initError } : {}) });
    } catch (error) {
      process.stdout.write(`${new Date().toISOString()} deploy-model local daemon: failed: ${String((error as Error)?.stack ?? error)}\n`);
      await reply({ type: 'failed', error: { code: isDeployModelError(error) ? error.code : undefined, message: (error as Error)?.message ?? String(error) } });
      process.exit(1);
    }
  })();
});
