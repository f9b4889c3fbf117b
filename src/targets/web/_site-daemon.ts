// The detached local web server of a deployment: serves the release its release file names until
// SIGTERM; on SIGHUP it reads the release file again and serves the new release from the next
// request on, then writes the serving file. Started by startLocalSite; answers over IPC when ready.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { SERVE_FILE, serveLocally, type LocalSite, type SiteHeaders } from './serve-locally.js';

interface SiteRelease { version: string; outDir: string }

const [releaseFile, servingFile, port] = process.argv.slice(2) as [string, string, string];

function load(): { release: SiteRelease; siteDir: string; plan: SiteHeaders } {
  const release = JSON.parse(readFileSync(releaseFile, 'utf8')) as SiteRelease;
  return { release, siteDir: path.join(release.outDir, 'site'), plan: JSON.parse(readFileSync(path.join(release.outDir, SERVE_FILE), 'utf8')) as SiteHeaders };
}

/** Says which release answers now (written after the swap, renamed into place so a reader never sees half of it). */
function announce(release: SiteRelease): void {
  const tmp = `${servingFile}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify({ ...release, pid: process.pid, since: new Date().toISOString() })}\n`);
  renameSync(tmp, servingFile);
}

const note = (message: string) => console.log(`${new Date().toISOString()} deploy-model web server ${process.pid}: ${message}`);

let site: LocalSite | undefined;
try {
  const first = load();
  site = await serveLocally({ siteDir: first.siteDir, plan: first.plan, port: port ? Number(port) : undefined });
  announce(first.release);
  note(`serving version ${first.release.version} from ${first.siteDir} at ${site.url}`);
  process.send?.({ type: 'ready', url: site.url, port: site.port });
  process.disconnect?.();
} catch (e) {
  const err = e as { code?: string; message?: string };
  process.send?.({ type: 'failed', error: { code: err.code, message: err.message ?? String(e) } });
  process.exit(1);
}

process.on('SIGHUP', () => {
  try {
    const next = load();
    site!.replace(next);
    announce(next.release);
    note(`now serving version ${next.release.version} from ${next.siteDir}`);
  } catch (e) {
    // The release in service keeps answering; the deploy waiting for the serving file reports this line.
    note(`could not switch releases: ${(e as Error).message}`);
  }
});
const stop = () => { void site!.close().then(() => process.exit(0)); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
