/** Where deploy-model keeps what it reuses across projects: `$XDG_CACHE_HOME/deploy-model`, else `~/.cache/deploy-model`. */
import os from 'node:os';
import path from 'node:path';

export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'deploy-model');
}
