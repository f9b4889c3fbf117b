// Finds the Chromium the web smoke test drives.
import { accessSync, constants } from 'node:fs';
import { DeployModelError } from '../../errors.js';

/** Environment variable naming the Chromium (or Chrome) binary the browser smoke test drives. */
export const CHROMIUM_ENV = 'DEPLOY_MODEL_CHROMIUM';

/** Where Debian's `chromium` package and the usual Chrome packages put the binary. */
export const CHROMIUM_CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable'];

/**
 * Flags for a headless run on a machine without a network besides the page's: no background
 * requests (they are refused and retried), no first-run UI, no GPU process. `--no-sandbox` only
 * as root, where Chromium refuses to start with its sandbox.
 */
export function chromiumArgs(options: { webgpu?: boolean } = {}): string[] {
  const args = ['--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
  if (process.getuid?.() === 0) args.push('--no-sandbox');
  // WebGPU without a GPU: Chromium's software adapter (SwiftShader over Vulkan); functional only.
  if (options.webgpu) args.push('--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-angle=swiftshader', '--use-webgpu-adapter=swiftshader');
  else args.push('--disable-gpu');
  return args;
}

const executable = (file: string): boolean => {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/** The Chromium binary to drive: `$DEPLOY_MODEL_CHROMIUM`, else the first of the usual places; undefined when none. */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const named = env[CHROMIUM_ENV];
  if (named) return named;
  return CHROMIUM_CANDIDATES.find(executable);
}

/** Like findChromium, but a coded error with the fix when there is none. */
export function requireChromium(env: NodeJS.ProcessEnv = process.env): string {
  const found = findChromium(env);
  if (found && executable(found)) return found;
  throw new DeployModelError('WEB_CHROMIUM_MISSING', `${found ? `${CHROMIUM_ENV}=${found} is not an executable` : `No Chromium found (looked at ${CHROMIUM_CANDIDATES.join(', ')})`}: the web target's smoke test opens the page in headless Chromium. Install it (Debian/Ubuntu: \`apt-get install chromium\`) or set ${CHROMIUM_ENV} to a Chromium or Chrome binary.`, { details: { candidates: CHROMIUM_CANDIDATES } });
}
